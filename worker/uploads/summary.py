"""The one-paragraph account of an upload that every way in shows."""

from __future__ import annotations

from worker.models import UploadBatch


def upload_summary(batch: UploadBatch) -> str:
    if batch.status == UploadBatch.Status.FAILED:
        return f"Nothing was imported from {batch.file_name}: {batch.error}"
    parts = [
        f"{batch.rows_read:,} rows read",
        f"{batch.notes_created:,} notes created",
        f"{batch.duplicates:,} duplicates skipped",
        f"{batch.rejected:,} rows rejected",
    ]
    if batch.codes_flagged:
        parts.append(
            f"{batch.codes_flagged:,} reference codes flagged (not codes of the loaded release; "
            "kept on their notes, left out of training and evaluation)"
        )
    if batch.text_repeats:
        parts.append(f"{batch.text_repeats:,} notes repeat a text already stored (flagged)")
    if batch.icd9_skipped:
        parts.append(f"{batch.icd9_skipped:,} ICD-9 diagnoses skipped (the desk codes ICD-10-CM)")
    return f"{batch.file_name} into {batch.source!r}: " + "; ".join(parts) + "."
