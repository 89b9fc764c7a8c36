"""The learned ranker: candidate rows in, a calibrated probability out.

scikit-learn's histogram gradient boosting learns from the candidate rows of
the training notes (positives: the note's final codes; negatives: every
other candidate, the rejected suggestions among them). Its raw scores are
calibrated by isotonic regression fitted on predictions for notes the
boosting did not see (``GroupKFold`` by note), and the cut-off is the
probability that maximises micro-F1 on those same held-out predictions,
counting the final codes no candidate found as misses. So a probability of
0.7 means that about seven in ten such suggestions were right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold


@dataclass(frozen=True)
class RankerSettings:
    iterations: int = 200
    learning_rate: float = 0.05
    leaves: int = 15
    l2: float = 1.0
    folds: int = 3
    seed: int = 0


@dataclass
class Ranker:
    boosting: HistGradientBoostingClassifier | None
    calibration: IsotonicRegression | None
    cutoff: float
    validation: dict[str, float]

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return self.scored(rows)[0]

    def scored(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's calibrated probability, and the boosting's own score.

        Isotonic calibration is a step function: many candidates of a note
        share one probability. The raw score orders them within a step (the
        calibration never reverses it), so a ranking keeps what the ranker
        knew instead of falling back to the codes' alphabetical order.
        """
        if not len(rows) or self.boosting is None:
            zeros = np.zeros(len(rows), dtype=np.float32)
            return zeros, zeros
        raw = self.boosting.predict_proba(rows)[:, 1]
        calibrated = raw if self.calibration is None else self.calibration.predict(raw)
        return np.asarray(calibrated, dtype=np.float32), np.asarray(raw, dtype=np.float32)


def ranker_fit(
    rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, missed: int, settings: RankerSettings
) -> Ranker:
    """``groups``: the note of each row; ``missed``: final codes no candidate had."""
    if labels.min(initial=1) == labels.max(initial=0):
        raise ValueError("The ranker needs candidates that are final codes and some that are not")
    held_out = _held_out(rows, labels, groups, settings)
    calibration = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    calibration.fit(held_out, labels)
    probabilities = calibration.predict(held_out)
    cutoff, validation = _cutoff(probabilities, labels, missed)
    return Ranker(_boosting(settings).fit(rows, labels), calibration, cutoff, validation)


def _boosting(settings: RankerSettings) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=settings.iterations,
        learning_rate=settings.learning_rate,
        max_leaf_nodes=settings.leaves,
        l2_regularization=settings.l2,
        random_state=settings.seed,
    )


def _held_out(
    rows: np.ndarray, labels: np.ndarray, groups: np.ndarray, settings: RankerSettings
) -> np.ndarray:
    predictions = np.zeros(len(rows), dtype=np.float64)
    folds = min(settings.folds, len(np.unique(groups)))
    if folds < 2:
        return np.asarray(_boosting(settings).fit(rows, labels).predict_proba(rows)[:, 1])
    for train, test in GroupKFold(n_splits=folds).split(rows, labels, groups):
        if labels[train].min() == labels[train].max():
            predictions[test] = labels[train].mean()
            continue
        model = _boosting(settings).fit(rows[train], labels[train])
        predictions[test] = model.predict_proba(rows[test])[:, 1]
    return predictions


def _cutoff(
    probabilities: np.ndarray, labels: np.ndarray, missed: int
) -> tuple[float, dict[str, float]]:
    order = np.argsort(-probabilities, kind="stable")
    hits = np.cumsum(labels[order])
    kept = np.arange(1, len(order) + 1)
    gold = float(labels.sum()) + missed
    precision = hits / kept
    recall = hits / max(gold, 1.0)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
    # Rows that tie with the next one cannot be cut between: ``>= cutoff``
    # keeps the whole tie.
    ordered = probabilities[order]
    f1[:-1][ordered[1:] == ordered[:-1]] = -1.0
    best = int(np.argmax(f1))
    cutoff = float(probabilities[order][best])
    figures = {"precision": float(precision[best]), "recall": float(recall[best])}
    return cutoff, {**figures, "f1": float(f1[best]), "cutoff": cutoff}
