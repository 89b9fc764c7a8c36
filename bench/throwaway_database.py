"""A database of the bench's own, next to DATABASE_URL's, dropped at the end.

The benches write rows that could not be cleaned out of a shared database
(the audit trail is append-only) or that would skew its figures, so each one
works in a database of its own on the same PostgreSQL server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The server's maintenance database: where a database is created and dropped.
MAINTENANCE_DATABASE = "postgres"


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name``."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def database_create(server_url: str, name: str) -> None:
    _maintenance("CREATE DATABASE {}", server_url, name)


def database_drop(server_url: str, name: str) -> None:
    """Drop ``name`` if it exists, closing the connections still open to it."""
    _maintenance("DROP DATABASE IF EXISTS {} WITH (FORCE)", server_url, name)


def _maintenance(statement: str, server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = database_url(server_url, MAINTENANCE_DATABASE)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL(statement).format(sql.Identifier(name)))


@contextmanager
def throwaway_database(
    server_url: str, name: str, *, keep: bool = False, reuse: bool = False
) -> Iterator[str]:
    """Create ``name`` afresh (a kept one from an earlier run is dropped
    first), point DATABASE_URL at it and yield its URL; at the end, also when
    the bench fails, close Django's connections and drop it. ``keep`` leaves
    it for a look at the plans, ``reuse`` works in a kept one as it is."""
    if not reuse:
        database_drop(server_url, name)
        database_create(server_url, name)
    url = os.environ["DATABASE_URL"] = database_url(server_url, name)
    try:
        yield url
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not keep:
            database_drop(server_url, name)


def postgres_server_url() -> str:
    """DATABASE_URL, which must name a PostgreSQL server; exits otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the bench makes its own database).")
    return url


def sql_script_run(script: str, params: Mapping[str, Any]) -> None:
    """Run the statements of ``script`` (each ending in ``;`` and a newline)
    one by one on Django's connection, each with the same ``params``."""
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in script.split(";\n"):
            if statement.strip():
                cursor.execute(statement, params)
