"""What the browser tests of issue 13's auditor items share (no tests here).

A module takes the fixtures by assignment (``code_set = support.code_set``):
the code set copied back after each flush instead of parsed again, and a
page at a laptop's size that waits for its requests before the flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import User
from review.desk import decisions, queue
from review.models import Review
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk
from tests.test_browser_base import sign_in
from worker.models import Suggestion

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "auditor"
SCREEN: ViewportSize = {"width": 1366, "height": 900}

code_tables = desk.code_tables
code_set = desk.code_set
__all__ = ["code_set", "code_tables"]


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """A laptop-sized page, kept from racing the flush that ends the test."""
    page.set_viewport_size(SCREEN)
    pending = desk.requests_in_flight(page)
    yield page
    desk.leave(page, pending)


def person(name: str, role: Role) -> User:
    return user_create(email=f"{name}@example.org", password=PASSWORD, roles=[role])


def auditor_signed_in(page: Page, base_url: str, name: str = "audrey") -> User:
    auditor = person(name, Role.AUDITOR)
    sign_in(page, base_url, auditor)
    expect(page.get_by_role("heading", name="Agreement statistics")).to_be_visible()
    return auditor


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def desk_review(
    coder: User,
    *,
    choices: dict[str, decisions.DecisionInput] | None = None,
    added: tuple[str, ...] = (),
) -> Review:
    """The next note reviewed through the desk's services (so the trail
    holds the events a coder's work writes): each suggestion accepted unless
    ``choices`` says otherwise, ``added`` codes added, then submitted."""
    review = queue.lease_next(coder)
    assert review is not None, "no note is waiting"
    for suggestion in Suggestion.objects.filter(prediction=review.prediction).order_by("rank"):
        choice = (choices or {}).get(suggestion.code, decisions.DecisionInput(action="accept"))
        decisions.decide(
            review_id=review.pk, coder=coder, suggestion_id=suggestion.pk, choice=choice
        )
    for code in added:
        decisions.code_add(review_id=review.pk, coder=coder, code=code)
    return decisions.review_submit(review_id=review.pk, coder=coder)
