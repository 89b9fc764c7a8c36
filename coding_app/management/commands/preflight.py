from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coding_app.launcher.preflight import database_problem, redis_problem


class Command(BaseCommand):
    help = "Check that PostgreSQL and Redis answer at the configured URLs."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [
            problem
            for problem in (database_problem(settings.DATABASE), redis_problem(settings.REDIS))
            if problem
        ]
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write("PostgreSQL and Redis answer.")
