"""Shared fixtures: users per role, a clean cache, a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.models import User

pytest_plugins = ["tests.browser", "tests.llm_fixtures"]

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"
# The chapters the test notes are about (infections, blood, endocrine,
# mental, circulatory, respiratory, genitourinary, symptoms): ~6,000 codes
# embed in seconds, where all ~74,000 take minutes on a CI machine.
TEST_EMBEDDING_CHAPTERS = ["1", "3", "4", "5", "9", "10", "14", "18"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests (whole processes: the run command, workers) at the head
    of the transactional tests, in their order: spread over the xdist
    processes early, not left to one process at the end while the other has
    finished. pytest-django's order (database tests, then transactional, then
    the rest) stays: the slow tests are all transactional."""
    slow = [item for item in items if item.get_closest_marker("slow")]
    if not slow:
        return
    rest = [item for item in items if not item.get_closest_marker("slow")]
    head = next((i for i, item in enumerate(rest) if _transactional(item)), len(rest))
    items[:] = [*rest[:head], *slow, *rest[head:]]


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(fixtures)
    )


@pytest.fixture(scope="session", autouse=True)
def _narrow_embedding_codes() -> Iterator[None]:
    """Every embedding backend of the session, in this process and in the
    workers and servers it starts, ranks only the test chapters' codes."""
    from django.conf import settings

    saved = settings.EMBEDDING_CODE_CHAPTERS, os.environ.get("EMBEDDING_CODE_CHAPTERS")
    settings.EMBEDDING_CODE_CHAPTERS = TEST_EMBEDDING_CHAPTERS
    os.environ["EMBEDDING_CODE_CHAPTERS"] = ",".join(TEST_EMBEDDING_CHAPTERS)
    yield
    settings.EMBEDDING_CODE_CHAPTERS = saved[0]
    if saved[1] is None:
        os.environ.pop("EMBEDDING_CODE_CHAPTERS", None)
    else:
        os.environ["EMBEDDING_CODE_CHAPTERS"] = saved[1]


@pytest.fixture(scope="session", autouse=True)
def _whole_code_index_only() -> Iterator[None]:
    """Predictions wait for the whole code index (never rank only the codes
    embedded first), so the codes a test expects never depend on whether
    the cache was cold; the tests of the first run turn it on themselves."""
    from django.conf import settings

    saved = settings.EMBEDDING_PARTIAL_INDEX, os.environ.get("EMBEDDING_PARTIAL_INDEX")
    settings.EMBEDDING_PARTIAL_INDEX = False
    os.environ["EMBEDDING_PARTIAL_INDEX"] = "false"
    yield
    settings.EMBEDDING_PARTIAL_INDEX = saved[0]
    if saved[1] is None:
        os.environ.pop("EMBEDDING_PARTIAL_INDEX", None)
    else:
        os.environ["EMBEDDING_PARTIAL_INDEX"] = saved[1]


@pytest.fixture(scope="session", autouse=True)
def _flush_keeps_the_code_set() -> Iterator[None]:
    """The flush that ends a transactional test leaves the loaded release.

    Emptying the code tables cost the next test 5 s of COPY (98,000 rows and
    their search index) or 15 s of ``load_codes``: most of the suite's time.
    The tables are kept only while they hold exactly the packaged release,
    whole and active; a test that loaded, changed or removed a release has
    them emptied as before, and the next test that needs codes loads them.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    from coding_app.models import Code, CodeRelease

    kept = {CodeRelease._meta.db_table, Code._meta.db_table}
    original = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Any,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if _only_the_packaged_release(self.connection):
            tables = [table for table in tables if table not in kept]
        return original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


def _only_the_packaged_release(connection: Any) -> bool:
    from coding_app.codes.release import PACKAGED_RELEASE_NAME
    from coding_app.models import Code, CodeRelease

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) = 1 AND bool_and(is_active) AND bool_and(name = %s)"
                f" AND bool_and(code_count = (SELECT count(*) FROM {Code._meta.db_table}))"
                f" FROM {CodeRelease._meta.db_table}",
                [PACKAGED_RELEASE_NAME],
            )
            row = cursor.fetchone()
    except DatabaseError:  # a migration test left the tables out: flush what is there
        return False
    return bool(row and row[0])


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # allauth keeps its login rate limits in the cache (Redis); one test's
    # failed logins must not lock the next test out.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(*roles: Role, email: str | None = None) -> User:
        address = (
            email or f"{'-'.join(r.value for r in roles) or 'norole'}{next(counter)}@example.org"
        )
        return user_create(email=address, password=PASSWORD, roles=list(roles) or [Role.CODER])

    return make


@pytest.fixture
def login_as(client: Client, make_user: Callable[..., User]) -> Callable[[Role], User]:
    def login(role: Role) -> User:
        user = make_user(role)
        client.force_login(user)
        return user

    return login


def subprocess_environment() -> dict[str, str]:
    """The environment for a subprocess that must use the test database."""
    from django.db import connection

    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"], settings_dict["PORT"]
    credentials = f"{settings_dict['USER']}:{settings_dict['PASSWORD']}"
    if host.startswith("/"):  # a socket folder, as the embedded server uses
        location = f"{credentials}@/{settings_dict['NAME']}?host={host}"
    else:
        location = f"{credentials}@{host}:{port or 5432}/{settings_dict['NAME']}"
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgresql://{location}"
    env["DJANGO_SETTINGS_MODULE"] = "coding_app.settings"
    return env


def celery_worker_start(
    env: dict[str, str],
    hostname: str,
    *,
    queues: str = "default,inference,training",
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a real Celery worker and return once it answers a ping.

    ``--pool solo`` runs tasks in the worker's own process, so killing that
    process kills the task it was running, as a crashed machine would. With
    ``log_path`` its output, at INFO, goes to that file.
    """
    from coding_app.celery import app

    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the worker keeps it
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coding_app",
            "worker",
            "--queues",
            queues,
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--hostname",
            hostname,
            "--loglevel",
            "INFO" if log else "WARNING",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )
    if log:
        log.close()  # the worker has its own copy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test worker {hostname} exited with {process.returncode}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return process
    process.kill()
    raise RuntimeError(f"the test worker {hostname} did not answer within 60 s")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: object) -> Iterator[str]:
    """A real Celery worker on all three queues, for the whole session."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        env = subprocess_environment()
    hostname = f"test-{os.getpid()}@localhost"
    process = celery_worker_start(env, hostname)
    try:
        yield hostname
    finally:
        process.terminate()
        process.wait(30)
