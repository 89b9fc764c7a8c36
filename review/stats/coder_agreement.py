"""Coder against coder on blind double-coded notes.

A pair is the two submitted reviews (slots 1 and 2 of a prediction chosen
for double coding, two different coders); when a slot was reviewed more than once, its latest
submission counts. The coders' final code sets are mapped to the three
levels (``sql.py``) and compared:

- set-level F1 between the coders: 2·both / (2·both + only first + only
  second), summed over notes (symmetric in the two coders);
- Cohen's kappa per label: the presence of the label in each coder's set
  over the n notes, as ``sklearn.metrics.cohen_kappa_score`` computes it;
- Krippendorff's alpha (nominal) over the code sets: one unit per note and
  label seen in the sample, valued 1 when the coder chose the label, as the
  ``krippendorff`` package computes it on that reliability matrix.

Each figure comes with n (the notes) and a percentile bootstrap 95 %
interval over notes, resampled with a fixed seed so that a page and its
download show the same numbers. A kappa or alpha that is undefined (no
variation at all) is None, as is an F1 with no code on either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from review.stats.filters import StatsFilter
from review.stats.sql import LEVELS, decision_codes_sql, fetch_dicts, labelled_sql, release_id

SEED = 20_251_201
RESAMPLES = 1000
CHUNK = 50
# The per-code kappa table keeps the labels chosen most often.
MAX_LABELS = 100

Floats = npt.NDArray[np.float64]


def _pairs_cte(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    # The date range applies to when the pair was complete: its later review.
    where, params = stats_filter.where(
        "a", "greatest(a.submitted_at, b.submitted_at)", submitted=False
    )
    cte = f"""
        first AS (
            SELECT DISTINCT ON (r.task_id) r.id, r.coder_id, r.model_version_id,
                   r.submitted_at, t.prediction_id
            FROM review_reviewtask t
            JOIN review_review r ON r.task_id = t.id
            WHERE t.double_coded AND t.slot = 1 AND r.status = 'submitted'
            ORDER BY r.task_id, r.submitted_at DESC, r.id DESC
        ),
        second AS (
            SELECT DISTINCT ON (r.task_id) r.id, r.coder_id, r.submitted_at, t.prediction_id
            FROM review_reviewtask t
            JOIN review_review r ON r.task_id = t.id
            WHERE t.double_coded AND t.slot = 2 AND r.status = 'submitted'
            ORDER BY r.task_id, r.submitted_at DESC, r.id DESC
        ),
        pairs AS MATERIALIZED (
            SELECT (row_number() OVER (ORDER BY a.prediction_id) - 1)::int AS pair,
                   a.id AS first_id, b.id AS second_id,
                   a.coder_id AS first_coder, b.coder_id AS second_coder,
                   a.submitted_at AS first_at, b.submitted_at AS second_at
            FROM first a
            JOIN second b ON b.prediction_id = a.prediction_id
            WHERE a.coder_id <> b.coder_id AND {where}
        ),
        rv AS (
            SELECT first_id AS id, pair, 1 AS who FROM pairs
            UNION ALL
            SELECT second_id, pair, 2 FROM pairs
        )
    """
    return cte, {**params, "release_id": release_id()}


def _presence_sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    cte, params = _pairs_cte(stats_filter)
    # kind 0: both coders chose the label, 1: only the first, 2: only the second.
    sql = f"""
        WITH {cte},
        codes AS ({decision_codes_sql("rv")}),
        final AS (SELECT * FROM codes WHERE side = 2),
        labelled AS ({labelled_sql("final")}),
        presence AS (
            SELECT l.level, rv.pair, l.label,
                   CASE WHEN bool_and(rv.who = 1) THEN 1
                        WHEN bool_and(rv.who = 2) THEN 2 ELSE 0 END AS kind
            FROM labelled l JOIN rv ON rv.id = l.review_id
            GROUP BY l.level, rv.pair, l.label
        )
        SELECT (SELECT count(*) FROM pairs) AS notes, level,
               array_agg(pair ORDER BY label) AS pairs,
               array_agg(label ORDER BY label) AS labels,
               array_agg(kind ORDER BY label) AS kinds
        FROM presence
        GROUP BY level
    """
    return sql, params


@dataclass(frozen=True)
class Presence:
    """One level: for every (note, label) that either coder chose, which did."""

    notes: int
    pairs: npt.NDArray[np.int64]
    labels: list[str]
    label_index: npt.NDArray[np.int64]
    kinds: npt.NDArray[np.int64]

    @classmethod
    def from_row(cls, notes: int, row: dict[str, Any] | None) -> Presence:
        if row is None:
            empty = np.zeros(0, dtype=np.int64)
            return cls(notes, empty, [], empty, empty)
        labels, index = np.unique(np.array(row["labels"], dtype=object), return_inverse=True)
        return cls(
            notes=notes,
            pairs=np.asarray(row["pairs"], dtype=np.int64),
            labels=[str(label) for label in labels],
            label_index=np.asarray(index, dtype=np.int64).reshape(-1),
            kinds=np.asarray(row["kinds"], dtype=np.int64),
        )

    def per_note(self, kind: int) -> Floats:
        return np.bincount(self.pairs[self.kinds == kind], minlength=self.notes).astype(float)

    def per_label(self, kind: int) -> Floats:
        chosen = self.label_index[self.kinds == kind]
        return np.bincount(chosen, minlength=len(self.labels)).astype(float)


def f1_between(both: Floats, first: Floats, second: Floats) -> Floats:
    denominator = 2 * both + first + second
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(both > 0, 2 * both / np.where(denominator > 0, denominator, 1), 0.0)


def alpha_binary(both: Floats, first: Floats, second: Floats, units: float) -> Floats:
    """Krippendorff's nominal alpha for two coders, no missing values, from
    the counts of units both marked, only one marked; nan when undefined."""
    values = 2 * units
    marked = 2 * both + first + second
    unmarked = values - marked
    expected = marked * unmarked
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - (values - 1) * (first + second) / expected, np.nan)


def kappa_binary(both: Floats, first: Floats, second: Floats, *, notes: float) -> Floats:
    """Cohen's kappa of presence, from the 2x2 table over ``notes``; nan
    when chance agreement is complete (the statistic is undefined)."""
    neither = notes - both - first - second
    observed = (both + neither) / notes
    yes_first, yes_second = (both + first) / notes, (both + second) / notes
    chance = yes_first * yes_second + (1 - yes_first) * (1 - yes_second)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(chance < 1 - 1e-12, (observed - chance) / (1 - chance), np.nan)


def _interval(samples: Floats) -> list[float | None]:
    """The 2.5th and 97.5th percentiles per column, None where all are nan."""
    result: list[float | None] = []
    for column in np.atleast_2d(samples.T):
        finite = column[~np.isnan(column)]
        if finite.size == 0:
            result += [None, None]
        else:
            low, high = np.percentile(finite, [2.5, 97.5])
            result += [float(low), float(high)]
    return result


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def level_agreement(presence: Presence, *, resamples: int = RESAMPLES) -> dict[str, Any]:
    """F1, alpha and per-label kappa at one level, each with its interval."""
    n, units = presence.notes, float(presence.notes * len(presence.labels))
    note_counts = [presence.per_note(kind) for kind in (0, 1, 2)]
    label_counts = [presence.per_label(kind) for kind in (0, 1, 2)]
    both, first, second = (np.array([counts.sum()]) for counts in note_counts)
    # F1 between two empty sets (no double-coded note, or none with a code)
    # is undefined, not 0: the page says so instead of printing 0.000.
    f1 = f1_between(both, first, second)[0] if (2 * both + first + second)[0] > 0 else None
    alpha = alpha_binary(both, first, second, units)[0]
    kappa = kappa_binary(*label_counts, notes=float(n)) if n else np.zeros(0)
    seen = label_counts[0] + label_counts[1] + label_counts[2]
    top = np.argsort(-seen, kind="stable")[:MAX_LABELS]
    samples = _bootstrap(presence, note_counts, top, resamples) if n else None
    return {
        "notes": n,
        "labels": len(presence.labels),
        "f1": {"value": None if f1 is None else float(f1), "ci95": _ci(samples, "f1"), "n": n},
        "alpha": {"value": _number(alpha), "ci95": _ci(samples, "alpha"), "n": n},
        "kappa": [
            {
                "label": presence.labels[i],
                "value": _number(kappa[i]),
                "n": n,
                "both": int(label_counts[0][i]),
                "first_only": int(label_counts[1][i]),
                "second_only": int(label_counts[2][i]),
                "ci95": _kappa_ci(samples, position),
            }
            for position, i in enumerate(top)
        ],
    }


def _ci(samples: dict[str, Floats] | None, name: str) -> list[float | None]:
    return _interval(samples[name]) if samples is not None else [None, None]


def _kappa_ci(samples: dict[str, Floats] | None, position: int) -> list[float | None]:
    return _interval(samples["kappa"][:, position]) if samples is not None else [None, None]


def _bootstrap(
    presence: Presence, note_counts: list[Floats], top: npt.NDArray[np.int64], resamples: int
) -> dict[str, Floats]:
    """Resample notes with replacement; the figures of each resample.

    A resample is a vector of weights (how often each note was drawn), so a
    chunk of resamples is a few matrix products and sums over contiguous
    runs of entries, never a Python loop over notes or labels.
    """
    rng = np.random.default_rng(SEED)
    n = presence.notes
    units = float(n * len(presence.labels))
    groups, pairs, starts, columns = _kappa_entries(presence, top)
    counts = np.stack(note_counts, axis=1)  # notes x (both, first, second)
    f1s, alphas, kappas = [], [], []
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        drawn = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        weights = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
        weights = weights.astype(np.float32)
        sums = weights @ counts.astype(np.float32)
        both, first, second = (sums[:, kind].astype(float) for kind in (0, 1, 2))
        f1s.append(f1_between(both, first, second))
        alphas.append(alpha_binary(both, first, second, units))
        per_group = np.zeros((size, 3 * len(top)))
        if pairs.size:
            per_group[:, columns] = np.add.reduceat(weights[:, pairs], starts, axis=1)
        per_kind = per_group.reshape(size, 3, len(top))
        kappas.append(kappa_binary(per_kind[:, 0], per_kind[:, 1], per_kind[:, 2], notes=float(n)))
    del groups
    return {
        "f1": np.concatenate(f1s),
        "alpha": np.concatenate(alphas),
        "kappa": np.concatenate(kappas, axis=0),
    }


def _kappa_entries(
    presence: Presence, top: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], ...]:
    """The entries of the kappa table's labels, sorted by (kind, label): their
    notes, where each run of one (kind, label) starts, and that run's column
    (kind * labels + position) in a chunk's per-label sums."""
    position = np.full(len(presence.labels), -1, dtype=np.int64)
    position[top] = np.arange(len(top))
    wanted = position[presence.label_index] >= 0
    group = presence.kinds[wanted] * len(top) + position[presence.label_index[wanted]]
    order = np.argsort(group, kind="stable")
    group, pairs = group[order], presence.pairs[wanted][order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if group.size else group
    return group, pairs, starts, group[starts]


def coder_agreement(stats_filter: StatsFilter, *, resamples: int = RESAMPLES) -> dict[str, Any]:
    """The three levels' figures on the double-coded notes the filter selects."""
    sql, params = _presence_sql(stats_filter)
    rows = fetch_dicts(sql, params)
    notes = int(rows[0]["notes"]) if rows else _pair_count(stats_filter)
    by_level = {row["level"]: row for row in rows}
    return {
        "notes": notes,
        "resamples": resamples,
        "seed": SEED,
        "levels": {
            level: level_agreement(
                Presence.from_row(notes, by_level.get(level)), resamples=resamples
            )
            for level in LEVELS
        },
    }


def _pair_count(stats_filter: StatsFilter) -> int:
    cte, params = _pairs_cte(stats_filter)
    rows = fetch_dicts(f"WITH {cte} SELECT count(*) AS notes FROM pairs", params)
    return int(rows[0]["notes"])
