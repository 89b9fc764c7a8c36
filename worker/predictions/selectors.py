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

    @property
    def finished_notes(self) -> int:
        return self.predicted + self.skipped + self.failed_notes

    def fraction(self, total: int) -> float:
        return min(self.finished_notes / total, 1.0) if total else 1.0

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
