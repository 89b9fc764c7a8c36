"""Prediction jobs: plan a job as chunks, run a chunk, cancel, finish.

A job's notes are fixed when it is planned and split into chunks; each chunk
is one Celery task on the ``inference`` queue. Running a chunk is safe to
repeat (a redelivered task after a worker died, a retry after a timeout):
notes that already have a prediction from the version are skipped, and the
predictions of each backend batch are committed as soon as they exist, so a
worker killed mid-chunk loses at most the batch it was computing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from coding_app.audit.services import audit
from coding_app.iteration import batched
from coding_app.models import User
from worker.backends.base import NotePrediction, NoteText
from worker.backends.loading import backend_for
from worker.events import WorkerAuditKind
from worker.models import (
    ModelVersion,
    Note,
    Prediction,
    PredictionChunk,
    PredictionJob,
    Suggestion,
    UploadBatch,
)
from worker.predictions.signals import predictions_stored

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 50
MAX_CHUNK_SIZE = 1000
# How many notes go to the backend at once; the unit that is committed.
DEFAULT_BACKEND_BATCH = 16
# Namespace of the advisory lock that serialises storing predictions of one
# version (a few milliseconds each), so two deliveries of a chunk cannot
# both write the same note.
_STORE_LOCK_NAMESPACE = 42_004


class NothingToPredict(ValueError):
    """A job was asked for notes that all have a prediction from the version."""


class NothingToRetry(ValueError):
    """A retry was asked of a job with no failed chunk (or a cancelled job)."""


def notes_to_predict(version: ModelVersion, batch: UploadBatch | None) -> QuerySet[Note]:
    """The notes (of ``batch``, or all) without a prediction from ``version``."""
    predicted = Prediction.objects.filter(note=OuterRef("pk"), model_version=version)
    notes = Note.objects.filter(~Exists(predicted))
    return notes.filter(batch=batch) if batch is not None else notes


def prediction_job_create(
    *,
    version: ModelVersion,
    batch: UploadBatch | None = None,
    created_by: User | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> PredictionJob:
    """Plan a job and queue its chunks once the plan is committed."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE}, not {chunk_size}")
    with transaction.atomic():
        job = PredictionJob.objects.create(
            model_version=version, batch=batch, created_by=created_by, chunk_size=chunk_size
        )
        ids = notes_to_predict(version, batch).order_by("pk").values_list("pk", flat=True)
        chunks = [
            PredictionChunk(job=job, index=index, note_ids=list(note_ids))
            for index, note_ids in enumerate(batched(ids.iterator(chunk_size=10_000), chunk_size))
        ]
        if not chunks:
            scope = f"upload #{batch.pk}" if batch else "the desk"
            raise NothingToPredict(
                f"Every note of {scope} already has a prediction from {version.name}."
            )
        PredictionChunk.objects.bulk_create(chunks, batch_size=1000)
        job.notes_total = sum(len(chunk.note_ids) for chunk in chunks)
        job.chunks_total = len(chunks)
        job.save(update_fields=["notes_total", "chunks_total"])
        chunk_ids = [chunk.pk for chunk in chunks]
        transaction.on_commit(lambda: _dispatch(chunk_ids))
    return job


def _dispatch(chunk_ids: Sequence[int]) -> None:
    from worker.predictions.tasks import predict_chunk_task

    for chunk_id in chunk_ids:
        predict_chunk_task.delay(chunk_id)


def prediction_job_cancel(job: PredictionJob) -> bool:
    """Stop a job: queued chunks never start, running ones stop after their batch."""
    with transaction.atomic():
        locked = PredictionJob.objects.select_for_update().get(pk=job.pk)
        if locked.is_finished:
            return False
        locked.status, locked.finished_at = PredictionJob.Status.CANCELLED, timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        locked.chunks.filter(status=PredictionChunk.Status.QUEUED).update(
            status=PredictionChunk.Status.CANCELLED, finished_at=timezone.now()
        )
    return True


