"""The prediction chunk's Celery task, routed to the ``inference`` queue by
its name (``worker.predictions.tasks.predict_*``, see ``coding_app.celery``)
and acknowledged late there; retried with backoff while the model is away."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from worker.backends.base import BackendConfigError, TransientBackendError

logger = logging.getLogger(__name__)

# Backoff for a backend that is briefly away (a server restarting, a GPU
# busy): 5 s, 10 s, 20 s, ... capped at five minutes, six tries in all.
RETRY_BASE_S = 5
RETRY_MAX_S = 300
MAX_RETRIES = 5


def retry_countdown(retries: int) -> int:
    """Seconds to wait before retry number ``retries + 1``: doubling, capped."""
    doubled: int = RETRY_BASE_S * 2**retries
    return min(doubled, RETRY_MAX_S)


@shared_task(bind=True, max_retries=MAX_RETRIES)
def predict_chunk_task(self: Task[Any, Any], chunk_id: int) -> None:
    """Routed to the ``inference`` queue (late ack): a dead worker's chunk is redone."""
    from worker.predictions.errors import chunk_error_in_words
    from worker.predictions.services import prediction_chunk_fail, prediction_chunk_run

    try:
        prediction_chunk_run(chunk_id)
    except TransientBackendError as error:
        retries = self.request.retries
        if retries < MAX_RETRIES:
            logger.warning("chunk %s: %s; retry %s", chunk_id, error, retries + 1)
            raise self.retry(exc=error, countdown=retry_countdown(retries)) from error
        prediction_chunk_fail(chunk_id, chunk_error_in_words(error))
    except Exception as error:
        # A bad model, a bug or a time limit: the chunk must not stay
        # "running" forever, or its job would never finish. The admin reads
        # why in words; the worker's log keeps the traceback of a bug.
        prediction_chunk_fail(chunk_id, chunk_error_in_words(error))
        if not isinstance(error, BackendConfigError):
            raise
