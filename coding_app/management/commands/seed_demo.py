from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from coding_app.launcher.demo import demo_users_ensure


class Command(BaseCommand):
    help = "Create the demo users (one per role) if they are missing and print their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        for login in demo_users_ensure():
            self.stdout.write(f"  {login.role.label:<8} {login.email:<22} {login.password}")
