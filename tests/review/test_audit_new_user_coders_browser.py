"""Issue 13, auditor item 2: the coders page counts the time a quick review
took (it read "Median s 0"), says what a rubber stamp is in a sentence, and
titles its charts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from review.models import Review
from review.stats.rollup import stats_refresh
from tests.review import audit_new_user_support as support
from tests.review import test_desk_browser as desk
from tests.review.conftest import predicted_notes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables, code_set, page = support.code_tables, support.code_set, support.page


def test_a_quick_review_counts_its_seconds_on_the_coders_page(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    ann = support.person("ann", Role.CODER)
    (note,) = predicted_notes(1, codes=("E1165", "I10"))
    desk.take_next_note(page, base, ann)
    # Well under the heartbeat's minute: no beat reaches the server before
    # the submission (and the one sent as the page goes is answered in the
    # browser by the fixture), so only the submission can carry the time.
    page.wait_for_timeout(3_000)
    page.keyboard.press("a")
    desk.expect_decided(desk.suggestion(page, "E11.65"), "accept")
    page.keyboard.press("a")
    desk.expect_decided(desk.suggestion(page, "I10"), "accept")
    page.keyboard.press("s")
    expect(page.get_by_text(f"Review of note {note.external_id} submitted.")).to_be_visible()

    review = Review.objects.get(note=note)
    assert review.status == Review.Status.SUBMITTED
    assert review.seconds_on_task >= 3.0, "the time before the submission was lost"
    shown = f"{review.seconds_on_task:.0f} s"

    stats_refresh()
    page.context.clear_cookies()
    support.auditor_signed_in(page, base)
    page.get_by_role("link", name="Coders", exact=True).click()
    row = page.locator("tbody tr").filter(has_text=ann.email)
    expect(row.locator("td").nth(2)).to_have_text(shown)
    expect(page.get_by_role("columnheader", name="Median time per note")).to_be_visible()
    expect(page.locator("#rubber-stamp-rule")).to_contain_text(
        "when the coder accepted every suggestion, spending less than 5 seconds per suggested "
        "code, on a double-coded note where the other coder rejected or replaced at least one"
    )
    titles = page.locator("svg text.chart-title")
    expect(titles).to_have_text(
        ["Share of suggestions accepted as is, per coder", "Median time per note, per coder"]
    )
    support.screenshot(page, "coders")

    # The note's page says the same time.
    page.goto(f"{base}/desk/audit/notes/{note.pk}/")
    expect(page.get_by_role("heading", name=f"Slot 1: {ann.email}")).to_contain_text(shown)
