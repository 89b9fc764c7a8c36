from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding_app.accounts.roles import Role, user_has_role
from coding_app.models import User
from worker.uploads.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for an admin, for scripts that upload notes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the admin the token acts for")
        parser.add_argument("--name", default="uploads", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=options["email"].lower()).first()
        if user is None:
            raise CommandError(f"no user with the email {options['email']}")
        if not user_has_role(user, Role.ADMIN):
            raise CommandError(f"{user.email} is not an admin; only admins upload notes")
        token, key = api_token_create(user=user, name=options["name"])
        self.stderr.write(f"Token {token.name!r} for {user.email}; it is shown only once:")
        self.stdout.write(key)
