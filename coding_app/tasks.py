from __future__ import annotations

from typing import Any

from celery import Task, shared_task


@shared_task(bind=True)
def ping(self: Task[Any, Any]) -> dict[str, str]:
    """Answer with the worker and queue that ran it: a liveness probe."""
    delivery = self.request.delivery_info or {}
    return {
        "pong": "ok",
        "hostname": str(self.request.hostname),
        "queue": str(delivery.get("routing_key", "")),
    }
