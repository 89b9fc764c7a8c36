"""An auditor reads the statistics in Chromium: charts, tables, sorting."""

from __future__ import annotations

import os
from collections.abc import Callable

from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.stats.rollup import stats_refresh
from tests.review.stats_support import note_with, review_submit
from tests.test_browser_base import sign_in


def test_an_auditor_reads_charts_and_sorts_the_code_table(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    for i in range(3):
        note = note_with(["E1165", "I10", "E119"], prefix=f"b{i}")
        review_submit(note, first, {"E119": "reject"}, slot=1)
        review_submit(note, second, {"E1165": "E1169"} if i else {}, slot=2, added=["J449"])
    stats_refresh()
    sign_in(page, str(live_server), make_user(Role.AUDITOR))
    page.get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name="Agreement statistics")).to_be_visible()
    expect(page.locator("svg[aria-label^='F1 (micro, code level)']")).to_be_visible()
    expect(page.locator("svg[aria-label='F1 at full-code level per chapter']")).to_be_visible()
    if os.environ.get("STATS_SCREENSHOTS"):
        page.screenshot(path=os.environ["STATS_SCREENSHOTS"] + "/overview.png", full_page=True)
    page.get_by_role("link", name="Per code").click()
    page.get_by_role("link", name="F1", exact=True).click()
    first_row = page.locator("tbody tr").first
    expect(first_row.locator("td").first).to_have_text("I10")  # F1 1.0, sorted high to low
    page.get_by_role("link", name="Coder vs coder").click()
    expect(page.get_by_text("On 3 blind double-coded notes")).to_be_visible()
    if os.environ.get("STATS_SCREENSHOTS"):
        page.screenshot(path=os.environ["STATS_SCREENSHOTS"] + "/agreement.png", full_page=True)
