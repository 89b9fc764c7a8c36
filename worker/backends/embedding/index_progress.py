"""Where a code-index build stands, readable by every process of the machine.

The one builder of an index (see ``code_index.code_index_load_or_build``)
holds ``IndexLock`` on ``<stem>.lock`` in the cache folder and rewrites
``<stem>.progress.json`` beside it after each part it embeds; the workers
waiting for the index and the web pages ("Preparing the code index: 41 %")
read that file. The lock is an ``flock``: the kernel drops it when its holder
dies, so a build that stopped reads as stopped, never as running. Lock files
stay in place: removing one while another process waits on it would let a
third lock a new file of the same name and build at the same time.

Standard library only, so that the web process reads progress without
loading torch.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


class ProgressState:
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class IndexProgress:
    """One index's build: codes embedded of the total, and its history.

    ``priority_stem`` names the latest published index of the codes embedded
    first and ``priority_codes`` its size (empty and 0 until there is one);
    ``builds`` counts builds started from nothing and ``resumes`` those that
    went on from parts already embedded.
    """

    stem: str
    encoder: str
    release_key: str
    state: str = ProgressState.BUILDING
    codes_done: int = 0
    codes_total: int = 0
    priority_codes: int = 0
    priority_stem: str = ""
    builds: int = 0
    resumes: int = 0
    builder: str = ""
    error: str = ""
    updated_at: float = 0.0

    @property
    def percent(self) -> int:
        """Whole per cent done, never 100 before the index is published."""
        if self.state == ProgressState.READY:
            return 100
        if not self.codes_total:
            return 0
        return min(99, self.codes_done * 100 // self.codes_total)


def progress_path(cache_dir: Path, stem: str) -> Path:
    return Path(cache_dir) / f"{stem}.progress.json"


def lock_path(cache_dir: Path, stem: str) -> Path:
    return Path(cache_dir) / f"{stem}.lock"


def progress_read(path: Path) -> IndexProgress | None:
    """The progress in ``path``; None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(IndexProgress)}
        return IndexProgress(**{k: v for k, v in data.items() if k in known})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as error:
        logger.warning("Ignoring unreadable code-index progress %s: %s", path, error)
        return None


def progress_write(path: Path, progress: IndexProgress) -> IndexProgress:
    """Replace ``path`` with ``progress``, stamped now; readers never see half a file."""
    stamped = replace(progress, updated_at=time.time())
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(stamped), handle)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return stamped


class IndexLock:
    """The exclusive lock that makes one process the builder of an index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self, *, blocking: bool) -> bool:
        """Take the lock (waiting for it when ``blocking``); False when another holds it."""
        if self._file is not None:
            raise RuntimeError(f"{self.path} is already locked by this holder")
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - kept while held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(builder_name())
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_held(path: Path) -> bool:
    """Whether some process holds the builder's lock on ``path`` now."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def builder_name() -> str:
    """Who builds, as the lock file and the progress record it: host and pid."""
    return f"{os.uname().nodename}:{os.getpid()}"


@dataclass(frozen=True)
class IndexBuildStatus:
    """An unfinished build as a page shows it: its progress, and whether a
    builder is at work on it now (a stopped one resumes when a worker next
    needs the index)."""

    progress: IndexProgress
    running: bool


def index_builds_unfinished(cache_dir: Path) -> list[IndexBuildStatus]:
    """The builds of indexes in ``cache_dir`` not yet published."""
    found = []
    for path in sorted(Path(cache_dir).glob("code-index-*.progress.json")):
        progress = progress_read(path)
        if progress is None or progress.state == ProgressState.READY:
            continue
        running = lock_held(lock_path(cache_dir, progress.stem))
        found.append(IndexBuildStatus(progress=progress, running=running))
    return found
