"""The code index on disk: built once per machine, in parts, published whole.

Each index (named ``<stem>``, see ``index_recipe``) has in the cache folder:

- ``<stem>.npy`` and ``<stem>.json``: the published index (the matrix; the
  codes, term owners and digest). Each is written atomically, the matrix
  first: a reader trusts the JSON, which names the digest of the matrix.
- ``<stem>.lock``: the builder's lock (``index_progress.IndexLock``).
- ``<stem>.progress.json``: codes embedded of the total, and how many builds
  started from nothing or resumed, for waiting workers and for the pages.
- ``<stem>.build/``: the plan and the parts embedded so far
  (``index_parts``), removed once the index is published.

``index_ensure`` is the one way in: it reads the published index, or takes
the lock (waiting while another process holds it) and then reads what that
builder published, building only when nothing is there. A build given
``priority`` codes embeds those first, in that order, and publishes them as
an index of their own, named as any index of exactly those codes is, so
predictions can start from it while the rest is embedded
(``worker.backends.index_warmup``); when they take longer than
``FIRST_PARTIAL_S``, those ready by then are published first.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sentence_transformers import SentenceTransformer

from coding_app.codes.entry import CodeEntry
from worker.backends.embedding import index_parts
from worker.backends.embedding.index_files import json_read, json_write, matrix_read, matrix_write
from worker.backends.embedding.index_parts import (
    PartPlan,
    part_embed,
    part_path,
    part_read,
    plan_read,
    plan_start,
    rows_for,
)
from worker.backends.embedding.index_progress import (
    IndexLock,
    IndexProgress,
    ProgressState,
    builder_name,
    lock_path,
    progress_path,
    progress_read,
    progress_write,
)
from worker.backends.embedding.index_recipe import (
    INDEX_RECIPE,
    billable_entries,
    cache_stem,
    code_index_texts,
    index_digest,
)

logger = logging.getLogger(__name__)

_FORMAT = 1
# A build whose codes needed first take longer than this (a busy machine)
# publishes those ready by then, so predictions can start; the rest of them
# follow in a second, larger partial index when they are all embedded.
FIRST_PARTIAL_S = 20.0


@dataclass(frozen=True)
class IndexTarget:
    """One index: its billable entries in index order, and where it lives."""

    entries: tuple[CodeEntry, ...]
    encoder_name: str
    release_key: str
    cache_dir: Path
    digest: str

    @property
    def stem(self) -> str:
        return cache_stem(self.encoder_name, self.release_key, self.digest)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(entry.code for entry in self.entries)

    @property
    def lock_file(self) -> Path:
        return lock_path(self.cache_dir, self.stem)

    @property
    def progress_file(self) -> Path:
        return progress_path(self.cache_dir, self.stem)

    @property
    def build_dir(self) -> Path:
        return self.cache_dir / f"{self.stem}.build"

    def file(self, suffix: str) -> Path:
        return self.cache_dir / f"{self.stem}{suffix}"


def index_target(
    entries: Iterable[CodeEntry], *, encoder_name: str, release_key: str, cache_dir: Path
) -> IndexTarget:
    """The index of the billable ``entries`` (others are skipped)."""
    billable = billable_entries(entries)
    return IndexTarget(
        entries=tuple(billable),
        encoder_name=encoder_name,
        release_key=release_key,
        cache_dir=Path(cache_dir),
        digest=index_digest(billable, encoder_name, release_key),
    )


@dataclass(frozen=True, eq=False)
class StoredIndex:
    """An index's arrays as stored (``code_index.CodeIndex`` describes them)."""

    codes: tuple[str, ...]
    vectors: np.ndarray
    extra_codes: np.ndarray


