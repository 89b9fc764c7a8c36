"""Agreement between predicted and reference code sets over many notes.

Scores follow the DeepICD-R1 evaluation: precision, recall and F1, micro and
macro, at three levels (chapter, category, full code), plus the exact-match
ratio, Jaccard and precision/recall at k for ranked predictions.

Definitions (they match scikit-learn with ``MultiLabelBinarizer`` and
``zero_division=0``, which the tests check to 1e-9):

- A note's codes are first mapped to the level (E11.65 is category E11 and
  chapter 4) and then treated as a set, so two codes of one category count
  once at category level.
- Micro: true/false positives and false negatives summed over all notes and
  labels. Macro: the plain mean over every label seen in either side of the
  per-label precision, recall and F1 (0 where a label's denominator is 0).
- Exact match: the share of notes whose sets are equal. Jaccard: the mean
  over notes of |P and R| / |P or R|, 1 for a note where both sets are empty.
- P@k: the mean over notes of |top k and R| / k. R@k: the mean over notes
  with a non-empty reference of |top k and R| / |R|. Predictions are ranked.
- MAP (CodiEsp's ranking metric): the mean over notes with a non-empty
  reference of the average precision of the note's ranked list, the mean
  over the reference labels of the precision at the rank where each is found
  (0 for one the list never reaches, so AP never exceeds the list's recall).
  At category and chapter level each ranked code becomes its label and only
  a label's first place counts. The ranked list may be longer than the
  predicted set (a model's candidates beyond its cut-off); by default it is
  the predictions in their order. With every label ranked and no ties a
  note's AP is scikit-learn's ``average_precision_score`` of that note.

Codes unknown to the release still count (a wrong guess is a false positive);
at chapter level they map to their own label so they never match by accident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models

from coding_app.codes.forms import MAX_CODE_TEXT, code_key
from coding_app.codes.hierarchy import Hierarchy


class Level(models.TextChoices):
    CHAPTER = "chapter", "Chapter"
    CATEGORY = "category", "Category"
    CODE = "code", "Full code"


@dataclass(frozen=True)
class LevelScores:
    precision_micro: float
    recall_micro: float
    f1_micro: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    exact_match: float
    jaccard: float


@dataclass(frozen=True)
class Evaluation:
    notes: int
    levels: dict[str, LevelScores]
    precision_at_k: dict[int, float]
    recall_at_k: dict[int, float]
    # Per level, of the ranked lists (which set scores do not see).
    mean_average_precision: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (keys of the at-k maps become strings)."""
        return {
            "notes": self.notes,
            "levels": {name: asdict(scores) for name, scores in self.levels.items()},
            "precision_at_k": {str(k): v for k, v in self.precision_at_k.items()},
            "recall_at_k": {str(k): v for k, v in self.recall_at_k.items()},
            "mean_average_precision": dict(self.mean_average_precision),
        }


def evaluate_code_sets(
    predicted: Sequence[Sequence[str]],
    reference: Sequence[Collection[str]],
    hierarchy: Hierarchy,
    ks: Iterable[int] = (1, 3, 5),
    ranked_lists: Sequence[Sequence[str]] | None = None,
) -> Evaluation:
    """Score ranked predictions against reference sets, one pair per note;
    MAP over ``ranked_lists`` when given (else over ``predicted``)."""
    if len(predicted) != len(reference):
        raise ValueError(f"{len(predicted)} predictions for {len(reference)} references")
    if ranked_lists is not None and len(ranked_lists) != len(reference):
        raise ValueError(f"{len(ranked_lists)} ranked lists for {len(reference)} references")
    ranked = [_ranked_keys(codes) for codes in predicted]
    truth = [set(_ranked_keys(codes)) for codes in reference]
    long_lists = ranked if ranked_lists is None else [_ranked_keys(c) for c in ranked_lists]
    levels = {
        level.value: level_scores(
            [{_label(c, level, hierarchy) for c in codes} for codes in ranked],
            [{_label(c, level, hierarchy) for c in codes} for codes in truth],
        )
        for level in Level
    }
    ks = sorted(set(ks))
    return Evaluation(
        notes=len(ranked),
        levels=levels,
        precision_at_k={k: precision_at_k(ranked, truth, k) for k in ks},
        recall_at_k={k: recall_at_k(ranked, truth, k) for k in ks},
        mean_average_precision={
            level.value: mean_average_precision(
                [_ranked_labels(codes, level, hierarchy) for codes in long_lists],
                [{_label(c, level, hierarchy) for c in codes} for codes in truth],
            )
            for level in Level
        },
    )


