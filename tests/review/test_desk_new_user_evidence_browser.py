"""Issue 13, coder item 9: each code's highlight is the sentence(s) that
support that code.

The note joins sentences at ". <" (markup after a full stop), where the old
splitter merged them: one highlight then covered the NSTEMI and the history
sentence, and different codes got identical highlights. The prediction here
is the zero-shot backend's own (a code index of the five codes, built in
seconds), so the test covers the splitter, the evidence rule and the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.codes.store import current_hierarchy
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk_browser
from tests.review.test_desk_browser import (
    expect_current,
    screenshot,
    suggestion,
    take_next_note,
)
from worker.backends.base import BackendSpec, NoteText
from worker.backends.embedding.backend import EmbeddingBackend
from worker.backends.embedding.encoder import PACKAGED_ENCODER
from worker.models import Note, Suggestion, UploadBatch
from worker.predictions.services import predictions_store
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page = desk_browser.page

# Each code's own sentence; "Admitted with chest pain." supports none alone.
SENTENCES = {
    "I21.4": "Non-ST elevation myocardial infarction (NSTEMI) confirmed by rising troponin.",
    "I10": "<b>History</b> of essential hypertension.",
    "E11.65": "<i>Known</i> type 2 diabetes mellitus with hyperglycemia.",
    "N18.30": "<u>Chronic</u> kidney disease stage 3.",
    "J18.9": "<b>Chest X-ray</b>: pneumonia of the right lower lobe.",
}
TEXT = "Admitted with chest pain.\n" + " ".join(SENTENCES.values()) + "\n"


def zero_shot_note(cache_dir: Path) -> Note:
    """The note, predicted by the embedding backend over the five codes."""
    hierarchy = current_hierarchy()
    keys = {code.replace(".", "") for code in SENTENCES}
    spec = BackendSpec(
        name="evidence-test",
        backend="embedding",
        base_model=PACKAGED_ENCODER,
        adapter_path="",
        options={"threshold": 0.001},  # keep all five: the test is about evidence
    )
    backend = EmbeddingBackend(
        spec,
        hierarchy,
        cache_dir=cache_dir,
        release_key="evidence-test",
        entries=[entry for entry in hierarchy if entry.code in keys],
    )
    batch = UploadBatch.objects.create(source="evidence", file_name="e.jsonl", status="done")
    note = Note.objects.create(
        source="evidence", external_id="nstemi-1", text=TEXT, text_sha256="nstemi-1", batch=batch
    )
    (prediction,) = backend.predict([NoteText(note_id=note.pk, text=TEXT)])
    assert {code.code for code in prediction.codes} == keys
    predictions_store([prediction], version=zero_shot_version_ensure(), job=None)
    return note


def test_each_code_highlights_only_its_own_sentences(
    page: Page, live_server: object, settings: Settings, tmp_path: Path
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    note = zero_shot_note(tmp_path / "index")
    user = user_create(email="evidence@example.org", password=PASSWORD, roles=[Role.CODER])
    take_next_note(page, str(live_server), user)

    order = [
        Suggestion.objects.get(pk=int(pk)).code
        for pk in page.locator("#work li.suggestion").evaluate_all(
            "rows => rows.map(row => row.dataset.suggestion)"
        )
    ]
    highlights: dict[str, tuple[str, ...]] = {}
    for index, key in enumerate(order):
        code = next(c for c in SENTENCES if c.replace(".", "") == key)
        if index:
            page.keyboard.press("j")
        expect_current(suggestion(page, code))
        marks = page.locator("#note-text mark")
        expect(marks.filter(has_text=SENTENCES[code])).to_have_count(1)
        highlights[code] = tuple(marks.all_inner_texts())
        others = [s for c, s in SENTENCES.items() if c != code]
        assert not [s for s in others if any(s in mark for mark in highlights[code])], (
            code,
            highlights[code],
        )
        if code == "I21.4":
            screenshot(page, "issue13-coder-9-nstemi-evidence")
    assert len(set(highlights.values())) == len(SENTENCES), highlights
    assert note.text == TEXT