def index_ensure(
    target: IndexTarget, encoder: SentenceTransformer, *, priority: Sequence[str] = ()
) -> StoredIndex:
    """The published index, built first if no process of the machine has.

    Raises ``OSError`` when the cache folder cannot be written.
    """
    stored = index_read(target)
    if stored is not None:
        return stored
    target.cache_dir.mkdir(parents=True, exist_ok=True)
    lock = IndexLock(target.lock_file)
    lock.acquire(blocking=True)
    try:
        # Another builder may have published it while this one waited.
        return index_read(target, warn=False) or index_build_locked(target, encoder, priority)
    finally:
        lock.release()


def index_read(target: IndexTarget, *, warn: bool = True) -> StoredIndex | None:
    """The published index; None when there is none or it is damaged."""
    meta_path, matrix_path = target.file(".json"), target.file(".npy")
    if not meta_path.exists() and not matrix_path.exists():
        return None
    try:
        meta = json_read(meta_path)
        if meta.get("format") != _FORMAT or meta.get("digest") != target.digest:
            raise ValueError("its metadata is for another index")
        vectors = matrix_read(matrix_path, mapped=True)
        stored = StoredIndex(
            codes=tuple(meta["codes"]),
            vectors=vectors,
            extra_codes=np.asarray(meta["extra_codes"], dtype=np.int64),
        )
        if len(vectors) != len(stored.codes) + len(stored.extra_codes):
            raise ValueError(f"its matrix has {len(vectors)} rows, not the codes' and terms'")
        return stored
    except (OSError, ValueError, KeyError, TypeError) as error:
        if warn:
            logger.warning(
                "Rebuilding the code index: cache %s is unreadable (%s)", target.stem, error
            )
        return None


def index_publish(target: IndexTarget, stored: StoredIndex) -> None:
    meta: dict[str, Any] = {
        "format": _FORMAT,
        "recipe": INDEX_RECIPE,
        "encoder": target.encoder_name,
        "release_key": target.release_key,
        "digest": target.digest,
        "shape": list(stored.vectors.shape),
        "codes": list(stored.codes),
        "extra_codes": stored.extra_codes.tolist(),
    }
    matrix_write(target.file(".npy"), stored.vectors)
    json_write(target.file(".json"), meta)


def index_build_locked(
    target: IndexTarget,
    encoder: SentenceTransformer,
    priority: Sequence[str] = (),
    *,
    after_priority: Callable[[], object] | None = None,
) -> StoredIndex:
    """Embed the parts not on disk yet and publish; the caller holds the
    lock. ``after_priority`` is called once the first of the codes needed
    first are published (a resumed build that had published some does not
    call it)."""
    plan, resumed = _plan(target, priority)
    progress = _progress_start(target, plan, resumed)
    logger.info(
        "%s the code index %s (%d codes, %d first) as %s",
        "Resuming" if resumed else "Building",
        target.stem,
        len(plan.codes),
        plan.priority,
        progress.builder,
    )
    try:
        rows, progress = _embed_parts(target, plan, encoder, progress, after_priority)
        stored = _stored(plan, rows, _positions(plan, target.codes))
        index_publish(target, stored)
    except Exception as error:
        with contextlib.suppress(OSError):
            latest = progress_read(target.progress_file) or progress  # its last part
            failed = replace(latest, state=ProgressState.FAILED, error=f"{error!r}"[:500])
            progress_write(target.progress_file, failed)
        raise
    progress_write(target.progress_file, replace(progress, state=ProgressState.READY, error=""))
    shutil.rmtree(target.build_dir, ignore_errors=True)
    logger.info("Published the code index %s", target.stem)
    return stored


