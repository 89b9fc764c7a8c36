"""Reads for prediction jobs: the list, and one job's live figures."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from worker.models import Prediction, PredictionChunk, PredictionJob

RECENT_JOBS = 20


def prediction_jobs_recent() -> QuerySet[PredictionJob]:
    return PredictionJob.objects.select_related("model_version", "batch", "created_by")[
        :RECENT_JOBS
    ]


@dataclass(frozen=True)
class FailedChunk:
    """A chunk that stopped, with its notes and why: what a retry sends back."""

    pk: int
    index: int
    notes: int
    error: str


@dataclass(frozen=True)
class JobProgress:
    """What the job page shows while it runs and once it is over.

    Counts come from the predictions and chunks themselves, never from
    counters a task increments, so a redone chunk cannot count twice.
    """

    predicted: int
    unreadable: int
    skipped: int
    failed_notes: int
    chunks_done: int
    chunks_failed: int
    chunks_running: int
    seconds: float
    errors: tuple[str, ...]
    failed_chunks: tuple[FailedChunk, ...] = ()

    @property
    def done_notes(self) -> int:
        """Notes that have a prediction from the version, this job's or another's."""
        return self.predicted + self.skipped

    @property
    def finished_notes(self) -> int:
        return self.done_notes + self.failed_notes

    def fraction(self, total: int) -> float:
        return min(self.finished_notes / total, 1.0) if total else 1.0

    def percents(self, total: int) -> tuple[int, int]:
        """The bar's two parts, predicted and failed, in whole percents.

        Kept apart so 100 failed notes never read as progress; the failed part
        is rounded down so the two never pass 100 together.
        """
        if not total:
            return (100, 0) if not self.failed_notes else (0, 100)
        done = min(round(self.done_notes * 100 / total), 100)
        failed = min(self.failed_notes * 100 // total, 100 - done)
        if self.failed_notes and not failed and done < 100:
            failed = 1  # one failed note of thousands still shows
        return done, failed

    @property
    def notes_per_second(self) -> float:
        return self.predicted / self.seconds if self.seconds > 0 else 0.0


def job_progress(job: PredictionJob) -> JobProgress:
    predictions = job.predictions.aggregate(
        predicted=Count("pk"), unreadable=Count("pk", filter=~Q(parse_problem=""))
    )
    chunks = job.chunks.aggregate(
        skipped=Sum("skipped", default=0),
        done=Count("pk", filter=Q(status=PredictionChunk.Status.DONE)),
        failed=Count("pk", filter=Q(status=PredictionChunk.Status.FAILED)),
        running=Count("pk", filter=Q(status=PredictionChunk.Status.RUNNING)),
    )
    failed_notes = _failed_notes(job)
    errors = tuple(
        job.chunks.filter(status=PredictionChunk.Status.FAILED)
        .exclude(error="")
        .values_list("error", flat=True)
        .distinct()[:5]
    )
    end = job.finished_at or timezone.now()
    seconds = (end - job.started_at).total_seconds() if job.started_at else 0.0
    return JobProgress(
        predicted=predictions["predicted"],
        unreadable=predictions["unreadable"],
        skipped=chunks["skipped"],
        failed_notes=failed_notes,
        chunks_done=chunks["done"],
        chunks_failed=chunks["failed"],
        chunks_running=chunks["running"],
        seconds=seconds,
        errors=errors,
        failed_chunks=_failed_chunks(job),
    )


def _failed_chunks(job: PredictionJob, limit: int = 50) -> tuple[FailedChunk, ...]:
    rows = (
        job.chunks.filter(status=PredictionChunk.Status.FAILED)
        .order_by("index")
        .values_list("pk", "index", "note_ids", "error")[:limit]
    )
    return tuple(
        FailedChunk(pk=pk, index=index, notes=len(note_ids), error=error)
        for pk, index, note_ids, error in rows
    )


def _failed_notes(job: PredictionJob) -> int:
    """Notes of failed chunks that got no prediction from this job."""
    failed = job.chunks.filter(status=PredictionChunk.Status.FAILED)
    total = sum(len(ids) for ids in failed.values_list("note_ids", flat=True))
    if not total:
        return 0
    done = job.predictions.filter(note_id__in=_note_ids(failed)).count()
    skipped: int = failed.aggregate(skipped=Sum("skipped", default=0))["skipped"]
    return max(total - done - skipped, 0)


def _note_ids(chunks: QuerySet[PredictionChunk]) -> list[int]:
    return [pk for ids in chunks.values_list("note_ids", flat=True) for pk in ids]


def job_recent_predictions(job: PredictionJob, limit: int = 10) -> QuerySet[Prediction]:
    """The job's latest predictions, to open a few and see what the model said."""
    return (
        job.predictions.select_related("note")
        .annotate(codes=Count("suggestions"))
        .order_by("-pk")[:limit]
    )
