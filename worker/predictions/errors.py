"""Why a prediction chunk stopped, in words an admin can act on.

A chunk's error is shown on the job page as it is stored; the admin who
reads it is not a Python programmer, so an exception's class name
(``SoftTimeLimitExceeded()``) is never the message. One function maps every
error the task meets to a sentence that says what happened and what to do.
"""

from __future__ import annotations

from billiard.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from worker.backends.base import BackendConfigError, TransientBackendError


def chunk_error_in_words(error: BaseException) -> str:
    """The sentence the job page shows for a chunk that ``error`` stopped."""
    if isinstance(error, SoftTimeLimitExceeded):
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        return (
            f"the chunk took longer than the time limit of {limit} s "
            "(CELERY_TASK_SOFT_TIME_LIMIT); retry it, or start the job again "
            "with smaller chunks"
        )
    if isinstance(error, TimeLimitExceeded):
        limit = settings.CELERY_TASK_TIME_LIMIT
        return (
            f"the worker stopped the chunk at the hard time limit of {limit} s "
            "(CELERY_TASK_TIME_LIMIT); retry it, or start the job again with smaller chunks"
        )
    if isinstance(error, WorkerLostError):
        return "the worker process died while predicting (out of memory?); retry the chunk"
    if isinstance(error, MemoryError):
        return "the worker ran out of memory; retry with smaller chunks or a smaller model"
    if isinstance(error, TransientBackendError):
        return f"the model kept failing ({error}); gave up after six tries"
    if isinstance(error, BackendConfigError):
        return f"the model cannot be used: {error}"
    if isinstance(error, (OperationalError, InterfaceError)):
        return f"the database could not be reached ({_first_line(error)}); retry the chunk"
    if isinstance(error, DatabaseError):
        return f"the database refused the predictions ({_first_line(error)})"
    if isinstance(error, FileNotFoundError):
        return f"a file the model needs is missing: {error.filename or error}"
    detail = _first_line(error)
    named = type(error).__name__
    return (
        f"an unexpected error in the worker ({named}{': ' + detail if detail else ''}); "
        "the worker's log has the details"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else ""
