"""The demo notes of the embedded mode: imported once, reported honestly, queued."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from worker.models import Note, PredictionJob, RejectedRow, UploadBatch
from worker.uploads.demo_notes import DEMO_FILE, DEMO_SOURCE


def test_the_demo_notes_are_imported_once_with_unknown_codes_flagged(db: None) -> None:
    out = io.StringIO()
    call_command("load_demo_notes", stdout=out)
    batch = UploadBatch.objects.get(source=DEMO_SOURCE)
    rows = sum(1 for _ in DEMO_FILE.open())
    # Every report is imported, also the 84 whose codes include one the
    # release does not know (S37.29X and the like, 118 codes in all).
    assert batch.rows_read == batch.notes_created == rows == 750
    assert (batch.rejected, batch.duplicates, batch.codes_flagged) == (0, 0, 118)
    flagged = Note.objects.filter(source=DEMO_SOURCE).exclude(reference_code_flags=[])
    assert flagged.count() == 84
    assert flagged.filter(metadata__split="train").count() == 53
    rows_listed = RejectedRow.objects.filter(batch=batch)
    assert set(rows_listed.values_list("kind", flat=True)) == {RejectedRow.Kind.FLAGGED}
    assert all("unknown reference code" in row.reason for row in rows_listed)
    assert "118 reference codes flagged" in out.getvalue()
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
