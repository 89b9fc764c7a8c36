from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from worker.uploads.demo_notes import demo_notes_ensure


class Command(BaseCommand):
    help = (
        "Import the demo notes (CodiEsp case reports) once and queue a prediction job "
        "for every note without a prediction from the active embedding model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path", type=Path, help="a JSONL file of notes (default: settings.DEMO_NOTES_FILE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"] or settings.DEMO_NOTES_FILE)
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        demo = demo_notes_ensure(path)
        self.stdout.write(demo.imported)
        if demo.job_id is not None:
            self.stdout.write(f"Prediction job #{demo.job_id} queued for the notes.")
        else:
            self.stdout.write("Every note already has a prediction.")
