"""A coder marks evidence by keyboard in a real browser; the SFT export has it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import AuditEvent
from review.desk.queue import review_tasks_materialize
from review.models import EvidenceSpan, ReviewTask
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import NOTE_TEXT
from tests.review.test_desk_browser import (
    expect_current,
    expect_decided,
    screenshot,
    suggestion,
    take_next_note,
)
from tests.training.export_support import note_in
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.splits import Split
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page = desk_browser.page

WORDS = "Essential hypertension"
AT = NOTE_TEXT.index(WORDS)

# Where the word "Essential" is drawn in the note, for the mouse.
WORD_CENTRE = """() => {
    const note = document.getElementById("note-text");
    const walker = document.createTreeWalker(note, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf("Essential");
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + "Essential".length);
        const box = range.getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }
    return null;
}"""


def wait_for_a_new_note_panel(page: Page, press: str) -> None:
    """Press ``press`` and wait until htmx has drawn the note panel again."""
    page.evaluate("document.getElementById('note-text').dataset.old = 'yes'")
    page.keyboard.press(press)
    expect(page.locator("#note-text[data-old]")).to_have_count(0)


def test_evidence_marked_by_keyboard_reaches_the_sft_export(
    page: Page, live_server: object, settings: Settings, tmp_path: Path
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    settings.STORAGE_DIR = tmp_path / "storage"
    note = note_in(Split.TRAIN, codes=("E1165", "I10", "E119"), prefix="evidence")
    # note_in leaves notes of other splits in the queue: this one comes first.
    review_tasks_materialize(zero_shot_version_ensure())
    ReviewTask.objects.filter(note=note).update(priority=1)
    user = user_create(email="marker@example.org", password=PASSWORD, roles=[Role.CODER])
    take_next_note(page, str(live_server), user)
    hyperglycemia, hypertension, uncomplicated = (
        suggestion(page, "E11.65"),
        suggestion(page, "I10"),
        suggestion(page, "E11.9"),
    )

    page.keyboard.press("j")
    expect_current(hypertension)
    page.keyboard.press("a")
    expect_decided(hypertension, "accept")
    expect_current(uncomplicated)
    wait_for_a_new_note_panel(page, "k")
    expect_current(hypertension)

    # Select "Essential" with the mouse, then the next word by keyboard.
    centre = page.evaluate(WORD_CENTRE)
    page.mouse.dblclick(centre["x"], centre["y"])
    for _ in " hypertension":
        page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString()") == WORDS
    page.keyboard.press("v")

    chips = hypertension.locator(".evidence-chip q")
    expect(chips).to_have_text([WORDS])
    expect(hypertension.locator(".coder-evidence-list")).to_contain_text("Your evidence")
    expect(page.locator("#note-text mark.coder-evidence")).to_have_text(WORDS)
    expect_current(hypertension)  # marking keeps the row, for more evidence
    screenshot(page, "review-coder-evidence")

    page.keyboard.press("k")
    expect_current(hyperglycemia)
    page.keyboard.press("a")
    expect_decided(hyperglycemia, "accept")
    expect_current(uncomplicated)
    page.keyboard.press("a")
    expect_decided(uncomplicated, "accept")
    page.keyboard.press("s")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()

    stored = EvidenceSpan.objects.get()
    assert (stored.start, stored.end, stored.text) == (AT, AT + len(WORDS), WORDS)
    assert AuditEvent.objects.filter(actor=user, kind="evidence_marked").count() == 1

    admin = user_create(email="exporter@example.org", password=PASSWORD, roles=[Role.ADMIN])
    snapshot = export_snapshot_create(kind="sft", filters={}, created_by=admin)
    snapshot = export_snapshot_write(snapshot_id=snapshot.pk)
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    assert snapshot.path is not None
    (row,) = map(json.loads, (snapshot.path / "train.jsonl").read_text().splitlines())
    assert row["metadata"]["note_id"] == note.pk
    assert row["evidence"] == [{"code": "I10", "start": AT, "end": AT + len(WORDS), "text": WORDS}]
