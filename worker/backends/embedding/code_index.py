"""The billable codes as vectors, built once a machine, shared by mmap.

Row ``i`` is the description of ``codes[i]`` (codes in the order of the
entries given); the inclusion terms follow, row ``len(codes) + j`` belonging
to the code at ``extra_codes[j]``. Most codes have no terms, so the common
case is a plain row lookup and only the terms need a scatter-max. What a
code is embedded as, and how an index is named, is ``index_recipe``.

The index lives in a cache folder (``index_store``): built by one process a
machine under a file lock while the others wait for it, embedded in parts
saved as they are done (a builder killed or stopped by a time limit is
resumed, not restarted), and published atomically when whole. Its progress
is a small JSON file beside it (``index_progress``) that workers and pages
read. A cache folder that cannot be written only warns: the index is then
built in memory for this process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.encoder import PACKAGED_ENCODER, load_encoder
from worker.backends.embedding.index_parts import (
    INDEX_BATCH_SIZE,
    INDEX_MAX_SEQ_LENGTH,
    max_seq_length,
)
from worker.backends.embedding.index_recipe import (
    INDEX_RECIPE,
    billable_entries,
    cache_stem,
    code_index_texts,
    index_digest,
)
from worker.backends.embedding.index_store import (
    IndexTarget,
    StoredIndex,
    index_ensure,
    index_target,
)

__all__ = [
    "INDEX_RECIPE",
    "SIMILARITY_BLOCK",
    "CodeIndex",
    "CodeMatrix",
    "EncoderAndIndex",
    "cache_stem",
    "code_index_build",
    "code_index_for",
    "code_index_load_or_build",
    "code_index_texts",
    "encoder_and_index",
    "encoder_name_for",
]

logger = logging.getLogger(__name__)

# Sentences multiplied against the code matrix at once: 256 x 83k floats
# is 85 MB, enough rows to keep the matrix product efficient.
SIMILARITY_BLOCK = 256


@dataclass(frozen=True, eq=False)
class CodeIndex:
    """Billable code keys and their L2-normalised float32 vectors.

    ``vectors`` holds one row per code (its description) and then one per
    inclusion term; ``extra_codes[j]`` is the position of the code that row
    ``len(codes) + j`` belongs to (ascending).
    """

    codes: tuple[str, ...]
    vectors: np.ndarray
    extra_codes: np.ndarray
    encoder_name: str
    release_key: str
    digest: str = field(default="")

    def __post_init__(self) -> None:
        _check_shapes(self.codes, self.vectors, self.extra_codes)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @cached_property
    def positions(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.codes)}

    def code_rows(self, position: int) -> np.ndarray:
        """The vectors of the code at ``position``, its description first."""
        low, high = np.searchsorted(self.extra_codes, [position, position + 1])
        rows = np.concatenate([[position], np.arange(low, high) + len(self.codes)])
        return np.asarray(self.vectors[rows])


class CodeMatrix:
    """The index as torch tensors on the encoder's device, for scoring.

    On the CPU the tensor shares the (memory-mapped) numpy array; on a GPU
    the matrix is copied there once, so scoring keeps pace with encoding.
    """

    def __init__(self, index: CodeIndex, device: torch.device | str) -> None:
        self.count = len(index)
        vectors = torch.from_numpy(np.asarray(index.vectors))
        self.vectors = vectors.to(device)
        self.extra_codes = torch.from_numpy(np.asarray(index.extra_codes)).to(device)

    def best_similarity(
        self, embeddings: torch.Tensor, bounds: Sequence[tuple[int, int]]
    ) -> torch.Tensor:
        """For each ``(start, end)`` group of rows of ``embeddings`` (one
        note's sentences, groups consecutive and ascending), every code's
        best cosine with any of them: ``len(bounds)`` x codes."""
        rows = len(self.vectors)
        best = torch.full((len(bounds), rows), -1.0, device=self.vectors.device)
        first, last = (bounds[0][0], bounds[-1][1]) if bounds else (0, 0)
        for start in range(first, last, SIMILARITY_BLOCK):
            stop = min(start + SIMILARITY_BLOCK, last)
            sims = embeddings[start:stop] @ self.vectors.T
            for row, (low, high) in enumerate(bounds):
                low, high = max(low, start), min(high, stop)
                if low < high:
                    best[row] = torch.maximum(best[row], sims[low - start : high - start].amax(0))
        codes = best[:, : self.count].clone()
        if rows > self.count:
            owners = self.extra_codes.expand(len(bounds), -1)
            codes.scatter_reduce_(1, owners, best[:, self.count :], reduce="amax")
        return codes


def code_index_build(
    entries: Iterable[CodeEntry],
    encoder: SentenceTransformer,
    *,
    encoder_name: str,
    release_key: str,
    batch_size: int = INDEX_BATCH_SIZE,
) -> CodeIndex:
    """Embed the billable entries among ``entries`` (others are skipped) in
    memory, in one go: no cache, no lock (``code_index_load_or_build`` is
    the shared, resumable way)."""
    billable = billable_entries(entries)
    per_code = [code_index_texts(entry) for entry in billable]
    texts = [entry_texts[0] for entry_texts in per_code]
    extra_codes: list[int] = []
    for position, entry_texts in enumerate(per_code):
        texts.extend(entry_texts[1:])
        extra_codes.extend([position] * (len(entry_texts) - 1))
    started = time.monotonic()
    with max_seq_length(encoder, INDEX_MAX_SEQ_LENGTH):
        vectors = encoder.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
    logger.info(
        "Embedded %d codes (%d texts) with %s in %.1f s",
        len(billable),
        len(texts),
        encoder_name,
        time.monotonic() - started,
    )
    return CodeIndex(
        codes=tuple(e.code for e in billable),
        vectors=np.ascontiguousarray(vectors, dtype=np.float32),
        extra_codes=np.asarray(extra_codes, dtype=np.int64),
        encoder_name=encoder_name,
        release_key=release_key,
        digest=index_digest(billable, encoder_name, release_key),
    )


def code_index_load_or_build(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    encoder_name: str,
    release_key: str,
    cache_dir: Path,
    *,
    entries: Iterable[CodeEntry] | None = None,
) -> CodeIndex:
    """The index from ``cache_dir``, built there first when no process of
    the machine has (see ``index_store.index_ensure``). ``entries`` narrows
    the codes (tests use a few chapters); by default every billable code of
    ``hierarchy``. A damaged cache is rebuilt with a warning; a folder that
    cannot be written only warns, and the index is built in memory."""
    target = index_target(
        hierarchy if entries is None else entries,
        encoder_name=encoder_name,
        release_key=release_key,
        cache_dir=Path(cache_dir),
    )
    return code_index_for(target, encoder)


def code_index_for(
    target: IndexTarget, encoder: SentenceTransformer, *, priority: Sequence[str] = ()
) -> CodeIndex:
    """``target``'s index (see ``code_index_load_or_build``); a build it
    starts embeds the ``priority`` codes first."""
    try:
        stored = index_ensure(target, encoder, priority=priority)
    except OSError as error:
        logger.warning("Could not cache the code index in %s: %s", target.cache_dir, error)
        return code_index_build(
            target.entries,
            encoder,
            encoder_name=target.encoder_name,
            release_key=target.release_key,
        )
    return _code_index(target, stored)


@dataclass(frozen=True, eq=False)
class EncoderAndIndex:
    """What an embedding model ranks with: its encoder (by the name the
    backend loads it by) and the code index embedded with it."""

    encoder_name: str
    encoder: SentenceTransformer
    index: CodeIndex


def encoder_and_index(
    base_model: str,
    hierarchy: Hierarchy,
    *,
    cache_dir: Path,
    release_key: str,
    entries: Iterable[CodeEntry] | None = None,
) -> EncoderAndIndex:
    """The encoder a version's ``base_model`` names (empty: the packaged
    all-MiniLM-L6-v2), shared by the process, and its code index from
    ``cache_dir`` (see ``code_index_load_or_build``). The backend ranks
    with these, and a head is trained on them."""
    encoder_name = encoder_name_for(base_model)
    encoder = load_encoder(encoder_name)
    index = code_index_load_or_build(
        hierarchy, encoder, encoder_name, release_key, cache_dir, entries=entries
    )
    return EncoderAndIndex(encoder_name=encoder_name, encoder=encoder, index=index)


def encoder_name_for(base_model: str) -> str:
    """The encoder a version's ``base_model`` names; empty is the packaged one."""
    return base_model.strip() or PACKAGED_ENCODER


def _code_index(target: IndexTarget, stored: StoredIndex) -> CodeIndex:
    return CodeIndex(
        codes=stored.codes,
        vectors=stored.vectors,
        extra_codes=stored.extra_codes,
        encoder_name=target.encoder_name,
        release_key=target.release_key,
        digest=target.digest,
    )


def _check_shapes(codes: tuple[str, ...], vectors: np.ndarray, extra: np.ndarray) -> None:
    if vectors.ndim != 2 or len(vectors) != len(codes) + len(extra):
        raise ValueError(
            f"{len(codes)} codes and {len(extra)} extra rows need as many vectors, "
            f"not {vectors.shape}"
        )
    if extra.ndim != 1 or (len(extra) and (extra.min() < 0 or extra.max() >= len(codes))):
        raise ValueError("extra_codes must hold code positions")
    if np.any(np.diff(extra) < 0):
        raise ValueError("extra_codes must be in ascending order")
    if len(set(codes)) != len(codes):
        raise ValueError("The codes of an index must be unique")