def level_scores(predicted: Sequence[set[str]], reference: Sequence[set[str]]) -> LevelScores:
    """All set scores for label sets already mapped to one level."""
    true_positive: Counter[str] = Counter()
    false_positive: Counter[str] = Counter()
    false_negative: Counter[str] = Counter()
    for guess, truth in zip(predicted, reference, strict=True):
        true_positive.update(guess & truth)
        false_positive.update(guess - truth)
        false_negative.update(truth - guess)
    tp, fp, fn = (sum(c.values()) for c in (true_positive, false_positive, false_negative))
    labels = set(true_positive) | set(false_positive) | set(false_negative)
    per_label = [
        _prf(true_positive[label], false_positive[label], false_negative[label]) for label in labels
    ]
    micro = _prf(tp, fp, fn)
    return LevelScores(
        precision_micro=micro[0],
        recall_micro=micro[1],
        f1_micro=micro[2],
        precision_macro=_mean(p for p, _, _ in per_label),
        recall_macro=_mean(r for _, r, _ in per_label),
        f1_macro=_mean(f for _, _, f in per_label),
        exact_match=_mean(float(g == t) for g, t in zip(predicted, reference, strict=True)),
        jaccard=_mean(_jaccard(g, t) for g, t in zip(predicted, reference, strict=True)),
    )


def precision_at_k(ranked: Sequence[Sequence[str]], truth: Sequence[set[str]], k: int) -> float:
    return _mean(len(set(codes[:k]) & gold) / k for codes, gold in zip(ranked, truth, strict=True))


def recall_at_k(ranked: Sequence[Sequence[str]], truth: Sequence[set[str]], k: int) -> float:
    return _mean(
        len(set(codes[:k]) & gold) / len(gold)
        for codes, gold in zip(ranked, truth, strict=True)
        if gold
    )


def average_precision(ranked: Sequence[str], gold: Collection[str]) -> float:
    """The mean over ``gold`` of the precision at each one's rank in
    ``ranked`` (no repeats), 0 for one not ranked; 0 when ``gold`` is empty."""
    if not gold:
        return 0.0
    hits = 0
    total = 0.0
    for rank, label in enumerate(ranked, start=1):
        if label in gold:
            hits += 1
            total += hits / rank
    return total / len(gold)


def mean_average_precision(ranked: Sequence[Sequence[str]], truth: Sequence[set[str]]) -> float:
    """Average precision averaged over the notes with a non-empty ``truth``."""
    return _mean(
        average_precision(labels, gold) for labels, gold in zip(ranked, truth, strict=True) if gold
    )


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1


def _jaccard(guess: set[str], truth: set[str]) -> float:
    union = guess | truth
    return len(guess & truth) / len(union) if union else 1.0


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _ranked_keys(codes: Iterable[str]) -> list[str]:
    """Normalised codes in their given order, repeats dropped."""
    keys: dict[str, None] = {}
    for code in codes:
        key = code_key(code) or (code.strip()[:MAX_CODE_TEXT] if isinstance(code, str) else "")
        if key:
            keys.setdefault(key, None)
    return list(keys)


def _ranked_labels(codes: Iterable[str], level: Level, hierarchy: Hierarchy) -> list[str]:
    """``codes`` as labels of ``level``, each label at its first place."""
    labels: dict[str, None] = {}
    for code in codes:
        labels.setdefault(_label(code, level, hierarchy), None)
    return list(labels)


def _label(code: str, level: Level, hierarchy: Hierarchy) -> str:
    if level == Level.CODE:
        return code
    category = code[:3] if code_key(code) else code
    if level == Level.CATEGORY:
        return category
    entry = hierarchy.entry(category)
    return f"chapter {entry.chapter}" if entry is not None else f"unknown {code}"
