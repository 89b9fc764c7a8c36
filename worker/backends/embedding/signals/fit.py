"""Training the whole suggester from reviewed notes, with cross-fitting.

The ranker must learn how much each signal is worth on notes the signals
did not learn from, or it would trust the classifiers' and the lexicon's
perfect memory of their own training notes. So the notes are cut into
``folds``: for each, the signals are fitted on the other folds and the
held-out notes' candidates become ranker rows. The ranker (with its
calibration and cut-off, ``ranker``) learns from those rows; the signals
are then fitted once more on every note, for prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import KFold

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.signals.features import FEATURES, candidate_rows
from worker.backends.embedding.signals.feedback import ReviewedNote
from worker.backends.embedding.signals.mentions import NoteMentions, analyse
from worker.backends.embedding.signals.ranker import Ranker, RankerSettings, ranker_fit
from worker.backends.embedding.signals.signals import (
    Signals,
    SignalSettings,
    notes_signals,
    signals_fit,
)
from worker.backends.embedding.signals.terminology import Terminology

# texts -> per text, the calibrated similarity of its best codes
ZeroShot = Callable[[Sequence[str]], Sequence[Mapping[str, float]]]
# (what is being done, done, total)
Progress = Callable[[str, int, int], None]


class NotEnoughExamples(ValueError):
    """The reviewed notes cannot train a suggester."""


@dataclass(frozen=True)
class FitSettings:
    folds: int = 5
    signals: SignalSettings = field(default_factory=SignalSettings)
    ranker: RankerSettings = field(default_factory=RankerSettings)
    seed: int = 0


@dataclass
class Fitted:
    signals: Signals
    ranker: Ranker
    notes: int
    codes: int


def suggester_fit(
    notes: Sequence[ReviewedNote],
    *,
    hierarchy: Hierarchy,
    terminology: Terminology,
    zero_shot: ZeroShot,
    settings: FitSettings,
    progress: Progress = lambda what, done, total: None,
) -> Fitted:
    notes = [n for n in notes if n.codes]
    if len(notes) < 2:
        raise NotEnoughExamples(f"{len(notes)} reviewed note(s) with codes; at least 2 are needed")
    progress("reading mentions", 0, len(notes))
    mentions = [analyse(n.text) for n in notes]
    progress("zero-shot similarity", 0, len(notes))
    similar = zero_shot([n.text for n in notes])
    rows, labels, groups, missed = _cross_fitted(
        notes, mentions, similar, hierarchy, terminology, settings, progress
    )
    progress("ranker", 0, 1)
    try:
        ranker = ranker_fit(rows, labels, groups, missed, settings.ranker)
    except ValueError as error:
        raise NotEnoughExamples(str(error)) from error
    signals = signals_fit(notes, mentions, settings.signals)
    return Fitted(signals, ranker, len(notes), len({c for n in notes for c in n.codes}))


def _cross_fitted(
    notes: Sequence[ReviewedNote],
    mentions: Sequence[NoteMentions],
    similar: Sequence[Mapping[str, float]],
    hierarchy: Hierarchy,
    terminology: Terminology,
    settings: FitSettings,
    progress: Progress,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Ranker rows of every note from signals fitted without it: rows,
    labels, the note of each row, and the final codes no candidate had."""
    billable = frozenset(e.code for e in hierarchy if e.billable)
    rows: list[np.ndarray] = []
    labels: list[bool] = []
    groups: list[int] = []
    missed = 0
    folds = KFold(min(settings.folds, len(notes)), shuffle=True, random_state=settings.seed)
    for number, (train, test) in enumerate(folds.split(notes), start=1):
        progress("cross-fitting", number, folds.get_n_splits())
        fold = signals_fit(
            [notes[i] for i in train], [mentions[i] for i in train], settings.signals
        )
        answers = notes_signals(
            fold,
            [notes[i].text for i in test],
            [mentions[i] for i in test],
            [similar[i] for i in test],
            hierarchy,
        )
        for i, answer in zip(test, answers, strict=True):
            found = candidate_rows(answer, fold.feedback, terminology, billable)
            rows.append(found.rows)
            labels.extend(code in notes[i].codes for code in found.codes)
            groups.extend([int(i)] * len(found.codes))
            missed += len(notes[i].codes - set(found.codes))
    stacked = np.vstack(rows) if rows else np.zeros((0, len(FEATURES)), dtype=np.float32)
    return stacked, np.array(labels, dtype=np.int8), np.array(groups), missed
