"""Periodic retraining: start a run when enough new reviews have arrived.

The schedule is one row that admins edit; celery beat calls
``retrain_check`` every ``RETRAIN_CHECK_MINUTES`` and it reads the row
afresh each time, so a change takes effect at the next tick without
restarting beat.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from coding_app.models import User
from review.models import Review
from training.models import RetrainSchedule, TrainingRun
from training.runs.services import training_run_create
from worker.models import ModelVersion
from worker.registry.versions import active_version


def retrain_schedule() -> RetrainSchedule:
    schedule, _ = RetrainSchedule.objects.get_or_create(pk=1)
    return schedule


@transaction.atomic
def retrain_schedule_update(
    *, enabled: bool, min_new_reviews: int, method: str, by: User
) -> RetrainSchedule:
    if method != TrainingRun.Method.HEAD:
        # An LLM run needs an export chosen by an admin; the schedule has none.
        raise ValueError("Periodic retraining runs the head method only")
    schedule = retrain_schedule()
    schedule.enabled, schedule.min_new_reviews = enabled, max(1, min_new_reviews)
    schedule.method, schedule.updated_by = method, by
    schedule.save()
    return schedule


def new_reviews_since_last_run() -> int:
    last = TrainingRun.objects.exclude(reviews_until=None).order_by("-reviews_until").first()
    reviews = Review.objects.filter(status=Review.Status.SUBMITTED)
    if last is not None and last.reviews_until is not None:
        reviews = reviews.filter(submitted_at__gt=last.reviews_until)
    return reviews.count()


def retrain_check() -> TrainingRun | None:
    """Start a scheduled run if the schedule is on, no run is waiting or
    running, and enough reviews came in since the last run's cut-off."""
    with transaction.atomic():
        schedule = RetrainSchedule.objects.select_for_update().filter(pk=1).first()
        if schedule is None:
            return None
        schedule.last_checked_at = timezone.now()
        schedule.save(update_fields=["last_checked_at"])
        if not schedule.enabled:
            return None
        busy = TrainingRun.objects.filter(
            status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]
        ).exists()
        if busy or new_reviews_since_last_run() < schedule.min_new_reviews:
            return None
        base = active_version(ModelVersion.Backend.EMBEDDING)
        if base is None:
            return None
        return training_run_create(
            method=schedule.method, base_version=base, hyperparameters={}, created_by=None
        )
