"""The active release's hierarchy, read from the ``Code`` table once per process.

Web workers, Celery workers and trl reward functions all call
``current_hierarchy()``; it costs one small query to learn which release is
active and reads the whole table only when that release is new to the process
(or was reloaded with changed files).
"""

from __future__ import annotations

import threading

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.models import ENTRY_FIELDS, Code, CodeRelease

_lock = threading.Lock()
_cached: dict[tuple[int, str], Hierarchy] = {}


class CodeSetNotLoaded(LookupError):
    def __init__(self) -> None:
        super().__init__(
            "No ICD-10-CM release is loaded yet; run `python manage.py load_codes` first."
        )


def active_release() -> CodeRelease | None:
    return CodeRelease.objects.filter(is_active=True).first()


def current_hierarchy() -> Hierarchy:
    """The hierarchy of the active release; raises CodeSetNotLoaded if none."""
    release = active_release()
    if release is None:
        raise CodeSetNotLoaded()
    key = (release.pk, release.checksum)
    with _lock:
        if key not in _cached:
            # One release in memory at a time: a reload replaces it.
            _cached.clear()
            _cached[key] = hierarchy_from_table(release)
        return _cached[key]


def hierarchy_from_table(release: CodeRelease) -> Hierarchy:
    rows = Code.objects.filter(release=release).order_by("id").values(*ENTRY_FIELDS)
    return Hierarchy.from_rows(rows.iterator(chunk_size=10_000), release.name)
