"""How the embedding backend ranks and cuts: its options, a note's candidates
and the choice of the codes to suggest from them.

A score is calibrated similarity (``CALIBRATION_A``/``CALIBRATION_B``);
the codes scoring at least ``threshold`` are kept, at most ``top_k`` of them
and ``per_category`` of one three-character category. This is the zero-shot
path; a trained version ranks with ``signals``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from worker.backends.base import JOB_OPTIONS, BackendConfigError
from worker.backends.embedding.sentences import MAX_SENTENCE_CHARS

# The cut-off, top k and per-category limit that maximised category-level
# micro F1 on the CodiEsp train split (0.227; the surface is flat from k =
# 10 to 20). Siblings have near-identical descriptions, so without the
# per-category limit the top 10 fills with variants of one diagnosis.
DEFAULT_THRESHOLD = 0.015
# sigmoid(a * similarity + b), fitted by logistic regression (scikit-learn,
# no regularisation) on the CodiEsp train split: for each of the 500 notes
# the 100 codes of highest similarity, labelled by whether the coders gave
# that code (2.9 % did). So a score is the chance that a code near the top
# of the ranking is right: 0.02 at similarity 0.58, 0.15 at 0.80.
CALIBRATION_A = 9.887
CALIBRATION_B = -9.647
DEFAULT_TOP_K = 10
DEFAULT_PER_CATEGORY = 1
DEFAULT_EVIDENCE_FLOOR = 0.35
DEFAULT_BATCH_SIZE = 64

# Candidates fetched a note, per code suggested: room for the per-category
# limit to skip siblings (the top 35 of a diabetes note span only 6
# categories) and still fill top_k. A note can still get fewer than top_k.
CANDIDATE_POOL_FACTOR = 20
RAW_CANDIDATES = 20


@dataclass(frozen=True)
class RankingOptions:
    """The ``spec.options`` this backend reads, with their defaults."""

    threshold: float = DEFAULT_THRESHOLD
    top_k: int = DEFAULT_TOP_K
    per_category: int = DEFAULT_PER_CATEGORY
    calibration_a: float = CALIBRATION_A
    calibration_b: float = CALIBRATION_B
    evidence_floor: float = DEFAULT_EVIDENCE_FLOOR
    batch_size: int = DEFAULT_BATCH_SIZE
    max_sentence_chars: int = MAX_SENTENCE_CHARS

    def candidate_pool(self, codes: int) -> int:
        """How many of ``codes`` candidates to fetch a note."""
        return min(max(RAW_CANDIDATES, self.top_k * CANDIDATE_POOL_FACTOR), codes)


# Allowed range of each option (inclusive); ints must be whole numbers.
_OPTION_RANGES: dict[str, tuple[float, float]] = {
    "threshold": (0.0, 1.0),
    "top_k": (1, 1000),
    "per_category": (0, 1000),
    "calibration_a": (1e-6, 1e6),
    "calibration_b": (-1e6, 1e6),
    "evidence_floor": (-1.0, 1.0),
    "batch_size": (1, 4096),
    "max_sentence_chars": (20, 100_000),
}


def ranking_options(options: Mapping[str, Any]) -> RankingOptions:
    """Validated options; raises ``BackendConfigError`` naming the bad one."""
    known = {f.name: f.type for f in fields(RankingOptions)}
    options = {name: value for name, value in options.items() if name not in JOB_OPTIONS}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise BackendConfigError(
            f"Unknown option(s) for the embedding backend: {', '.join(unknown)}; "
            f"allowed: {', '.join(known)}"
        )
    values: dict[str, Any] = {}
    for name, value in options.items():
        whole = known[name] == "int"
        low, high = _OPTION_RANGES[name]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value) or (whole and value != int(value)):
            kind = "a whole number" if whole else "a number"
            raise BackendConfigError(f"Option {name} must be {kind}, got {value!r}")
        if not low <= value <= high:
            raise BackendConfigError(f"Option {name} must be in [{low}, {high}], got {value!r}")
        values[name] = int(value) if whole else float(value)
    return RankingOptions(**values)


@dataclass(frozen=True)
class Candidates:
    """One note's best codes, best first: index positions, scores and the
    raw similarity each score came from."""

    positions: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray


def candidates_in_order(
    positions: np.ndarray, scores: np.ndarray, similarity: np.ndarray
) -> Candidates:
    """Sorted by score, ties by position, so equal inputs rank alike."""
    order = np.lexsort((positions, -scores))
    return Candidates(positions[order], scores[order], similarity[order])


def codes_chosen(
    candidates: Candidates, codes: tuple[str, ...], options: RankingOptions
) -> list[int]:
    """Indices into ``candidates`` of the codes to suggest (``codes`` are
    the index's, by position)."""
    chosen: list[int] = []
    per_category: Counter[str] = Counter()
    for i, (position, score) in enumerate(
        zip(candidates.positions, candidates.scores, strict=True)
    ):
        if score < options.threshold or len(chosen) >= options.top_k:
            break
        category = codes[position][:3]
        if options.per_category and per_category[category] >= options.per_category:
            continue
        per_category[category] += 1
        chosen.append(i)
    return chosen
