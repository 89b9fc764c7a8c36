"""Login, roles and the pages each role may open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.conftest import PASSWORD

ROLE_PAGES = {
    Role.CODER: "/desk/",
    Role.AUDITOR: "/desk/audit/",
    Role.ADMIN: "/manage/",
}
# Who may open each page: admins read statistics too; nobody else crosses over.
ALLOWED = {
    "/desk/": {Role.CODER},
    "/desk/audit/": {Role.AUDITOR, Role.ADMIN},
    "/manage/": {Role.ADMIN},
    "/admin/": {Role.ADMIN},
}


def test_login_with_email_and_password_lands_on_the_role_home(
    client: Client, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CODER)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/desk/"
    assert response.context["user"] == user


def test_a_wrong_password_fails_with_a_message(
    client: Client, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CODER)
    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_are_rate_limited(
    client: Client, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CODER)
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_there_is_no_open_sign_up(client: Client) -> None:
    response = client.post(
        "/accounts/signup/", {"email": "new@example.org", "password1": "a-long-pass-phrase"}
    )
    assert "Sign Up Closed" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/desk/", "/desk/audit/", "/manage/"])
def test_anonymous_visitors_are_sent_to_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.django_db
def test_anonymous_visitors_are_kept_out_of_the_django_admin(client: Client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(ALLOWED))
def test_each_role_reaches_its_pages_and_is_refused_elsewhere(
    client: Client, login_as: Callable[[Role], User], role: Role, path: str
) -> None:
    login_as(role)
    # The Django admin sends outsiders through its login view, which refuses.
    response = client.get(path, follow=path == "/admin/")
    if role in ALLOWED[path]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_home_sends_each_role_to_its_own_page(
    client: Client, login_as: Callable[[Role], User], role: Role
) -> None:
    login_as(role)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == ROLE_PAGES[role]


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.CODER, ["Review desk"]),
        (Role.AUDITOR, ["Statistics", "Code search"]),
        (Role.ADMIN, ["Statistics", "Code search", "Manage", "Users &amp; data"]),
    ],
)
def test_navigation_shows_each_role_its_links(
    client: Client, login_as: Callable[[Role], User], role: Role, links: list[str]
) -> None:
    login_as(role)
    page = client.get(ROLE_PAGES[role]).content.decode()
    every_link = ["Review desk", "Statistics", "Code search", "Manage", "Users &amp; data"]
    assert [label for label in every_link if f">{label}</a>" in page] == links


def test_pages_carry_the_csrf_token_for_htmx_and_load_htmx_locally(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.CODER)
    page = client.get("/desk/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert '<script src="/static/vendor/htmx/htmx.min.js"' in page
    assert "https://" not in page  # nothing from a CDN


def sign_in(client: Client, user: User) -> None:
    """Sign in through the login form, as allauth's MFA set-up wants a fresh login."""
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_admins_without_totp_must_set_it_up_when_required(
    client: Client, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user(Role.ADMIN))
    response = client.get("/manage/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up page itself stays reachable (allauth asks for the password
    # again first, as it does for every change to sign-in security).
    assert client.get(reverse("mfa_activate_totp"), follow=True).status_code == 200


@override_settings(MFA_REQUIRED_FOR_ADMINS=True)
def test_coders_are_not_forced_into_mfa(client: Client, login_as: Callable[[Role], User]) -> None:
    login_as(Role.CODER)
    assert client.get("/desk/").status_code == 200


def test_every_user_can_set_up_totp(client: Client, make_user: Callable[..., User]) -> None:
    user = make_user(Role.CODER)
    sign_in(client, user)
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert "Authenticator App" in response.content.decode()


@pytest.mark.django_db
def test_create_user_command_gives_the_role_and_a_working_login(client: Client) -> None:
    call_command(
        "create_user", "Audit.Lead@Example.org", "--role", "auditor", "--password", PASSWORD
    )
    user = User.objects.get(email="audit.lead@example.org")
    assert [group.name for group in user.groups.all()] == ["auditor"]
    assert not user.is_staff
    assert client.login(email="audit.lead@example.org", password=PASSWORD)
    assert client.get("/desk/audit/").status_code == 200


@pytest.mark.django_db
def test_create_user_command_refuses_a_duplicate_and_a_weak_password() -> None:
    from django.core.management.base import CommandError

    call_command("create_user", "a@example.org", "--role", "coder", "--password", PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "A@example.org", "--role", "coder", "--password", PASSWORD)
    with pytest.raises(CommandError, match="too common"):
        call_command("create_user", "b@example.org", "--role", "coder", "--password", "password")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_demo_users_are_created_once_with_one_login_per_role() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    roles = sorted(g for u in User.objects.all() for g in u.groups.values_list("name", flat=True))
    assert roles == ["admin", "auditor", "coder", "coder"]
