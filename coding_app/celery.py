"""The Celery app: three queues, routed by task name, JSON only.

- ``default``: imports, exports, statistics (CPU workers).
- ``inference``: model predictions (GPU workers in production).
- ``training``: retraining runs (GPU workers, one run at a time).

Tasks on ``inference`` and ``training`` are written to be safe to run twice,
so they are acknowledged late: a worker killed mid-task hands the task back
to the broker instead of losing it.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")

QUEUES = ("default", "inference", "training")
LATE_ACK_QUEUES = frozenset({"inference", "training"})

# Task name patterns to queues; anything unmatched goes to ``default``.
TASK_ROUTES: dict[str, dict[str, str]] = {
    "worker.predictions.tasks.predict_*": {"queue": "inference"},
    "training.tasks.train_*": {"queue": "training"},
    "training.tasks.evaluate_*": {"queue": "training"},
}


def queue_for_task(name: str) -> str:
    """The queue a task of this name is routed to."""
    from fnmatch import fnmatchcase

    for pattern, route in TASK_ROUTES.items():
        if fnmatchcase(name, pattern):
            return route["queue"]
    return "default"


class NamedTask(Protocol):
    """All that an annotation reads of a task."""

    name: str


class QueueTaskOptions:
    """Task annotations that follow from the queue a task is routed to."""

    def annotate(self, task: NamedTask) -> dict[str, Any] | None:
        queue = queue_for_task(task.name)
        if queue not in LATE_ACK_QUEUES:
            return None
        from django.conf import settings

        options: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}
        if queue == "training":
            options["time_limit"] = settings.CELERY_TRAINING_TIME_LIMIT
            options["soft_time_limit"] = settings.CELERY_TRAINING_TIME_LIMIT - 60
        return options


app = Celery("coding_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name, routing_key=name) for name in QUEUES],
    task_default_queue="default",
    task_routes=TASK_ROUTES,
    task_annotations=[QueueTaskOptions()],
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    result_expires=60 * 60 * 24,
    # One task at a time per worker process: inference and training tasks are
    # long, and a prefetched task would wait behind them.
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    task_track_started=True,
)
app.autodiscover_tasks()
