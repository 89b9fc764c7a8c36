"""Issue 13, auditor item 1: the audit trail reads as sentences with links,
and the auditors' own statistics views stay out of the way unless asked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from review.desk.decisions import DecisionInput
from tests.review import audit_new_user_support as support
from tests.review.conftest import predicted_notes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables, code_set, page = support.code_tables, support.code_set, support.page


def test_the_trail_says_what_each_event_was_and_hides_statistics_views(
    page: Page, live_server: object
) -> None:
    ann = support.person("ann", Role.CODER)
    (note,) = predicted_notes(1, codes=("E1165", "I10", "E119"))
    review = support.desk_review(
        ann,
        choices={
            "I10": DecisionInput(action="replace", replacement="I119"),
            "E119": DecisionInput(action="reject", reason="not_documented"),
        },
        added=("I2510",),
    )
    base = str(live_server)
    support.auditor_signed_in(page, base)  # lands on the statistics: one view recorded
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()

    details = page.locator("td.event-details")
    expect(details.first).to_be_visible()
    for cell in details.all_inner_texts():
        assert "{" not in cell, f"raw data in the trail: {cell}"
        assert "'" not in cell, f"raw data in the trail: {cell}"
    rows = page.locator("tbody tr")
    decided = rows.filter(has_text="Decision made")
    expect(decided.filter(has_text=f"Accepted E11.65 in review {review.pk}.")).to_have_count(1)
    expect(decided.filter(has_text="Replaced I10 with I11.9, a ")).to_have_count(1)
    expect(decided.filter(has_text="Rejected E11.9 (not documented)")).to_have_count(1)
    expect(decided.filter(has_text="Added I25.10, a code the model did not suggest")).to_have_count(
        1
    )
    submitted = rows.filter(has_text="Review submitted").locator("td.event-details")
    expect(submitted).to_contain_text(
        re.compile(rf"Submitted review {review.pk} of note {note.external_id} with 3 codes: ")
    )
    # The sentence's note is a link to the auditor's page of that note.
    submitted.get_by_role("link", name=note.external_id).click()
    expect(page.get_by_role("heading", name=f"Note {note.external_id}")).to_be_visible()
    expect(page.locator("td.event-details").filter(has_text="Took note")).to_have_count(1)
    page.go_back()

    # The auditor's own reading of the statistics is hidden by default...
    expect(page.locator("tr[data-kind='stats_viewed']")).to_have_count(0)
    hidden = page.locator(".hidden-stats-views")
    expect(hidden).to_contain_text("1 statistics view by auditors and admins is hidden")
    support.screenshot(page, "trail-sentences")
    # ...and one click shows it, in words.
    hidden.get_by_role("link", name="show them").click()
    expect(page.get_by_label("Show statistics views")).to_be_checked()
    viewed = page.locator("tr[data-kind='stats_viewed'] td.event-details")
    expect(viewed).to_have_text("Read the statistics page Model vs coders (everything).")
    viewed.get_by_role("link", name="Model vs coders").click()
    expect(page.get_by_role("heading", name="Agreement statistics")).to_be_visible()
