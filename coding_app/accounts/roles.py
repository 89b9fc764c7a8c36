"""The three roles of the desk, as groups that carry permissions.

A view asks for a role; a role is granted by a permission, so a user may hold
several roles and a superuser holds all of them. Admins read statistics too
(they decide promotions from them) but do not work the coder queue unless
they are also given the coder role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase

if TYPE_CHECKING:
    from coding_app.accounts.models import User


class Role(models.TextChoices):
    CODER = "coder", "Coder"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


# The permission that lets a user act in each role (app label coding_app).
ROLE_PERMISSION: dict[Role, str] = {
    Role.CODER: "review_notes",
    Role.AUDITOR: "view_statistics",
    Role.ADMIN: "manage_desk",
}

# What each role's group is granted: its own permission, plus for admins the
# statistics and the user management of the Django admin.
GROUP_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.CODER: [("coding_app", "review_notes")],
    Role.AUDITOR: [("coding_app", "view_statistics")],
    Role.ADMIN: [
        ("coding_app", "manage_desk"),
        ("coding_app", "view_statistics"),
        ("coding_app", "add_user"),
        ("coding_app", "change_user"),
        ("coding_app", "view_user"),
        ("auth", "view_group"),
    ],
}


def ensure_role_groups(**_: Any) -> None:
    """Create or repair the role groups so each holds exactly its permissions."""
    for role, wanted in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in wanted
        ]
        group.permissions.set(permissions)


def user_has_role(user: AbstractUser | AnonymousUser, role: Role) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.has_perm(f"coding_app.{ROLE_PERMISSION[role]}")
    )


def user_roles(user: AbstractUser | AnonymousUser) -> list[Role]:
    return [role for role in Role if user_has_role(user, role)]


# Any request class (HtmxHttpRequest too) and any response: pages, JSON and
# the streamed CSV and file downloads alike keep their own types.
RequestT = TypeVar("RequestT", bound=HttpRequest)
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)
Params = ParamSpec("Params")
View = Callable[Concatenate[RequestT, Params], ResponseT]

DEFAULT_REFUSAL = "Your role does not give access to this page."


def role_required(
    *roles: Role, refusal: str = DEFAULT_REFUSAL
) -> Callable[[View[RequestT, Params, ResponseT]], View[RequestT, Params, ResponseT]]:
    """Refuse (403, with ``refusal``) a signed-in user holding none of ``roles``.

    Anonymous users never get here: the login-required middleware sends them
    to the login page first.
    """

    def decorator(view: View[RequestT, Params, ResponseT]) -> View[RequestT, Params, ResponseT]:
        @wraps(view)
        def wrapped(request: RequestT, /, *args: Params.args, **kwargs: Params.kwargs) -> ResponseT:
            if not any(user_has_role(request.user, role) for role in roles):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def users_with_role(role: Role) -> QuerySet[User]:
    """Active users holding ``role`` through their groups (superusers aside)."""
    from coding_app.accounts.models import User

    permission = ROLE_PERMISSION[role]
    return (
        User.objects.filter(is_active=True)
        .filter(groups__permissions__codename=permission)
        .distinct()
        .order_by("email")
    )
