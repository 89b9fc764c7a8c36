"""What coders did with each code before: how often it was a final code,
how often it was suggested and rejected (and why), over the reviewed notes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReviewedNote:
    """One training example: a note, its final codes, the suggestions the
    coder rejected (code -> reason) and the evidence marked per code."""

    note_id: int
    text: str
    codes: frozenset[str]
    rejected: Mapping[str, str] = field(default_factory=dict)
    evidence: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Feedback:
    notes: int
    final: Mapping[str, int]
    categories: Mapping[str, int]
    rejected: Mapping[str, int]

    def prior(self, code: str) -> float:
        return self.final.get(code, 0) / max(self.notes, 1)

    def category_prior(self, code: str) -> float:
        return self.categories.get(code[:3], 0) / max(self.notes, 1)

    def reject_rate(self, code: str) -> float:
        """Rejected / (rejected + kept) among suggestions of ``code``; 0.5 unseen."""
        rejected, kept = self.rejected.get(code, 0), self.final.get(code, 0)
        return (rejected + 0.5) / (rejected + kept + 1.0)


def feedback_fit(notes: Sequence[ReviewedNote]) -> Feedback:
    final: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for note in notes:
        final.update(note.codes)
        categories.update({code[:3] for code in note.codes})
        rejected.update(set(note.rejected) - note.codes)
    return Feedback(len(notes), dict(final), dict(categories), dict(rejected))
