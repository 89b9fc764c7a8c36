from __future__ import annotations

import getpass
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding_app.accounts.roles import Role
from coding_app.accounts.services import UserExists, user_create


class Command(BaseCommand):
    help = "Create a user who signs in by email, with one or more roles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--role",
            action="append",
            choices=[role.value for role in Role],
            required=True,
            help="coder, auditor or admin; repeat for several roles",
        )
        parser.add_argument(
            "--password",
            help="the password; without it you are asked, or with --no-input one is generated",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--no-input", action="store_true", help="never prompt")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        generated = False
        if not password:
            if options["no_input"]:
                password, generated = secrets.token_urlsafe(12), True
            else:
                password = getpass.getpass("Password: ")
        try:
            user = user_create(
                email=options["email"],
                password=password,
                roles=[Role(value) for value in options["role"]],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except UserExists as error:
            raise CommandError(f"A user with the email {error} already exists.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        roles = ", ".join(options["role"])
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} ({roles})."))
        if generated:
            self.stdout.write(f"Password: {password}")
