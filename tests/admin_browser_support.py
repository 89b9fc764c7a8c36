"""What the browser tests of issue 13's admin items share.

A module takes the fixtures by assignment (``code_set = support.code_set``):
the code set copied back after each flush instead of parsed again and pages
that wait for their requests before the flush (``tests.browser`` warms the
server before the browser's first request).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import User
from tests.conftest import PASSWORD
from tests.review import test_desk_browser as desk
from tests.test_browser_base import sign_in

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

code_tables = desk.code_tables
code_set = desk.code_set
page = desk.page


def admin_signed_in(page: Page, base_url: str, name: str = "admin") -> User:
    """An admin signed in, on the manage home."""
    admin = user_create(email=f"{name}@example.org", password=PASSWORD, roles=[Role.ADMIN])
    sign_in(page, base_url, admin)
    expect(page.get_by_role("heading", name="Manage the desk")).to_be_visible()
    return admin


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
