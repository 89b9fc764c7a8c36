"""``manage.py simulate_loop --rounds N``: the learning loop on CodiEsp.

Plays coders from the reference codes of the CodiEsp case reports shipped
in ``demo_data/codiesp/`` (train reports to learn from, dev reports to
evaluate on) and prints precision, recall, F1 and MAP by level per round;
see ``training.simulation``. With ``--json`` the last line is one JSON
object: ``{level}_{figure}_start`` and ``_end`` for each level (chapter,
category, code) and figure (precision, recall, f1, f1_macro, map), with the
rounds, the notes reviewed and the dev notes.
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from training.simulation import TABLE_HEADER, loop_summary, simulate_loop
from worker.models import Note, UploadBatch
from worker.uploads.demo_notes import DEMO_FILE, DEMO_SOURCE
from worker.uploads.services import upload_batch_create, upload_batch_run


class Command(BaseCommand):
    help = "Play the learning loop (predict, review, retrain, evaluate, promote) on CodiEsp."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--steps", type=int, default=300, help="Adam steps per head run")
        parser.add_argument("--train-limit", type=int, default=0, help="0: all train reports")
        parser.add_argument("--dev-limit", type=int, default=0, help="0: all dev reports")
        parser.add_argument("--json", action="store_true", help="end with a JSON summary line")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rounds"] < 1:
            raise CommandError("--rounds must be 1 or more")
        _demo_notes_imported()
        train = _notes("train", options["train_limit"])
        dev = _notes("dev", options["dev_limit"])
        if not train or not dev:
            raise CommandError(f"CodiEsp notes missing: {len(train)} train, {len(dev)} dev")
        self.stdout.write(f"{len(train)} train reports to learn from, {len(dev)} dev to evaluate")
        self.stdout.write(TABLE_HEADER)
        started = time.monotonic()
        results = simulate_loop(
            train_notes=train,
            eval_notes=dev,
            rounds=options["rounds"],
            steps=options["steps"],
            say=self.stdout.write,
        )
        self.stdout.write(f"({time.monotonic() - started:.0f} s)")
        if options["json"]:
            summary = {
                "rounds": options["rounds"],
                **loop_summary(results),
                "reviewed": results[-1].reviewed,
                "dev_notes": len(dev),
            }
            self.stdout.write(json.dumps(summary))


def _demo_notes_imported() -> None:
    if Note.objects.filter(source=DEMO_SOURCE).exists():
        return
    batch = upload_batch_create(
        source=DEMO_SOURCE,
        file_name=DEMO_FILE.name,
        stored_path=DEMO_FILE,
        mode=UploadBatch.Mode.GOOD_ROWS,
        created_by=None,
    )
    upload_batch_run(batch_id=batch.pk, delete_files=False)


def _notes(split: str, limit: int) -> list[Note]:
    notes = Note.objects.filter(source=DEMO_SOURCE, metadata__split=split).order_by("pk")
    return list(notes[:limit] if limit else notes)
