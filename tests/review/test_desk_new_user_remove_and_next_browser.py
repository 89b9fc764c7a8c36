"""Issue 13, coder item 10: ``x`` removes an added code; submit opens the next note.

No key removed a code the coder had added, and submitting always went back
to the desk. Now ``x`` (or Delete) removes the added code in focus, ``s``
submits and opens the next note, and ``S`` submits and returns to the desk.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django import Settings

from review.models import Decision, Review, ReviewTask
from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import predicted_notes
from tests.review.test_desk_browser import (
    NOTE_HEADING,
    coder,
    expect_current,
    expect_decided,
    screenshot,
    suggestion,
    take_next_note,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page, code_tables, code_set = desk_browser.page, desk_browser.code_tables, desk_browser.code_set


def add_code(page: Page, code: str, then_current: Locator) -> None:
    """Add ``code`` by keyboard; wait until htmx has settled the redraw
    (``then_current`` in focus again), as keys pressed earlier would follow
    a link htmx has not wired up yet."""
    page.keyboard.press("c")
    expect(page.locator("#add-code")).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.locator(".added li.added-code").filter(has_text=code)).to_have_count(1)
    expect_current(then_current)


def test_x_removes_the_added_code_in_focus_and_s_opens_the_next_note(
    page: Page, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    first, second = predicted_notes(2, codes=("I10",))
    user = coder("remover")
    take_next_note(page, str(live_server), user)
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_have_text(f"Note {first.external_id}")
    hypertension = suggestion(page, "I10")
    page.keyboard.press("a")
    expect_decided(hypertension, "accept")
    add_code(page, "E11.9", hypertension)
    add_code(page, "J45.909", hypertension)
    added = page.locator(".added li.added-code")
    expect(added).to_have_count(2)

    page.keyboard.press("j")
    expect_current(added.first)
    expect(added.first).to_contain_text("E11.9")
    page.keyboard.press("x")
    expect(added).to_have_count(1)
    expect(added.first).to_contain_text("J45.909")
    expect_current(added.first)  # the place is kept: x again removes the next one
    screenshot(page, "review-added-code-removed")
    review = Review.objects.get(coder=user, note=first)
    assert sorted(Decision.objects.filter(review=review).values_list("code", flat=True)) == [
        "I10",
        "J45909",
    ]

    page.keyboard.press("s")  # submit and next: the second note opens
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_have_text(
        f"Note {second.external_id}"
    )
    expect(page.get_by_text(f"Review of note {first.external_id} submitted.")).to_be_visible()
    review.refresh_from_db()
    assert review.status == Review.Status.SUBMITTED
    assert ReviewTask.objects.get(note=second).leased_by_id == user.pk

    expect_current(suggestion(page, "I10"))
    page.keyboard.press("a")
    expect_decided(suggestion(page, "I10"), "accept")
    page.keyboard.press("S")  # submit and return to the desk stays one key away
    expect(page.get_by_role("heading", name="Review desk")).to_be_visible()
    expect(page.get_by_text(f"Review of note {second.external_id} submitted.")).to_be_visible()
    assert Review.objects.get(coder=user, note=second).status == Review.Status.SUBMITTED
