"""What the Celery workers report about themselves."""

from __future__ import annotations

from dataclasses import dataclass

from coding_app.celery import QUEUES, app


@dataclass(frozen=True)
class WorkerInfo:
    hostname: str
    queues: list[str]


def workers_online(timeout: float = 1.0) -> list[WorkerInfo]:
    """Workers that answer within ``timeout`` seconds, with the queues they serve."""
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return [
        WorkerInfo(hostname=name, queues=sorted(q["name"] for q in queues))
        for name, queues in sorted(replies.items())
    ]


def queues_unserved(workers: list[WorkerInfo]) -> list[str]:
    """The desk's queues no answering worker serves: their tasks wait."""
    served = {queue for worker in workers for queue in worker.queues}
    return [queue for queue in QUEUES if queue not in served]