def prediction_chunks_retry(
    *, job: PredictionJob, by: User, chunk_id: int | None = None
) -> list[PredictionChunk]:
    """Send the job's failed chunks (or the one ``chunk_id``) back to the queue.

    The job is running again until they end; each retry is audited with the
    error the chunk had, which the retry clears.
    """
    with transaction.atomic():
        locked = PredictionJob.objects.select_for_update().get(pk=job.pk)
        if locked.status == PredictionJob.Status.CANCELLED:
            raise NothingToRetry(f"Job {job.pk} was cancelled; start a new job instead.")
        failed = locked.chunks.select_for_update().filter(status=PredictionChunk.Status.FAILED)
        chunks = list(failed.filter(pk=chunk_id) if chunk_id is not None else failed)
        if not chunks:
            raise NothingToRetry(f"Job {job.pk} has no failed chunk to retry.")
        for chunk in chunks:
            audit(
                WorkerAuditKind.PREDICTION_CHUNK_RETRIED,
                actor=by,
                job_id=locked.pk,
                chunk_index=chunk.index,
                notes=len(chunk.note_ids),
                error=chunk.error,
            )
            chunk.status, chunk.error, chunk.finished_at = PredictionChunk.Status.QUEUED, "", None
        PredictionChunk.objects.bulk_update(chunks, ["status", "error", "finished_at"])
        locked.status = (
            PredictionJob.Status.RUNNING if locked.started_at else PredictionJob.Status.QUEUED
        )
        locked.error, locked.finished_at = "", None
        locked.save(update_fields=["status", "error", "finished_at"])
        chunk_ids = [chunk.pk for chunk in chunks]
        transaction.on_commit(lambda: _dispatch(chunk_ids))
    return chunks


def prediction_chunk_run(chunk_id: int) -> PredictionChunk:
    """Predict the notes of a chunk that still lack a prediction."""
    chunk = _chunk_start(chunk_id)
    if chunk.status != PredictionChunk.Status.RUNNING:
        return chunk
    job = chunk.job
    version = job.model_version
    # Never builds the code index here: waits while one process of the
    # machine does, then may predict from the codes embedded first.
    backend = backend_for(version, partial_index_ok=True)
    size = int(version.options.get("job_batch_size", DEFAULT_BACKEND_BATCH))
    for note_ids in batched(_pending_note_ids(chunk), max(size, 1)):
        if _job_cancelled(job.pk):
            return _chunk_finish(chunk, PredictionChunk.Status.CANCELLED)
        notes = [
            NoteText(note_id=pk, text=text)
            for pk, text in Note.objects.filter(pk__in=note_ids).values_list("pk", "text")
        ]
        predictions_store(backend.predict(notes), version=version, job=job)
    return _chunk_finish(chunk, PredictionChunk.Status.DONE)


def prediction_chunk_fail(chunk_id: int, error: str) -> None:
    """A chunk that cannot be done (a bad model, retries used up): the job says why."""
    chunk = PredictionChunk.objects.select_related("job").get(pk=chunk_id)
    if chunk.status in {PredictionChunk.Status.DONE, PredictionChunk.Status.CANCELLED}:
        return
    chunk.error = error
    _chunk_finish(chunk, PredictionChunk.Status.FAILED)


def _chunk_start(chunk_id: int) -> PredictionChunk:
    with transaction.atomic():
        chunk = (
            PredictionChunk.objects.select_for_update()
            .select_related("job__model_version")
            .get(pk=chunk_id)
        )
        job = chunk.job
        if job.status == PredictionJob.Status.CANCELLED:
            if chunk.status in {PredictionChunk.Status.QUEUED, PredictionChunk.Status.RUNNING}:
                chunk.status = PredictionChunk.Status.CANCELLED
                chunk.save(update_fields=["status"])
            return chunk
        if chunk.status in {PredictionChunk.Status.DONE, PredictionChunk.Status.CANCELLED}:
            return chunk  # a late redelivery of finished work
        now = timezone.now()
        # A chunk found RUNNING again was redelivered after a worker died.
        chunk.status, chunk.attempts, chunk.started_at = (
            PredictionChunk.Status.RUNNING,
            chunk.attempts + 1,
            now,
        )
        chunk.error = ""
        chunk.save(update_fields=["status", "attempts", "started_at", "error"])
        PredictionJob.objects.filter(pk=job.pk, status=PredictionJob.Status.QUEUED).update(
            status=PredictionJob.Status.RUNNING, started_at=now
        )
    return chunk


