"""Reads for uploads: the pages' querysets, progress and the rejected-rows CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from coding_app.models import User
from worker.models import ApiToken, Note, RejectedRow, UploadBatch
from worker.models.tokens import token_digest
from worker.uploads.progress import progress_of
from worker.uploads.summary import upload_summary

RECENT_UPLOADS = 20
CSV_COLUMNS = ["kind", "file", "row", "field", "id", "reason"]


def upload_batches_recent() -> QuerySet[UploadBatch]:
    return UploadBatch.objects.select_related("created_by")[:RECENT_UPLOADS]


# How many rows of each kind, and how many created notes, the page lists;
# the CSV has every row.
ROWS_SHOWN = 50


@dataclass(frozen=True)
class RowSection:
    """The first rows of one kind (rejected, duplicate, flagged) and how many there are."""

    kind: str
    heading: str
    rows: list[RejectedRow]
    total: int


_SECTION_HEADINGS = {
    RejectedRow.Kind.INVALID: "Rejected rows",
    RejectedRow.Kind.FLAGGED: "Flagged reference codes (notes imported)",
    RejectedRow.Kind.DUPLICATE: "Duplicates (not imported again)",
}


def upload_row_sections(batch: UploadBatch) -> list[RowSection]:
    """Per kind, in the order an admin acts on them: what was turned away first."""
    totals = dict(
        batch.rejected_rows.order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return [
        RowSection(
            kind=kind,
            heading=heading,
            rows=list(batch.rejected_rows.filter(kind=kind).order_by("pk")[:ROWS_SHOWN]),
            total=totals[kind],
        )
        for kind, heading in _SECTION_HEADINGS.items()
        if totals.get(kind)
    ]


def upload_notes_created(batch: UploadBatch) -> QuerySet[Note]:
    """The first notes the upload created, to open them."""
    return batch.notes.order_by("pk").only("pk", "external_id", "source")[:ROWS_SHOWN]


def upload_context(batch: UploadBatch) -> dict[str, Any]:
    """What the upload page shows: live progress, or the summary when finished
    with the first rows it turned away and the first notes it created."""
    finished = batch.is_finished
    sections = upload_row_sections(batch) if finished else []
    return {
        "batch": batch,
        "progress": progress_of(batch.pk),
        "summary": upload_summary(batch) if finished else "",
        "has_rows": bool(sections),
        "row_sections": sections,
        "rows_shown": ROWS_SHOWN,
        "notes": upload_notes_created(batch) if finished else [],
        # The notes stored from this upload, counted where the list comes
        # from (the batch's counter says what the import made at the time).
        "notes_total": batch.notes.count() if finished else 0,
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def rejected_rows_csv(batch: UploadBatch) -> Iterator[str]:
    """The rejected rows, duplicates and flagged codes as CSV lines, streamed."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = batch.rejected_rows.order_by("pk").values_list(
        "kind", "file_name", "row_number", "field", "external_id", "reason"
    )
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(row)


def api_token_user(key: str) -> User | None:
    """The active user behind a token key, or None; records when it was used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
