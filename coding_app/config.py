"""Reading configuration from the environment.

Every problem is raised as ``ConfigError`` with a one-line message that names
the variable and what is wrong with it, so that start-up can print that line
instead of a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A setting in the environment is missing or malformed."""


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = env_str(name)
    return Path(raw).expanduser().resolve() if raw else default


@dataclass(frozen=True)
class DatabaseUrl:
    """The parts of a PostgreSQL URL that Django needs."""

    name: str
    user: str
    password: str
    host: str
    port: str

    def django_settings(self) -> dict[str, Any]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }


def parse_database_url(url: str, *, variable: str = "DATABASE_URL") -> DatabaseUrl:
    """Parse ``postgresql://user:pass@host:port/name`` (or ``?host=/socket/dir``)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ConfigError(
            f"{variable} must start with postgresql:// (got {parts.scheme or 'no'} scheme)"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError(f"{variable} names no database (the path after the host is empty)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{variable} has a port that is not a number") from None
    query = parse_qs(parts.query)
    socket_dir = query.get("host", [""])[0]
    host = socket_dir or unquote(parts.hostname or "")
    if not host:
        raise ConfigError(f"{variable} names no host (use @host:port or ?host=/socket/dir)")
    return DatabaseUrl(
        name=name,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=host,
        port=str(port or ""),
    )


@dataclass(frozen=True)
class RedisUrl:
    """A Redis location, over TCP (``redis://``) or a Unix socket (``unix://``)."""

    url: str
    socket_path: str
    db: int

    @property
    def celery_url(self) -> str:
        """The same location in the spelling that kombu's transport expects."""
        if self.socket_path:
            return f"redis+socket://{self.socket_path}?virtual_host={self.db}"
        return self.url


def parse_redis_url(url: str, *, variable: str = "REDIS_URL") -> RedisUrl:
    parts = urlsplit(url)
    if parts.scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ConfigError(f"{variable} names no host (expected redis://host:port/db)")
        try:
            parts.port  # noqa: B018 - urllib validates the port lazily
        except ValueError:
            raise ConfigError(f"{variable} has a port that is not a number") from None
        db_text = parts.path.lstrip("/") or "0"
        socket_path = ""
    elif parts.scheme == "unix":
        socket_path = parts.path
        if not socket_path:
            raise ConfigError(f"{variable} names no socket path (expected unix:///path?db=0)")
        db_text = parse_qs(parts.query).get("db", ["0"])[0]
    else:
        raise ConfigError(
            f"{variable} must start with redis://, rediss:// or unix:// "
            f"(got {parts.scheme or 'no'} scheme)"
        )
    if not db_text.isdigit():
        raise ConfigError(f"{variable} has a database number {db_text!r} that is not a number")
    return RedisUrl(url=url, socket_path=socket_path, db=int(db_text))
