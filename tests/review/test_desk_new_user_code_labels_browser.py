"""Issue 13, coder item 8: every code a person reads is dotted and described.

The prediction is stored as an older backend wrote it (``R079 (0.115)`` in
its reasoning); the stored text stays, the pages dot and describe it: the
coder's review page, the auditor's note page and the admin's note page.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import User
from tests.browser import ACTION_TIMEOUT_MS
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import NOTE_TEXT
from tests.review.test_desk_browser import (
    expect_current,
    expect_decided,
    screenshot,
    take_next_note,
)
from tests.test_browser_base import sign_in
from worker.backends.base import NotePrediction, SuggestedCode
from worker.models import Note, UploadBatch
from worker.predictions.services import predictions_store
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page = desk_browser.page

CODES = ("I214", "R079", "Z720")
REASONING = "Kept 3 code(s) scoring 0.015 or more: I214 (0.320), R079 (0.115), Z720 (0.050)."
NSTEMI = "I21.4 Non-ST elevation (NSTEMI) myocardial infarction"
CHEST_PAIN = "R07.9 Chest pain, unspecified"
TOBACCO = "Z72.0 Tobacco use"
# A stored key on a page: the code without its dot.
UNDOTTED = re.compile(r"\b(I214|R079|Z720)\b")


def stored_note() -> Note:
    batch = UploadBatch.objects.create(source="labels", file_name="labels.jsonl", status="done")
    note = Note.objects.create(
        source="labels",
        external_id="labels-1",
        text=NOTE_TEXT,
        text_sha256="labels-1",
        batch=batch,
        reference_codes=["I214", "R079"],
    )
    prediction = NotePrediction(
        note_id=note.pk,
        codes=tuple(
            SuggestedCode(code=code, score=0.9 - rank / 10, evidence=((0, 20),), rationale="")
            for rank, code in enumerate(CODES)
        ),
        reasoning=REASONING,
        raw_output="{}",
        prompt_version="old-v0",
    )
    predictions_store([prediction], version=zero_shot_version_ensure(), job=None)
    return note


def open_as(browser: Browser, base_url: str, user: User, path: str) -> Page:
    other = browser.new_context().new_page()
    other.set_default_timeout(ACTION_TIMEOUT_MS)
    other.route("**/heartbeat/", lambda route: route.fulfill(status=204))
    sign_in(other, base_url, user)
    expect(other.get_by_role("navigation", name="Main")).to_be_visible()
    other.goto(f"{base_url}{path}")
    return other


def test_codes_are_dotted_and_described_on_every_page(
    page: Page, browser: Browser, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    base = str(live_server)
    note = stored_note()
    coder = user_create(email="labels@example.org", password=PASSWORD, roles=[Role.CODER])
    take_next_note(page, base, coder)

    rows = page.locator("#work li.suggestion")
    for index in range(len(CODES)):
        expect_current(rows.nth(index))
        page.keyboard.press("a")
        expect_decided(rows.nth(index), "accept")
    expect(page.locator("#submit-review")).not_to_have_attribute("aria-disabled", "true")
    page.get_by_text("The model's reasoning").click()
    reasoning = page.locator("pre.reasoning")
    expect(reasoning).to_have_text(
        f"Kept 3 code(s) scoring 0.015 or more: {NSTEMI} (0.320), {CHEST_PAIN} (0.115), "
        f"{TOBACCO} (0.050)."
    )
    expect(page.locator("#work")).not_to_contain_text(UNDOTTED)
    screenshot(page, "issue13-coder-8-reasoning-dotted")
    page.keyboard.press("s")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()

    auditor = user_create(email="labels-a@example.org", password=PASSWORD, roles=[Role.AUDITOR])
    audit = open_as(browser, base, auditor, reverse("review:audit_note", args=[note.pk]))
    models, reviews = (
        audit.locator("section", has=audit.get_by_role("heading", name=name))
        for name in ("What the models said", "Reviews")
    )
    expect(models.locator("li")).to_have_text([NSTEMI, CHEST_PAIN, TOBACCO])
    expect(reviews.locator("li")).to_have_text(
        [f"Accept {c}" for c in (NSTEMI, CHEST_PAIN, TOBACCO)]
    )
    expect(audit.locator("main")).not_to_contain_text(UNDOTTED)
    screenshot(audit, "issue13-coder-8-audit-note-dotted")
    audit.context.close()

    admin = user_create(email="labels-m@example.org", password=PASSWORD, roles=[Role.ADMIN])
    detail = open_as(browser, base, admin, reverse("worker:note_detail", args=[note.pk]))
    expect(detail.get_by_text(f"Reference codes: {NSTEMI}; {CHEST_PAIN}.")).to_be_visible()
    expect(detail.locator("ol.suggestions li strong")).to_have_text([NSTEMI, CHEST_PAIN, TOBACCO])
    detail.get_by_text("Reasoning", exact=True).click()
    expect(detail.locator("pre.reasoning")).to_contain_text(f"{NSTEMI} (0.320)")
    expect(detail.locator("main")).not_to_contain_text(UNDOTTED)
    screenshot(detail, "issue13-coder-8-note-detail-dotted")
    detail.context.close()
