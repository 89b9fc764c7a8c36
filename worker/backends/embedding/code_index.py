"""The billable codes as vectors: built once, cached on disk, shared by mmap.

Recipe (``INDEX_RECIPE``): every billable code gets one vector for its
description and one for each inclusion term, and a code's similarity to a
sentence is the best of its vectors (max-pooling). Measured on the CodiEsp
train split (500 notes, the note's sentences against all 74,719 billable
codes of the April 2026 release, a code scored by its best sentence), gold
codes found in the top 10 / top 30:

- description only                       11.9 % / 18.9 %
- mean of description and terms           11.5 % / 18.5 %
- max over description and terms (kept)   12.9 % / 20.4 %

Averaging blurs a precise description with loose synonyms; taking the best
lets "Diabetes, type 2" and "Type 2 diabetes mellitus" each match their own
wording. It costs ~11 % more rows (8,560 terms) and one scatter-max a note.

Row ``i`` is the description of ``codes[i]`` (codes in the order of the
entries given); the inclusion terms follow, row ``len(codes) + j`` belonging
to the code at ``extra_codes[j]``. Most codes have no terms, so the common
case is a plain row lookup and only the terms need a scatter-max. The cache is a
``.npy`` matrix plus a JSON file of codes, named by release key, encoder
name and a digest of everything that went into it, and written to temporary
files then renamed, so two workers building at once never leave a torn file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.encoder import PACKAGED_ENCODER, load_encoder

logger = logging.getLogger(__name__)

INDEX_RECIPE = "desc+terms-maxpool-v1"
INDEX_BATCH_SIZE = 256
# Descriptions and terms are short (the longest are ~60 word pieces); a
# short limit keeps the padding of the few long ones from slowing a batch.
INDEX_MAX_SEQ_LENGTH = 64
# Sentences multiplied against the code matrix at once: 256 x 83k floats
# is 85 MB, enough rows to keep the matrix product efficient.
SIMILARITY_BLOCK = 256
_FORMAT = 1


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


def code_index_texts(entry: CodeEntry) -> list[str]:
    """What one code is embedded as: its description, then its terms."""
    texts = [entry.description.strip()]
    texts.extend(t.strip() for t in entry.inclusion_terms if t.strip() and t.strip() != texts[0])
    return [t for t in texts if t] or [entry.dotted]


def code_index_build(
    entries: Iterable[CodeEntry],
    encoder: SentenceTransformer,
    *,
    encoder_name: str,
    release_key: str,
    batch_size: int = INDEX_BATCH_SIZE,
) -> CodeIndex:
    """Embed the billable entries among ``entries`` (others are skipped)."""
    billable = _billable(entries)
    per_code = [code_index_texts(entry) for entry in billable]
    texts = [entry_texts[0] for entry_texts in per_code]
    extra_codes: list[int] = []
    for position, entry_texts in enumerate(per_code):
        texts.extend(entry_texts[1:])
        extra_codes.extend([position] * (len(entry_texts) - 1))
    started = time.monotonic()
    with _max_seq_length(encoder, INDEX_MAX_SEQ_LENGTH):
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
        digest=_digest(billable, encoder_name, release_key),
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
    """The index from ``cache_dir`` when a matching file is there, else built
    and saved. ``entries`` narrows the codes (tests use a few chapters); by
    default every billable code of ``hierarchy``. A cache file that cannot be
    read is rebuilt with a warning; one that cannot be written only warns."""
    billable = _billable(hierarchy if entries is None else entries)
    digest = _digest(billable, encoder_name, release_key)
    stem = cache_stem(encoder_name, release_key, digest)
    cached = _load(Path(cache_dir), stem, digest, encoder_name, release_key)
    if cached is not None:
        return cached
    index = code_index_build(billable, encoder, encoder_name=encoder_name, release_key=release_key)
    _save(Path(cache_dir), stem, index)
    return index


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
    encoder_name = base_model.strip() or PACKAGED_ENCODER
    encoder = load_encoder(encoder_name)
    index = code_index_load_or_build(
        hierarchy, encoder, encoder_name, release_key, cache_dir, entries=entries
    )
    return EncoderAndIndex(encoder_name=encoder_name, encoder=encoder, index=index)


def cache_stem(encoder_name: str, release_key: str, digest: str) -> str:
    """The cache file name without suffix: readable parts, then the digest
    that keeps two names slugged alike (``a/b`` and ``a-b``) apart."""
    return f"code-index-{_slug(release_key)}-{_slug(encoder_name)}-{digest[:16]}"


def _billable(entries: Iterable[CodeEntry]) -> list[CodeEntry]:
    billable = [e for e in entries if e.billable]
    if not billable:
        raise ValueError("The code index needs at least one billable code; none were given")
    return billable


def _digest(billable: list[CodeEntry], encoder_name: str, release_key: str) -> str:
    digest = hashlib.sha256(f"{INDEX_RECIPE}\0{encoder_name}\0{release_key}".encode())
    for entry in billable:
        digest.update("\0".join([entry.code, *code_index_texts(entry), "\n"]).encode())
    return digest.hexdigest()


def _load(
    cache_dir: Path, stem: str, digest: str, encoder_name: str, release_key: str
) -> CodeIndex | None:
    meta_path, matrix_path = cache_dir / f"{stem}.json", cache_dir / f"{stem}.npy"
    if not meta_path.exists() and not matrix_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT or meta.get("digest") != digest:
            raise ValueError("its metadata is for another index")
        # Copy-on-write: pages are shared between worker processes and
        # torch can wrap the array (it refuses read-only ones).
        vectors = np.load(matrix_path, mmap_mode="c", allow_pickle=False)
        if vectors.dtype != np.float32:
            raise ValueError(f"its matrix is {vectors.dtype}, not float32")
        return CodeIndex(
            codes=tuple(meta["codes"]),
            vectors=vectors,
            extra_codes=np.asarray(meta["extra_codes"], dtype=np.int64),
            encoder_name=encoder_name,
            release_key=release_key,
            digest=digest,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("Rebuilding the code index: cache %s is unreadable (%s)", stem, error)
        return None


def _save(cache_dir: Path, stem: str, index: CodeIndex) -> None:
    meta: dict[str, Any] = {
        "format": _FORMAT,
        "recipe": INDEX_RECIPE,
        "encoder": index.encoder_name,
        "release_key": index.release_key,
        "digest": index.digest,
        "shape": list(index.vectors.shape),
        "codes": list(index.codes),
        "extra_codes": index.extra_codes.tolist(),
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # The matrix first: a reader trusts the JSON, which names the digest
        # the matrix beside it was built for, and both are renamed in place.
        with _atomic_file(cache_dir / f"{stem}.npy") as handle:
            np.save(handle, np.asarray(index.vectors), allow_pickle=False)
        with _atomic_file(cache_dir / f"{stem}.json") as handle:
            handle.write(json.dumps(meta).encode())
    except OSError as error:
        logger.warning("Could not cache the code index in %s: %s", cache_dir, error)


@contextmanager
def _atomic_file(path: Path) -> Iterator[Any]:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def _max_seq_length(encoder: SentenceTransformer, length: int) -> Iterator[None]:
    """Embed with a shorter limit, then give the shared encoder back as it was."""
    before = encoder.max_seq_length
    encoder.max_seq_length = min(length, before) if before else length
    try:
        yield
    finally:
        encoder.max_seq_length = before


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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-.")[:48] or "x"