def _pending_note_ids(chunk: PredictionChunk) -> Iterator[int]:
    done = set(
        Prediction.objects.filter(
            model_version_id=chunk.job.model_version_id, note_id__in=chunk.note_ids
        ).values_list("note_id", flat=True)
    )
    return (pk for pk in chunk.note_ids if pk not in done)


def _job_cancelled(job_id: int) -> bool:
    status = PredictionJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return status == PredictionJob.Status.CANCELLED


def predictions_store(
    predictions: Sequence[NotePrediction], *, version: ModelVersion, job: PredictionJob | None
) -> int:
    """Write what a backend said; notes that already have a prediction are left alone.

    Sends ``predictions_stored`` for the new rows before committing, so the
    desk's review tasks exist as soon as the predictions do.
    """
    if not predictions:
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_STORE_LOCK_NAMESPACE, version.pk]
            )
        taken = set(
            Prediction.objects.filter(
                model_version=version, note_id__in=[p.note_id for p in predictions]
            ).values_list("note_id", flat=True)
        )
        fresh = [p for p in predictions if p.note_id not in taken]
        rows = Prediction.objects.bulk_create([_prediction_row(p, version, job) for p in fresh])
        Suggestion.objects.bulk_create(
            [
                suggestion
                for row, prediction in zip(rows, fresh, strict=True)
                for suggestion in _suggestion_rows(row, prediction)
            ]
        )
        if rows:
            # The desk makes the review tasks here, in this transaction.
            predictions_stored.send(
                sender=Prediction, version=version, prediction_ids=[row.pk for row in rows]
            )
    return len(fresh)


def _prediction_row(
    prediction: NotePrediction, version: ModelVersion, job: PredictionJob | None
) -> Prediction:
    return Prediction(
        note_id=prediction.note_id,
        model_version=version,
        job=job,
        prompt_version=prediction.prompt_version,
        reasoning=prediction.reasoning,
        raw_output=prediction.raw_output,
        parse_problem=prediction.parse_problem,
    )


def _suggestion_rows(row: Prediction, prediction: NotePrediction) -> Iterator[Suggestion]:
    for rank, code in enumerate(prediction.codes, start=1):
        yield Suggestion(
            prediction=row,
            rank=rank,
            code=code.code[:40],
            valid=code.valid,
            problem=code.problem,
            score=code.score,
            evidence=[list(span) for span in code.evidence],
            rationale=code.rationale,
        )


def _chunk_finish(chunk: PredictionChunk, status: str) -> PredictionChunk:
    with transaction.atomic():
        job = PredictionJob.objects.select_for_update().get(pk=chunk.job_id)
        chunk.status, chunk.finished_at = status, timezone.now()
        chunk.skipped = (
            Prediction.objects.filter(
                model_version_id=job.model_version_id, note_id__in=chunk.note_ids
            )
            .exclude(job_id=job.pk)
            .count()
        )
        chunk.save(update_fields=["status", "finished_at", "skipped", "error"])
        if job.status == PredictionJob.Status.CANCELLED:
            return chunk
        unfinished = job.chunks.filter(
            status__in=[PredictionChunk.Status.QUEUED, PredictionChunk.Status.RUNNING]
        ).exists()
        if not unfinished:
            failed = job.chunks.filter(status=PredictionChunk.Status.FAILED)
            job.status = (
                PredictionJob.Status.FAILED if failed.exists() else PredictionJob.Status.DONE
            )
            first = failed.exclude(error="").values_list("error", flat=True).first()
            job.error = first or ""
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
    return chunk
