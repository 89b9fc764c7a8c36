"""Issue 13, auditor item 4: charts that read at a glance: titles and axes
on every chart, one week drawn as a labelled point, chapters by number with
the name on hover, and an empty selection said in words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from review.stats.rollup import stats_refresh
from tests.review import audit_new_user_support as support
from tests.review.stats_support import note_with, review_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables, code_set, page = support.code_tables, support.code_set, support.page


def test_the_overview_charts_read_at_a_glance(page: Page, live_server: object) -> None:
    ann, bob = support.person("ann", Role.CODER), support.person("bob", Role.CODER)
    for i in range(2):  # all in one week (stats_support.MONDAY)
        note = note_with(["E1165", "I10", "J449"], prefix=f"w{i}")
        review_submit(note, ann, {"J449": "reject"}, slot=1)
        review_submit(note, bob, slot=2)
    stats_refresh()
    base = str(live_server)
    support.auditor_signed_in(page, base)

    trend = page.locator("svg[aria-label^='F1 (micro, code level)']")
    expect(trend.locator("text.chart-title")).to_have_text(
        "F1 (micro, code level) per week and model version"
    )
    expect(trend).to_contain_text("Week (starting Monday)")
    expect(trend).to_contain_text("F1 (micro)")
    # One week: a labelled point in the middle of the axis, not a dot in a corner.
    point = trend.locator("circle")
    expect(point).to_have_count(1)
    box, dot = trend.bounding_box(), point.bounding_box()
    assert box is not None
    assert dot is not None
    assert box["x"] + box["width"] * 0.3 < dot["x"] < box["x"] + box["width"] * 0.7
    # Its value is written beside it (micro F1 over the four reviews).
    expect(trend.locator("text", has_text=re.compile(r": 0\.9[01]$"))).to_have_count(1)

    chapters = page.locator("svg[aria-label='F1 at full-code level per chapter']")
    expect(chapters.locator("text.chart-title")).to_be_visible()
    label = chapters.locator("text", has_text="Chapter 4")
    expect(label).to_have_count(1)
    # The chapter's name is on hover, whole.
    expect(label.locator("title")).to_contain_text("Chapter 4: Endocrine, nutritional")
    support.screenshot(page, "overview-one-week")

    page.goto(f"{base}/desk/audit/?since=2031-01-05&until=2031-01-11")
    for name in ("F1 (micro, code level)", "F1 at full-code level per chapter"):
        empty = page.locator(f"svg[aria-label^='{name}']")
        expect(empty.locator("text.chart-empty")).to_contain_text("No submitted review")
        expect(empty.locator("text.chart-title")).to_be_visible()
    page.goto(f"{base}/desk/audit/coders/?since=2031-01-05&until=2031-01-11")
    for empty in page.locator("svg.chart").all():
        expect(empty.locator("text.chart-title")).to_be_visible()
        expect(empty.locator("text.chart-empty")).to_contain_text("No submitted review")
