"""Reads for uploads: the pages' querysets, progress and the rejected-rows CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from coding_app.models import User
from worker.models import ApiToken, UploadBatch
from worker.models.tokens import token_digest
from worker.uploads.progress import progress_of
from worker.uploads.summary import upload_summary

RECENT_UPLOADS = 20
CSV_COLUMNS = ["kind", "file", "row", "field", "id", "reason"]


def upload_batches_recent() -> QuerySet[UploadBatch]:
    return UploadBatch.objects.select_related("created_by")[:RECENT_UPLOADS]


def upload_context(batch: UploadBatch) -> dict[str, Any]:
    """What the upload page shows: live progress, or the summary when finished."""
    return {
        "batch": batch,
        "progress": progress_of(batch.pk),
        "summary": upload_summary(batch) if batch.is_finished else "",
        "has_rows": batch.rejected_rows.exists(),
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
