"""Account services: creating users with roles, and closing open sign-up."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest

from coding_app.accounts.models import User
from coding_app.accounts.roles import Role


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that the login middleware and ``role_required``
    let through: always a signed-in ``User``, never anonymous."""
    assert isinstance(request.user, User)
    return request.user


# allauth ships no type information, so its base class is Any to mypy.
class ClosedSignupAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Nobody signs themselves up: admins create or invite users."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class UserExists(Exception):
    pass


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    roles: list[Role],
    first_name: str = "",
    last_name: str = "",
    check_password: bool = True,
) -> User:
    """Create an active user with a verified email address and ``roles``.

    Raises ``ValidationError`` for a malformed address or a weak password and
    ``UserExists`` when the address is taken.
    """
    email = email.strip().lower()
    validate_email(email)
    if not roles:
        raise ValidationError("A user needs at least one role.")
    if User.objects.filter(email__iexact=email).exists():
        raise UserExists(email)
    user = User(email=email, first_name=first_name, last_name=last_name)
    if check_password:
        validate_password(password, user)
    user.set_password(password)
    user.is_staff = Role.ADMIN in roles  # the Django admin is for admins only
    user.save()
    user.groups.set(Group.objects.filter(name__in=[role.value for role in roles]))
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user
