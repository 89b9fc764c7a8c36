"""Issue 13, coder item 2: a review without a code needs a confirmation.

On a note with no suggestions, ``s`` used to submit an empty review at
once. Now it asks whether the note documents no codable diagnosis; the
answer is stored on the review, and the server refuses an empty review
without it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django import Settings

from coding_app.models import AuditEvent
from review.desk.decisions import NO_CODES_REFUSAL
from review.desk.queue import lease_next
from review.models import Review
from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import predicted_notes
from tests.review.test_desk_browser import (
    NOTE_HEADING,
    coder,
    open_desk,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page, code_tables, code_set = desk_browser.page, desk_browser.code_tables, desk_browser.code_set


def test_s_on_a_note_without_codes_asks_for_the_confirmation_and_stores_it(
    page: Page, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    (note,) = predicted_notes(1, codes=())
    user = coder("nocodes")
    open_desk(page, str(live_server), user)
    page.keyboard.press("N")
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_be_visible()
    expect(page.locator("#work")).to_contain_text("The model suggested no codes")
    page.wait_for_load_state("load")
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if "/submit/" in r.url else None)

    question = page.get_by_role("dialog", name="Submit without a code?")
    page.keyboard.press("s")
    expect(question).to_be_visible()
    expect(page.locator("#no-codes-yes")).to_be_focused()
    screenshot(page, "review-no-codes-confirmation")
    page.keyboard.press("Escape")  # back to the note: nothing was sent
    expect(question).to_be_hidden()
    assert submits == []
    assert Review.objects.get(coder=user).status == Review.Status.DRAFT

    page.keyboard.press("s")
    expect(question).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()
    review = Review.objects.get(coder=user)
    assert (review.status, review.no_codable_diagnosis) == (Review.Status.SUBMITTED, True)
    event = AuditEvent.objects.get(kind="review_submitted", review_id=review.pk)
    assert (event.payload["final_codes"], event.payload["no_codable_diagnosis"]) == ([], True)


def test_the_server_refuses_an_empty_review_without_the_confirmation(
    settings: Settings,
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    predicted_notes(1, codes=())
    user = coder("refused")
    review = lease_next(user)
    assert review is not None
    client = Client()
    client.force_login(user)
    url = reverse("review:submit", args=[review.pk])

    response = client.post(url, {"then": "next"}, HTTP_HX_REQUEST="true")
    assert NO_CODES_REFUSAL in response.content.decode()
    assert Review.objects.get(pk=review.pk).status == Review.Status.DRAFT

    response = client.post(url, {"no_codable_diagnosis": "1"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("review:desk_home")
    assert Review.objects.get(pk=review.pk).no_codable_diagnosis is True
