"""The navigation bar: which links each role sees."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from coding_app.accounts.roles import Role, user_roles


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    role: Role

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAV_LINKS = [
    NavLink("Review desk", "review:desk_home", Role.CODER),
    NavLink("Statistics", "review:audit_home", Role.AUDITOR),
    NavLink("Exports", "training:exports:list", Role.AUDITOR),
    NavLink("Manage", "training:manage_home", Role.ADMIN),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    roles = user_roles(request.user)
    links = [link for link in NAV_LINKS if link.role in roles]
    return {
        "nav_links": links,
        "user_roles": roles,
        "is_desk_admin": Role.ADMIN in roles,
    }
