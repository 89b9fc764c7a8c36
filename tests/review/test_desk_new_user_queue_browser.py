"""Issue 13, coder item 1: the desk counts every stored prediction.

The desk said "No note is waiting for review" while hundreds of
predictions existed, because review tasks were only made when someone
pressed "Next note". Tasks now come with the predictions, and the ones
stored before that get theirs from a data migration.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from playwright.sync_api import Page, expect
from pytest_django import Settings

from review.models import Review, ReviewTask
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


backfill_migration = importlib.import_module("review.migrations.0009_review_tasks_backfill")


def expect_waiting(page: Page, count: int) -> None:
    noun = "note" if count == 1 else "notes"
    expect(page.locator("#queue-count")).to_contain_text(f"{count} {noun} waiting for you")


def test_the_desk_counts_stored_predictions_before_anyone_presses_next_note(
    page: Page, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # the live server shares this process
    predicted_notes(3)
    # The tasks exist as soon as the predictions do, not on the first press.
    assert ReviewTask.objects.filter(state=ReviewTask.State.OPEN).count() == 3

    user = coder("counted")
    open_desk(page, str(live_server), user)
    expect_waiting(page, 3)
    screenshot(page, "desk-queue-counted")

    page.keyboard.press("N")
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_be_visible()
    page.goto(f"{live_server}/desk/")
    # The note in hand is no longer waiting; the count follows Next note.
    expect_waiting(page, 2)
    assert Review.objects.filter(coder=user).count() == 1


def test_predictions_stored_before_the_change_are_counted_after_the_migration(
    page: Page, live_server: object, settings: Settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    predicted_notes(2)
    ReviewTask.objects.all().delete()  # a database from before: predictions, no task

    backfill_migration.backfill(None, SimpleNamespace(connection=connection))
    backfill_migration.backfill(None, SimpleNamespace(connection=connection))  # idempotent

    assert ReviewTask.objects.count() == 2
    open_desk(page, str(live_server), coder("migrated"))
    expect_waiting(page, 2)
    page.keyboard.press("N")
    expect(page.get_by_role("heading", name=NOTE_HEADING)).to_be_visible()
