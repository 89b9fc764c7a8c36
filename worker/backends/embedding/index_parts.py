"""Embedding a code index in parts that outlive the builder.

The builder embeds the codes' texts ``PART_CODES`` codes at a time, in the
order of a plan (the codes needed first, then the rest; see
``code_index``), and saves each part as soon as it is done under
``<stem>.build/``. A builder that is killed or stopped by a time limit loses
at most the part it was on: the next one reads the plan and the parts on
disk and goes on from there. The plan is written once, before the first
part, so that every builder cuts the same parts; a plan for another index
(another digest, other codes) is thrown away with its parts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from worker.backends.embedding.index_files import json_read, json_write, matrix_read, matrix_write

# About 4 s of one CPU core a part: little to lose to a kill, few files.
PART_CODES = 1024
# The codes needed first go in smaller parts, so that what is ready can be
# published at any moment (``index_store``).
PRIORITY_PART_CODES = 256
INDEX_BATCH_SIZE = 256
# Descriptions and terms are short (the longest are ~60 word pieces); a
# short limit keeps the padding of the few long ones from slowing a batch.
INDEX_MAX_SEQ_LENGTH = 64
_PLAN_FORMAT = 1


@dataclass(frozen=True)
class PartPlan:
    """The order codes are embedded in and how it is cut into parts.

    ``codes`` in build order, ``rows[i]`` the number of texts of
    ``codes[i]``; the first ``priority`` codes form parts of their own
    (``priority_part_codes`` codes each), so they are all done as soon as
    their last part is.
    """

    digest: str
    codes: tuple[str, ...]
    rows: tuple[int, ...]
    priority: int
    part_codes: int = PART_CODES
    priority_part_codes: int = PRIORITY_PART_CODES

    def parts(self) -> list[tuple[int, int]]:
        """The ``(start, end)`` code ranges of the parts, in order."""
        ranges: list[tuple[int, int]] = []
        segments = (
            (0, self.priority, self.priority_part_codes),
            (self.priority, len(self.codes), self.part_codes),
        )
        for low, high, size in segments:
            ranges.extend((start, min(start + size, high)) for start in range(low, high, size))
        return ranges

    def row_offsets(self) -> np.ndarray:
        """Where each code's rows start in the rows of all parts (one extra at the end)."""
        return np.concatenate([[0], np.cumsum(self.rows, dtype=np.int64)])


def plan_read(build_dir: Path, digest: str, codes: Sequence[str]) -> PartPlan | None:
    """The plan on disk when it is for this index (same digest, same codes)."""
    try:
        data = json_read(build_dir / "plan.json")
        plan = PartPlan(
            digest=str(data["digest"]),
            codes=tuple(data["codes"]),
            rows=tuple(int(n) for n in data["rows"]),
            priority=int(data["priority"]),
            part_codes=int(data["part_codes"]),
            priority_part_codes=int(data["priority_part_codes"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fits = (
        data.get("format") == _PLAN_FORMAT
        and plan.digest == digest
        and len(plan.rows) == len(plan.codes) == len(codes)
        and set(plan.codes) == set(codes)
        and 0 <= plan.priority <= len(plan.codes)
        and plan.part_codes > 0
        and plan.priority_part_codes > 0
    )
    return plan if fits else None


def plan_start(build_dir: Path, plan: PartPlan) -> None:
    """Start a build afresh: no parts, this plan."""
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    json_write(
        build_dir / "plan.json",
        {
            "format": _PLAN_FORMAT,
            "digest": plan.digest,
            "codes": list(plan.codes),
            "rows": list(plan.rows),
            "priority": plan.priority,
            "part_codes": plan.part_codes,
            "priority_part_codes": plan.priority_part_codes,
        },
    )


def part_path(build_dir: Path, number: int) -> Path:
    return build_dir / f"part-{number:05d}.npy"


def part_read(plan: PartPlan, build_dir: Path, number: int) -> np.ndarray | None:
    """Part ``number`` when it is on disk whole; None when it must be embedded."""
    start, end = plan.parts()[number]
    offsets = plan.row_offsets()
    try:
        rows = matrix_read(part_path(build_dir, number), mapped=False)
    except (OSError, ValueError):
        return None
    return rows if len(rows) == offsets[end] - offsets[start] else None


def part_embed(
    plan: PartPlan,
    build_dir: Path,
    number: int,
    texts: Callable[[int], list[str]],
    encoder: SentenceTransformer,
) -> np.ndarray:
    """Embed part ``number`` (``texts(i)``: the texts of ``plan.codes[i]``) and save it."""
    start, end = plan.parts()[number]
    flat = [text for i in range(start, end) for text in texts(i)]
    with max_seq_length(encoder, INDEX_MAX_SEQ_LENGTH):
        vectors = encoder.encode(
            flat, batch_size=INDEX_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    matrix_write(part_path(build_dir, number), rows)
    return rows


def rows_for(
    plan: PartPlan, all_rows: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An index's matrix for the codes at build ``positions`` (in index order):
    each code's first row (its description), then the other rows (its
    terms) grouped by code, and the index position owning each of those."""
    offsets = plan.row_offsets()
    starts = offsets[positions]
    extra = np.diff(offsets)[positions] - 1
    owners = np.repeat(np.arange(len(positions), dtype=np.int64), extra)
    # Row of the k-th term of a code: its start + 1 + k.
    before = np.repeat(np.cumsum(extra) - extra, extra)
    term_rows = np.repeat(starts + 1, extra) + np.arange(int(extra.sum())) - before
    vectors = np.concatenate([all_rows[starts], all_rows[term_rows]])
    return np.ascontiguousarray(vectors, dtype=np.float32), owners


@contextmanager
def max_seq_length(encoder: SentenceTransformer, length: int) -> Iterator[None]:
    """Embed with a shorter limit, then give the encoder back as it was."""
    before = encoder.max_seq_length
    encoder.max_seq_length = min(length, before) if before else length
    try:
        yield
    finally:
        encoder.max_seq_length = before
