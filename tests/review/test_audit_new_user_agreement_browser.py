"""Issue 13, auditor item 3: with no double-coded notes, coder against coder
says so instead of printing F1 0.000 on 0 notes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from review.stats.rollup import stats_refresh
from tests.review import audit_new_user_support as support
from tests.review.stats_support import note_with, review_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables, code_set, page = support.code_tables, support.code_set, support.page


def test_coder_vs_coder_says_there_is_nothing_to_compare_yet(
    page: Page, live_server: object
) -> None:
    ann = support.person("ann", Role.CODER)
    for i in range(2):  # reviewed once each: nothing to compare
        review_submit(note_with(["E1165", "I10"], prefix=f"single{i}"), ann)
    stats_refresh()
    support.auditor_signed_in(page, str(live_server))
    page.get_by_role("link", name="Coder vs coder").click()
    agreement = page.locator("section.card").filter(has_text="Coder against coder")
    expect(agreement.locator("#no-double-coding")).to_contain_text("No double-coded notes yet.")
    expect(agreement).not_to_contain_text("0.000")
    kappa = page.locator("section.card").filter(has_text="Cohen's kappa per code")
    expect(kappa).to_contain_text("No double-coded notes yet")
    expect(kappa.locator("svg")).to_have_count(0)
    support.screenshot(page, "agreement-empty")