def _plan(target: IndexTarget, priority: Sequence[str]) -> tuple[PartPlan, bool]:
    """The plan on disk (and whether parts of it are done), or a new one."""
    plan = plan_read(target.build_dir, target.digest, target.codes)
    if plan is not None:
        done = any(part_path(target.build_dir, n).exists() for n in range(len(plan.parts())))
        return plan, done
    known = {entry.code: entry for entry in target.entries}
    first = [known[code] for code in dict.fromkeys(priority) if code in known]
    if len(first) == len(target.entries):
        first = []  # nothing would be left to embed later
    chosen = {e.code for e in first}
    order = first + [e for e in target.entries if e.code not in chosen]
    plan = PartPlan(
        digest=target.digest,
        codes=tuple(e.code for e in order),
        rows=tuple(len(code_index_texts(e)) for e in order),
        priority=len(first),
        part_codes=index_parts.PART_CODES,
        priority_part_codes=index_parts.PRIORITY_PART_CODES,
    )
    plan_start(target.build_dir, plan)
    return plan, False


def _progress_start(target: IndexTarget, plan: PartPlan, resumed: bool) -> IndexProgress:
    before = progress_read(target.progress_file)
    # A resumed build's partial index is still good: predictions go on with it.
    kept = before if resumed and before is not None else None
    progress = IndexProgress(
        stem=target.stem,
        encoder=target.encoder_name,
        release_key=target.release_key,
        codes_total=len(plan.codes),
        priority_stem=kept.priority_stem if kept else "",
        priority_codes=kept.priority_codes if kept else 0,
        builds=(before.builds if before else 0) + (0 if resumed else 1),
        resumes=(before.resumes if before else 0) + (1 if resumed else 0),
        builder=builder_name(),
    )
    return progress_write(target.progress_file, progress)


def _embed_parts(
    target: IndexTarget,
    plan: PartPlan,
    encoder: SentenceTransformer,
    progress: IndexProgress,
    after_priority: Callable[[], object] | None,
) -> tuple[np.ndarray, IndexProgress]:
    """Every part's rows in build order, embedding those not on disk, and
    the codes needed first published as they become ready (see
    ``FIRST_PARTIAL_S``)."""
    entries = {entry.code: entry for entry in target.entries}

    def texts(position: int) -> list[str]:
        return code_index_texts(entries[plan.codes[position]])

    started, published = time.monotonic(), progress.priority_codes
    done: list[np.ndarray] = []
    for number, (_, end) in enumerate(plan.parts()):
        rows = part_read(plan, target.build_dir, number)
        if rows is None:
            rows = part_embed(plan, target.build_dir, number, texts, encoder)
        done.append(rows)
        progress = progress_write(target.progress_file, replace(progress, codes_done=end))
        early = not published and time.monotonic() - started >= FIRST_PARTIAL_S
        if end <= plan.priority and (end == plan.priority or early):
            progress = _partial_publish(target, plan, np.concatenate(done), end, progress)
            if not published and after_priority is not None:
                after_priority()
            published = end
    return np.concatenate(done), progress


def _partial_publish(
    target: IndexTarget, plan: PartPlan, rows: np.ndarray, count: int, progress: IndexProgress
) -> IndexProgress:
    """Publish the first ``count`` codes of the plan as an index of their own."""
    first = set(plan.codes[:count])
    partial = index_target(
        [e for e in target.entries if e.code in first],
        encoder_name=target.encoder_name,
        release_key=target.release_key,
        cache_dir=target.cache_dir,
    )
    if index_read(partial, warn=False) is None:
        index_publish(partial, _stored(plan, rows, _positions(plan, partial.codes)))
        logger.info("Published the %d codes needed first as %s", count, partial.stem)
    return progress_write(
        target.progress_file, replace(progress, priority_stem=partial.stem, priority_codes=count)
    )


def _positions(plan: PartPlan, codes: Sequence[str]) -> np.ndarray:
    built = {code: i for i, code in enumerate(plan.codes)}
    return np.asarray([built[code] for code in codes], dtype=np.int64)


def _stored(plan: PartPlan, rows: np.ndarray, positions: np.ndarray) -> StoredIndex:
    vectors, owners = rows_for(plan, rows, positions)
    return StoredIndex(
        codes=tuple(plan.codes[int(p)] for p in positions), vectors=vectors, extra_codes=owners
    )
