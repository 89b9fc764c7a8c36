"""The base UI in a real browser: sign in by keyboard, navigation, htmx."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/")
    # The email field has focus on arrival; a key pressed before the browser
    # applies the autofocus would be lost.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def test_a_coder_signs_in_by_keyboard_and_sees_the_desk(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CODER)
    sign_in(page, str(live_server), user)
    expect(page.get_by_role("heading", name="Review desk")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_text("Review desk")
    assert page.evaluate("typeof window.htmx") == "object"


def test_a_wrong_password_shows_the_reason_on_the_login_page(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CODER)
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("The email address and/or password you specified are not correct."))
    assert "/accounts/login/" in page.url


def test_the_admin_home_loads_its_worker_panel_through_htmx(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    sign_in(page, str(live_server), make_user(Role.ADMIN))
    expect(page.get_by_role("heading", name="Manage the desk")).to_be_visible()
    # Rendered by the htmx request, not by the first page load.
    panel = page.locator("#worker-status")
    expect(panel).not_to_contain_text("Checking the workers")
    # Whether or not the session's test worker runs at this point, the panel
    # says what it found.
    expect(panel).to_contain_text(re.compile(r"default, inference, training|No worker answers"))


def test_signing_out_returns_to_the_login_page(
    page: Page, live_server: object, make_user: Callable[..., User]
) -> None:
    sign_in(page, str(live_server), make_user(Role.AUDITOR))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign In")).to_be_visible()
    page.goto(f"{live_server}/desk/audit/")
    assert "/accounts/login/" in page.url
