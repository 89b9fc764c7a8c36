from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from worker.models import RejectedRow, UploadBatch
from worker.uploads.services import upload_batch_create, upload_batch_run
from worker.uploads.summary import upload_summary


class Command(BaseCommand):
    help = (
        "Import notes from a .jsonl, .csv, .txt or .zip file, or MIMIC-IV "
        "discharge.csv[.gz] with --diagnoses diagnoses_icd.csv[.gz]."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="where the notes come from")
        parser.add_argument("--diagnoses", type=Path, help="MIMIC-IV diagnoses_icd.csv[.gz]")
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="refuse the whole file on its first bad row (default: import the good rows)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [options["file"], *([options["diagnoses"]] if options["diagnoses"] else [])]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        mode = UploadBatch.Mode.ALL_OR_NOTHING if options["all_or_nothing"] else None
        diagnoses = options["diagnoses"]
        batch = upload_batch_create(
            source=options["source"],
            file_name=options["file"].name,
            stored_path=options["file"].resolve(),
            mode=mode or UploadBatch.Mode.GOOD_ROWS,
            created_by=None,
            diagnoses_file_name=diagnoses.name if diagnoses else "",
            stored_diagnoses_path=diagnoses.resolve() if diagnoses else None,
        )
        batch = upload_batch_run(batch_id=batch.pk, delete_files=False)
        shown = [RejectedRow.Kind.INVALID, RejectedRow.Kind.FLAGGED]
        for row in batch.rejected_rows.filter(kind__in=shown)[:20]:
            self.stderr.write(f"{row.get_kind_display()}: {row}")
        if batch.status == UploadBatch.Status.FAILED:
            raise CommandError(upload_summary(batch))
        self.stdout.write(upload_summary(batch))
