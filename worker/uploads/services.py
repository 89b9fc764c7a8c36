"""Writes for notes and uploads. Every way in (browser, API, command) ends here.

``upload_batch_create`` records an upload; ``upload_batch_run`` imports it.
The notes of one upload are written in one transaction, so a file that
fails leaves nothing of itself behind; the batch row is written outside it,
so the failure and its reason stay visible.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy
from coding_app.models import User
from worker.importers import FileProblem, RowProblem
from worker.importers.formats import Limits, read_notes
from worker.importers.lines import maybe_gunzip
from worker.models import ApiToken, RejectedRow, UploadBatch
from worker.models.tokens import TOKEN_PREFIX_LENGTH, token_digest, token_new_key
from worker.uploads.files import upload_file_keep
from worker.uploads.note_store import RowRejected, Tally, row_reject, store_rows, take_source_lock
from worker.uploads.progress import progress_publish

logger = logging.getLogger(__name__)

DEFAULT_MAX_NOTE_CHARS = 200_000


def note_limits() -> Limits:
    return Limits(max_text_chars=getattr(settings, "NOTE_MAX_CHARS", DEFAULT_MAX_NOTE_CHARS))


def upload_batch_create(
    *,
    source: str,
    file_name: str,
    stored_path: Path,
    mode: UploadBatch.Mode,
    created_by: User | None,
    diagnoses_file_name: str = "",
    stored_diagnoses_path: Path | None = None,
) -> UploadBatch:
    """Record an upload that waits for ``upload_batch_run``."""
    return UploadBatch.objects.create(
        source=source,
        file_name=file_name,
        stored_path=str(stored_path),
        diagnoses_file_name=diagnoses_file_name,
        stored_diagnoses_path=str(stored_diagnoses_path or ""),
        mode=mode,
        created_by=created_by,
    )


@transaction.atomic
def upload_receive(
    *,
    notes: UploadedFile,
    diagnoses: UploadedFile | None,
    source: str,
    mode: UploadBatch.Mode,
    created_by: User,
) -> UploadBatch:
    """Keep an uploaded file for the worker and queue its import."""
    from worker.uploads.tasks import import_upload_task

    stored_notes = upload_file_keep(notes)
    stored_diagnoses = upload_file_keep(diagnoses) if diagnoses else None
    batch = upload_batch_create(
        source=source,
        file_name=notes.name or "upload",
        stored_path=stored_notes,
        mode=mode,
        created_by=created_by,
        diagnoses_file_name=diagnoses.name or "" if diagnoses else "",
        stored_diagnoses_path=stored_diagnoses,
    )
    transaction.on_commit(lambda: import_upload_task.delay(batch.pk))
    return batch


def upload_batch_run(*, batch_id: int, delete_files: bool) -> UploadBatch:
    """Import a queued upload; a batch already started is left alone."""
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != UploadBatch.Status.QUEUED:
            return batch
        batch.status, batch.started_at = UploadBatch.Status.RUNNING, timezone.now()
        batch.save(update_fields=["status", "started_at"])
    try:
        with ExitStack() as files:
            notes = files.enter_context(Path(batch.stored_path).open("rb"))
            diagnoses = None
            if batch.stored_diagnoses_path:
                diagnoses = files.enter_context(Path(batch.stored_diagnoses_path).open("rb"))
            return _import_into(batch, notes, diagnoses)
    finally:
        if delete_files:
            _delete_stored_files(batch)


def _import_into(batch: UploadBatch, notes: IO[bytes], diagnoses: IO[bytes] | None) -> UploadBatch:
    tally = Tally()
    try:
        hierarchy = _reference_hierarchy(batch)
        with transaction.atomic():
            take_source_lock(batch.source)
            rows = _rows(batch, notes, diagnoses, tally)
            store_rows(
                batch=batch, rows=rows, limits=note_limits(), hierarchy=hierarchy, tally=tally
            )
    except (RowRejected, FileProblem) as failure:
        return _finish_failed(batch, tally, failure)
    except Exception as error:
        logger.exception("upload %s failed", batch.pk)
        _finish_failed(batch, tally, error)
        raise
    return _finish(batch, tally, UploadBatch.Status.DONE, error="")


def _reference_hierarchy(batch: UploadBatch) -> Hierarchy:
    """The release reference codes are checked against; none loaded refuses the file."""
    try:
        return current_hierarchy()
    except CodeSetNotLoaded as error:
        raise FileProblem(batch.file_name, f"cannot be imported yet: {error}") from error


def _rows(
    batch: UploadBatch, notes: IO[bytes], diagnoses: IO[bytes] | None, tally: Tally
) -> Iterator[object]:
    from worker.uploads.diagnosis_table import DiagnosisTable

    size = max(Path(batch.stored_path).stat().st_size, 1)
    lookup = None
    if diagnoses is not None:
        lookup = DiagnosisTable.load(
            maybe_gunzip(diagnoses, batch.diagnoses_file_name),
            file_name=batch.diagnoses_file_name,
            table=f"upload_{batch.pk}_diagnoses",
            on_problem=lambda problem: row_reject(batch=batch, problem=problem, tally=tally),
        )
    try:
        limits = note_limits()
        reader = read_notes(notes, file_name=batch.file_name, limits=limits, diagnoses=lookup)
        for number, row in enumerate(reader, start=1):
            if number % 1000 == 0:
                progress_publish(batch_id=batch.pk, rows_read=number, fraction=notes.tell() / size)
            yield row
    except (OSError, EOFError, zlib.error) as error:
        # A truncated or corrupt archive ends the read part-way; the whole
        # file is refused so that no upload is half imported.
        raise FileProblem(batch.file_name, f"cannot be read to the end ({error})") from error
    finally:
        if lookup is not None:
            lookup.close()


def _finish_failed(batch: UploadBatch, tally: Tally, failure: Exception) -> UploadBatch:
    """After the rollback: the batch says why, and keeps the row that failed it."""
    problem = failure.problem if isinstance(failure, RowRejected) else None
    if isinstance(failure, FileProblem):
        problem = RowProblem(failure.file_name, 0, "file", failure.message)
    tally.created = tally.duplicates = tally.repeats = tally.flagged = 0
    tally.rejected = 1 if problem else 0
    if problem is not None:
        RejectedRow.objects.create(
            batch=batch,
            file_name=problem.file_name,
            row_number=problem.row_number,
            field=problem.field,
            external_id=problem.external_id,
            reason=problem.reason,
        )
    message = str(problem) if problem else f"the import stopped: {failure}"
    return _finish(batch, tally, UploadBatch.Status.FAILED, error=message)


def _finish(batch: UploadBatch, tally: Tally, status: str, *, error: str) -> UploadBatch:
    batch.status, batch.error, batch.finished_at = status, error, timezone.now()
    batch.rows_read, batch.notes_created = tally.rows_read, tally.created
    batch.duplicates, batch.rejected = tally.duplicates, tally.rejected
    batch.codes_flagged = tally.flagged
    batch.text_repeats, batch.icd9_skipped = tally.repeats, tally.icd9_skipped
    batch.save()
    progress_publish(batch_id=batch.pk, rows_read=tally.rows_read, fraction=1.0)
    return batch


def _delete_stored_files(batch: UploadBatch) -> None:
    for stored in (batch.stored_path, batch.stored_diagnoses_path):
        if stored:
            Path(stored).unlink(missing_ok=True)
    UploadBatch.objects.filter(pk=batch.pk).update(stored_path="", stored_diagnoses_path="")


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the key is returned once and never stored."""
    key = token_new_key()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:TOKEN_PREFIX_LENGTH], digest=token_digest(key)
    )
    return token, key
