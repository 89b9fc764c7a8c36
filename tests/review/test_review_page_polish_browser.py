"""The review page as the issue 13 screenshots showed it, fixed: code fields
styled as the page's other fields, Shift+S said as such, what holds the
submit back on a line of its own, and related suggestions said in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import FloatRect, Locator, Page, ViewportSize, expect

from tests.review import test_desk_browser as desk_browser
from tests.review.conftest import predicted_notes
from tests.review.test_desk_browser import (
    coder,
    screenshot,
    suggestion,
    take_next_note,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
code_tables, code_set = desk_browser.code_tables, desk_browser.code_set

__all__ = ["code_set", "code_tables"]  # fixtures, shared with test_desk_browser

SCREEN = ViewportSize(width=1280, height=900)
FIELD_LOOK = """e => {
    const s = getComputedStyle(e);
    return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor, s.borderTopLeftRadius];
}"""


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def test_code_fields_keys_and_the_submit_line_read_as_the_rest_of_the_page(
    page: Page, live_server: object
) -> None:
    page.set_viewport_size(SCREEN)
    predicted_notes(1, codes=("E1165", "E119", "I10"))
    take_next_note(page, str(live_server), coder("polish"))
    first = suggestion(page, "E11.65")

    # A lone "Same category of E11.9" said nothing; the sentence says what.
    expect(first.locator(".related")).to_have_text(
        "Also suggested, related to this code: E11.9 (same category)"
    )

    # Both code fields look like the reason select beside them, and are
    # wide enough for a code with its dot.
    select_look = first.locator("select.reason").evaluate(FIELD_LOOK)
    for field in (first.locator("input.replacement"), page.locator("#add-code")):
        assert field.evaluate(FIELD_LOOK) == select_look
        assert box(field)["width"] >= 140

    # Submit-and-return is Shift+S, and says so.
    back = page.locator("#submit-return")
    expect(back.locator("kbd")).to_have_text(["Shift", "S"])

    # "3 suggestions still open." is one line above the buttons, not split
    # round them.
    hint = page.locator(".submit-form .open-count")
    expect(hint).to_have_text("3 suggestions still open.")
    font = hint.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert box(hint)["height"] < 2 * font
    assert box(hint)["y"] + box(hint)["height"] <= box(page.locator("#submit-review"))["y"]
    screenshot(page, "review-page-polish")
