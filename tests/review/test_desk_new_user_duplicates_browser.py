"""Issue 13, coder item 5: replacing a suggestion with a code already in the
final set warns next to the codes and at submit; the diff is drawn from the
final set, which holds the code once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from review.desk.decisions import final_codes
from review.models import Review
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import predicted_notes
from tests.review.test_desk_browser import (
    expect_current,
    expect_decided,
    screenshot,
    suggestion,
    take_next_note,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
page = desk_browser.page

ALREADY = "I21.4 is already in your codes"


def test_a_replacement_already_accepted_is_warned_and_counted_once(
    page: Page, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    user = user_create(email="dup@example.org", password=PASSWORD, roles=[Role.CODER])
    (note,) = predicted_notes(1, codes=("I214", "I222", "I10"), prefix="dup")
    take_next_note(page, str(live_server), user)
    nstemi, subsequent, hypertension = (
        suggestion(page, "I21.4"),
        suggestion(page, "I22.2"),
        suggestion(page, "I10"),
    )

    expect_current(nstemi)
    page.keyboard.press("a")
    expect_decided(nstemi, "accept")
    expect_current(subsequent)
    page.keyboard.press("e")
    expect(subsequent.locator("input.replacement")).to_be_focused()
    page.keyboard.type("I21.4")
    page.keyboard.press("Enter")
    expect_decided(subsequent, "replace")

    # Next to both codes: where else the code comes from, and that it counts once.
    expect(subsequent.locator(".duplicate")).to_have_text(f"{ALREADY} (accepted); it counts once.")
    expect(nstemi.locator(".duplicate")).to_have_text(
        f"{ALREADY} (replacing I22.2); it counts once."
    )
    expect(hypertension.locator(".duplicate")).to_have_count(0)
    # The diff pairs the final set's I21.4 once and says why I22.2 is alone.
    expect(page.locator(".diff-table tbody tr")).to_have_text(
        [
            re.compile(r"^I21\.4 .*I21\.4 .*Exact$"),
            re.compile(r"^I22\.2 .*Only the model: you replaced it with I21\.4, already in"),
            re.compile(r"^I10 .*Only the model$"),  # not decided yet
        ]
    )
    expect_current(hypertension)
    page.keyboard.press("a")
    expect_decided(hypertension, "accept")
    # At submit: the warning sits beside the button, which still submits.
    expect(page.locator(".submit-form .duplicate")).to_have_text(
        "I21.4 is in your codes 2 times (accepted, replacing I22.2); it counts once."
    )
    expect(page.locator("#submit-review")).not_to_have_attribute("aria-disabled", "true")
    screenshot(page, "issue13-coder-5-duplicate-warned")

    page.keyboard.press("s")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()
    review = Review.objects.get(note=note)
    assert review.status == Review.Status.SUBMITTED
    assert final_codes(review) == {"I214", "I10"}
