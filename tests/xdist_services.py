"""Each pytest-xdist worker on its own Redis database.

pytest-django gives every xdist worker its own test database (``..._gw0``);
Redis has no such thing, and two workers sharing a database would purge each
other's queues, answer each other's pings and take each other's tasks (the
session's Celery worker included). Loaded with ``-p`` (pyproject's addopts),
this module runs before Django reads its settings, so the web process, the
cache, the broker and every worker or server a test starts (they inherit the
environment) use the worker's database: worker ``gwN`` uses database
``base + N + 1``.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default ``databases``


def worker_redis_url(url: str, worker: str) -> str:
    """``url`` moved to the database of xdist worker ``worker`` ("gw3")."""
    parts = urlsplit(url)
    index = int(worker.removeprefix("gw"))
    if parts.scheme == "unix":
        query = parse_qs(parts.query)
        base = int(query.get("db", ["0"])[0])
        query["db"] = [str(_database(base, index))]
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    base = int(parts.path.lstrip("/") or "0")
    return urlunsplit(parts._replace(path=f"/{_database(base, index)}"))


def _database(base: int, index: int) -> int:
    database = base + index + 1
    if database >= REDIS_DATABASES:
        raise RuntimeError(
            f"xdist worker gw{index} would need Redis database {database}; "
            f"run fewer workers (-n) or start from a lower REDIS_URL database"
        )
    return database


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
