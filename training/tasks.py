"""Celery tasks of the training app: ids in, one service call.

``train_run_task`` is routed to the ``training`` queue by its name
(``training.tasks.train_*``, see ``coding_app.celery``) and acknowledged
late there; the run's own status makes a redelivery harmless.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

# A run waiting for the training lock looks again after this long, for as
# long as a long run may take (the lock is held only while one trains).
BUSY_RETRY_S = 60
BUSY_MAX_RETRIES = 24 * 60


@shared_task(bind=True, max_retries=BUSY_MAX_RETRIES)
def train_run_task(self: Task[Any, Any], run_id: int) -> None:
    from training.runs.services import TrainingBusy, training_run_execute

    try:
        training_run_execute(run_id=run_id)
    except TrainingBusy as busy:
        raise self.retry(exc=busy, countdown=BUSY_RETRY_S) from busy


@shared_task
def retrain_check_task() -> None:
    """Run by celery beat every ``RETRAIN_CHECK_MINUTES``."""
    from training.runs.schedule import retrain_check

    retrain_check()
