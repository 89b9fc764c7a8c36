"""Live progress of a running upload, kept in the cache.

The notes of an upload are written in one transaction, invisible to other
connections until it commits; the page polls the cache instead.
"""

from __future__ import annotations

from typing import TypedDict

from django.core.cache import cache

PROGRESS_TTL = 60 * 60 * 24


class Progress(TypedDict):
    rows_read: int
    fraction: float


def _key(batch_id: int) -> str:
    return f"worker:upload:{batch_id}:progress"


def progress_publish(*, batch_id: int, rows_read: int, fraction: float) -> None:
    progress: Progress = {"rows_read": rows_read, "fraction": min(fraction, 1.0)}
    cache.set(_key(batch_id), progress, PROGRESS_TTL)


def progress_of(batch_id: int) -> Progress:
    found: Progress | None = cache.get(_key(batch_id))
    return found or {"rows_read": 0, "fraction": 0.0}
