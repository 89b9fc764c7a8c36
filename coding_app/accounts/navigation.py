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
    # Other path prefixes whose pages belong to this link's section (the
    # admin's notes pages live under /notes/, the queue under /desk/queue/).
    also: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def prefixes(self) -> tuple[str, ...]:
        return (self.url, *self.also)


NAV_LINKS = [
    NavLink("Review desk", "review:desk_home", Role.CODER),
    NavLink("Statistics", "review:audit_home", Role.AUDITOR),
    NavLink("Exports", "training:exports:list", Role.AUDITOR),
    # Auditors read codes on every page; coders search inside the review page.
    NavLink("Code search", "codes:search", Role.AUDITOR),
    NavLink("Manage", "training:manage_home", Role.ADMIN, also=("/notes/", "/desk/queue/")),
]


def current_link(path: str, links: list[NavLink]) -> NavLink | None:
    """The one link whose section holds ``path``: the longest prefix wins, so
    /manage/exports/ is Exports' and not also Manage's (/manage/)."""
    matches = [
        (len(prefix), index)
        for index, link in enumerate(links)
        for prefix in link.prefixes()
        if path.startswith(prefix)
    ]
    return links[max(matches)[1]] if matches else None


def navigation(request: HttpRequest) -> dict[str, object]:
    roles = user_roles(request.user)
    links = [link for link in NAV_LINKS if link.role in roles]
    current = current_link(request.path, links)
    return {
        "nav_links": links,
        "nav_current": current.url if current else "",
        "user_roles": roles,
        "is_desk_admin": Role.ADMIN in roles,
    }
