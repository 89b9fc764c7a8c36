"""Preparing the code index in the background while predictions wait.

A prediction chunk must not build the index in its own task: on a CPU the
build takes minutes (more than a task's time limit on a busy machine), and
every worker process would build it at once. ``code_index_usable`` instead
makes sure that one process of the machine builds it, in a thread that no
task time limit stops (holding the index's lock; when that builder dies, a
waiting worker takes the build over and resumes it from its parts), and
waits until there is an index to predict with: the whole index, or, when
partial predictions are allowed and the build was given priority codes, the
index of those codes, published as soon as they are embedded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from coding_app.codes.entry import CodeEntry
from worker.backends.base import BackendConfigError, TransientBackendError
from worker.backends.embedding.encoder import load_encoder, load_encoder_private
from worker.backends.embedding.index_files import json_read
from worker.backends.embedding.index_progress import IndexLock, ProgressState, progress_read
from worker.backends.embedding.index_store import (
    IndexTarget,
    index_build_locked,
    index_read,
    index_target,
)

logger = logging.getLogger(__name__)

POLL_S = 0.5
# Once the codes needed first are published, the first predictions get the
# CPU to themselves this long before the rest is embedded: on two busy
# cores the two compete, and the first batch is what fills the queue.
HEAD_START_S = 30.0

_threads_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}
# What a builder thread of this process died of, by index, until a waiter reads it.
_failures: dict[str, Exception] = {}


@dataclass(frozen=True)
class UsableIndex:
    """The index to predict with now: its codes (in index order), whether
    it is the whole index, and how many codes the whole one has."""

    entries: tuple[CodeEntry, ...]
    complete: bool
    codes_total: int


def code_index_usable(
    target: IndexTarget,
    *,
    priority: Callable[[], Sequence[str]],
    partial: bool,
    wait_s: float,
) -> UsableIndex:
    """Wait (at most ``wait_s``) for an index to predict with, making sure
    a builder is at work. ``priority()`` names the codes to embed first; it
    is asked only when this process starts a build. Raises
    ``TransientBackendError`` when the time is up, so the task retries."""
    deadline = time.monotonic() + wait_s
    while True:
        usable = usable_now(target, partial=partial)
        if usable is not None:
            return usable
        try:
            _builder_ensure(target, priority)
        except OSError as error:
            # No cache folder to share: the backend builds in memory, as
            # code_index.code_index_for does.
            logger.warning("Cannot prepare the code index in %s: %s", target.cache_dir, error)
            return UsableIndex(target.entries, complete=True, codes_total=len(target.entries))
        _raise_failure(target)
        if time.monotonic() >= deadline:
            raise TransientBackendError(_not_ready(target))
        time.sleep(POLL_S)


def code_index_build_here(
    target: IndexTarget,
    *,
    priority: Callable[[], Sequence[str]],
    head_start: Callable[[], object] | None = None,
) -> bool:
    """Build ``target`` in this thread (the ``priority()`` codes first)
    unless it is published or another process is building it; whether it
    is published now. For a process of its own, such as ``make run``'s.
    ``head_start`` (default: ``HEAD_START_S`` of sleep) runs once the first
    codes are published, before the rest is embedded."""
    if usable_now(target, partial=False) is not None:
        return True
    target.cache_dir.mkdir(parents=True, exist_ok=True)
    lock = IndexLock(target.lock_file)
    if not lock.acquire(blocking=False):
        return False
    try:
        if index_read(target, warn=False) is None:
            encoder = load_encoder(target.encoder_name)
            after = head_start or _head_start
            index_build_locked(target, encoder, list(priority()), after_priority=after)
    finally:
        lock.release()
    return True


def usable_now(target: IndexTarget, *, partial: bool) -> UsableIndex | None:
    """The whole index when it is published; else, with ``partial``, the
    index of the codes embedded first when that is published."""
    total = len(target.entries)
    if target.file(".json").exists() and target.file(".npy").exists():
        return UsableIndex(target.entries, complete=True, codes_total=total)
    progress = progress_read(target.progress_file) if partial else None
    if progress is None or not progress.priority_stem:
        return None
    try:
        codes = json_read(target.cache_dir / f"{progress.priority_stem}.json")["codes"]
        known = {entry.code: entry for entry in target.entries}
        entries = [known[code] for code in codes]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    first = index_target(
        entries,
        encoder_name=target.encoder_name,
        release_key=target.release_key,
        cache_dir=target.cache_dir,
    )
    if first.stem != progress.priority_stem:
        return None
    return UsableIndex(first.entries, complete=False, codes_total=total)


def _builder_ensure(target: IndexTarget, priority: Callable[[], Sequence[str]]) -> None:
    """Start a builder thread unless one of this process, or another
    process (it holds the lock), is at work on ``target``."""
    with _threads_lock:
        running = _threads.get(target.stem)
        if running is not None and running.is_alive():
            return
        target.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = IndexLock(target.lock_file)
        if not lock.acquire(blocking=False):
            return
        try:
            codes = list(priority())
        except BaseException:
            lock.release()
            raise
        thread = threading.Thread(
            target=_build,
            args=(target, lock, codes),
            name=f"code-index-build {target.stem}",
            daemon=True,
        )
        _threads[target.stem] = thread
        thread.start()


def _build(target: IndexTarget, lock: IndexLock, priority: list[str]) -> None:
    try:
        if index_read(target, warn=False) is None:
            encoder = load_encoder_private(target.encoder_name)
            index_build_locked(target, encoder, priority, after_priority=_head_start)
    except Exception as error:
        logger.exception("Building the code index %s failed", target.stem)
        with _threads_lock:
            _failures[target.stem] = error
    finally:
        lock.release()


def _head_start() -> None:
    time.sleep(HEAD_START_S)


def _raise_failure(target: IndexTarget) -> None:
    with _threads_lock:
        error = _failures.pop(target.stem, None)
    if isinstance(error, BackendConfigError):
        raise BackendConfigError(f"Cannot build the code index: {error}") from error
    if error is not None:
        raise TransientBackendError(f"Building the code index failed: {error!r}") from error


def _not_ready(target: IndexTarget) -> str:
    progress = progress_read(target.progress_file)
    if progress is None or progress.state == ProgressState.FAILED:
        return "The code index is not ready yet; a worker is preparing it."
    return (
        f"The code index is still being prepared ({progress.percent} %, "
        f"{progress.codes_done:,} of {progress.codes_total:,} codes)."
    )
