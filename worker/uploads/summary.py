"""The one-paragraph account of an upload that every way in shows."""

from __future__ import annotations

from worker.models import UploadBatch


def counted(count: int, one: str, many: str) -> str:
    """``1 row``, ``2 rows``, ``1,204 rows``: a count with its noun agreeing."""
    return f"{count:,} {one if count == 1 else many}"


def upload_summary(batch: UploadBatch) -> str:
    if batch.status == UploadBatch.Status.FAILED:
        return f"Nothing was imported from {batch.file_name}: {batch.error}"
    parts = [
        counted(batch.rows_read, "row read", "rows read"),
        counted(batch.notes_created, "note created", "notes created"),
        counted(batch.duplicates, "duplicate skipped", "duplicates skipped"),
        counted(batch.rejected, "row rejected", "rows rejected"),
    ]
    if batch.codes_flagged:
        flagged = counted(batch.codes_flagged, "reference code", "reference codes")
        parts.append(
            f"{flagged} flagged (not codes of the loaded release; "
            "kept on their notes, left out of training and evaluation)"
        )
    if batch.text_repeats:
        repeats = counted(batch.text_repeats, "note repeats", "notes repeat")
        parts.append(f"{repeats} a text already stored (flagged)")
    if batch.icd9_skipped:
        skipped = counted(batch.icd9_skipped, "ICD-9 diagnosis", "ICD-9 diagnoses")
        parts.append(f"{skipped} skipped (the desk codes ICD-10-CM)")
    return f"{batch.file_name} into {batch.source!r}: " + "; ".join(parts) + "."
