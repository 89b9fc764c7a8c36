"""The demo notes of the embedded mode: imported once, reported honestly, queued."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from worker.models import Note, PredictionJob, RejectedRow, UploadBatch
from worker.uploads.demo_notes import DEMO_FILE, DEMO_SOURCE


def test_the_demo_notes_are_imported_once_with_unknown_codes_reported(db: None) -> None:
    out = io.StringIO()
    call_command("load_demo_notes", stdout=out)
    batch = UploadBatch.objects.get(source=DEMO_SOURCE)
    rows = sum(1 for _ in DEMO_FILE.open())
    assert batch.rows_read == rows == 750
    assert batch.notes_created + batch.rejected == rows
    assert batch.notes_created > 600
    reasons = RejectedRow.objects.filter(batch=batch).values_list("reason", flat=True)
    assert reasons
    assert all("unknown reference code" in reason for reason in reasons)
    note = Note.objects.filter(source=DEMO_SOURCE).first()
    assert note is not None
    assert note.reference_codes
    assert note.metadata["split"] in {"train", "dev"}
    job = PredictionJob.objects.get()
    assert job.notes_total == batch.notes_created
    assert f"Prediction job #{job.pk} queued" in out.getvalue()

    again = io.StringIO()
    call_command("load_demo_notes", stdout=again)
    assert "already imported" in again.getvalue()
    assert UploadBatch.objects.filter(source=DEMO_SOURCE).count() == 1
    # The first job has not run yet, so the notes still lack predictions.
    assert PredictionJob.objects.count() == 2


def test_a_missing_file_is_named(db: None, tmp_path) -> None:
    with pytest.raises(CommandError, match="is not a file"):
        call_command("load_demo_notes", "--path", str(tmp_path / "nowhere.jsonl"))
