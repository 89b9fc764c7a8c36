"""Demo accounts for the embedded mode: one user per role, known passwords."""

from __future__ import annotations

from dataclasses import dataclass

from coding_app.accounts.models import User
from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: Role


DEMO_LOGINS = [
    DemoLogin("coder@example.com", "coder-demo-pass", Role.CODER),
    DemoLogin("coder2@example.com", "coder-demo-pass", Role.CODER),
    DemoLogin("auditor@example.com", "auditor-demo-pass", Role.AUDITOR),
    DemoLogin("admin@example.com", "admin-demo-pass", Role.ADMIN),
]


def demo_users_ensure() -> list[DemoLogin]:
    """Create the demo users that do not exist yet; never touch existing ones."""
    for login in DEMO_LOGINS:
        if not User.objects.filter(email=login.email).exists():
            user_create(
                email=login.email,
                password=login.password,
                roles=[login.role],
                check_password=False,
            )
    return DEMO_LOGINS
