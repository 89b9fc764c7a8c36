"""What the admin's home shows: where the notes are, the model at work, and
the work under way, each figure a query over the rows themselves.

Notes move from an upload through a prediction job to the coders' queue and
out as submitted reviews; the home counts each stage. There is no "held"
stage: nothing in the desk holds a note back from the queue, so the page
does not pretend to count one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import F, Func, IntegerField, Q, QuerySet, Sum
from django.utils import timezone

from coding_app.jobs import JobStatus
from review.desk.queue import queue_counts
from review.models import Review
from training.models import Evaluation, ExportSnapshot, TrainingRun
from worker.models import ModelVersion, PredictionChunk, PredictionJob, UploadBatch
from worker.registry.versions import active_version

UNFINISHED = [JobStatus.QUEUED, JobStatus.RUNNING]
JobT = TypeVar("JobT", UploadBatch, PredictionJob, TrainingRun, ExportSnapshot)
WORK_SHOWN = 10


@dataclass(frozen=True)
class NoteStages:
    """How many notes (review tasks, for the queue) are at each stage."""

    being_predicted: int
    waiting: int
    in_review: int
    reviewed_this_week: int
    week_starts: datetime


@dataclass(frozen=True)
class ActiveModel:
    version: ModelVersion
    evaluation: Evaluation | None

    @property
    def category_f1(self) -> float | None:
        """The version's category-level micro F1 on the held-out notes, when
        an evaluation measured it (as candidate or as the active side)."""
        if self.evaluation is None:
            return None
        side = "candidate" if self.evaluation.candidate_id == self.version.pk else "active"
        value = self.evaluation.level(side, "category").get("f1_micro")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class WorkUnderWay:
    uploads: list[UploadBatch]
    jobs: list[PredictionJob]
    runs: list[TrainingRun]
    exports: list[ExportSnapshot]

    @property
    def empty(self) -> bool:
        return not (self.uploads or self.jobs or self.runs or self.exports)


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of ``now``'s week in TIME_ZONE, as the statistics count weeks."""
    local = timezone.localtime(now)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def note_stages(now: datetime | None = None) -> NoteStages:
    start = week_start(now or timezone.now())
    queue = queue_counts()
    cardinality = Func(F("note_ids"), function="cardinality", output_field=IntegerField())
    predicting: int = PredictionChunk.objects.filter(
        status__in=UNFINISHED, job__status__in=UNFINISHED
    ).aggregate(notes=Sum(cardinality, default=0))["notes"]
    reviewed = Review.objects.filter(
        status=Review.Status.SUBMITTED, submitted_at__gte=start
    ).count()
    return NoteStages(
        being_predicted=predicting,
        # A lease that ran out is back in the queue for the next coder.
        waiting=queue.waiting + queue.expired,
        in_review=queue.leased,
        reviewed_this_week=reviewed,
        week_starts=start,
    )


def active_model() -> ActiveModel | None:
    version = active_version()
    if version is None:
        return None
    evaluation = (
        Evaluation.objects.filter(Q(candidate=version) | Q(active=version))
        .select_related("run")
        .order_by("-created_at", "-pk")
        .first()
    )
    return ActiveModel(version=version, evaluation=evaluation)


def _unfinished(rows: QuerySet[JobT]) -> list[JobT]:
    return list(rows.filter(status__in=UNFINISHED).order_by("-created_at", "-pk")[:WORK_SHOWN])


def work_under_way() -> WorkUnderWay:
    return WorkUnderWay(
        uploads=_unfinished(UploadBatch.objects.all()),
        jobs=_unfinished(PredictionJob.objects.select_related("model_version")),
        runs=_unfinished(TrainingRun.objects.select_related("base_version")),
        exports=_unfinished(ExportSnapshot.objects.all()),
    )
