"""Checks that the configured services answer, with one readable line each.

Run before anything else starts, so that an operator with a wrong URL reads
"DATABASE_URL: ... connection refused" instead of a traceback from deep inside
a worker.
"""

from __future__ import annotations

import psycopg
import redis

from coding_app.config import DatabaseUrl, RedisUrl


def database_problem(parts: DatabaseUrl, *, timeout: int = 3) -> str | None:
    """Why the PostgreSQL server at ``parts`` cannot be used, or None if it can."""
    try:
        with psycopg.connect(
            dbname=parts.name,
            user=parts.user or None,
            password=parts.password or None,
            host=parts.host,
            port=parts.port or None,
            connect_timeout=timeout,
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        return f"DATABASE_URL: cannot use PostgreSQL at {parts.host} ({reason})"
    return None


def redis_problem(parts: RedisUrl, *, timeout: float = 3.0) -> str | None:
    """Why the Redis server at ``parts`` cannot be used, or None if it can."""
    try:
        client = redis.Redis.from_url(
            parts.url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        client.ping()
        client.close()
    except (redis.RedisError, OSError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        return f"REDIS_URL: cannot reach Redis ({reason})"
    return None
