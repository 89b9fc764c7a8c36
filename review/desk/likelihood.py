"""A suggestion's score in words a coder can act on.

Every backend that scores its codes gives a calibrated probability: the
learned ranker's is isotonic-calibrated on notes it did not learn from (a
0.7 means about seven in ten such suggestions were final codes), and the
zero-shot score is the similarity through a sigmoid fitted on the CodiEsp
train split (``worker.backends.embedding.ranking``). So one set of bands
reads the same for both; an LLM's codes come without a score and get none.

- **likely**: 0.5 or more; right more often than not. Check the evidence
  and accept.
- **possible**: 0.2 to under 0.5; at least one in five right. Read the
  evidence before deciding.
- **unlikely**: under 0.2; most such suggestions were wrong. Accept only
  what the note clearly documents.

A version's cut-off (the learned ranker's, stored in its manifest, or the
zero-shot ``threshold``) only decides which codes are suggested at all; it
does not move the bands, so "likely" means the same whichever model is live.
Zero-shot similarity rarely reaches "likely" (0.5 needs a similarity of
about 0.98): that is the honest reading of an untrained model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LIKELY_FROM = 0.5
POSSIBLE_FROM = 0.2


@dataclass(frozen=True)
class Likelihood:
    """``key`` is ``likely``, ``possible`` or ``unlikely``; ``score`` the raw number."""

    key: str
    score: float

    @property
    def label(self) -> str:
        return self.key

    @property
    def percent(self) -> str:
        """The probability as a whole percentage; "<1 %" rather than "0 %"."""
        value = round(self.score * 100)
        return "<1 %" if value == 0 and self.score > 0 else f"{value} %"

    @property
    def explanation(self) -> str:
        """The hover text: the percentage and the raw number behind the word."""
        return f"{self.percent} chance the code is right (model score {self.score:.4f})"


def likelihood(score: float | None) -> Likelihood | None:
    """The band of a calibrated ``score`` in [0, 1]; None without a score.

    Raises ``ValueError`` for a score outside [0, 1] or not a number: a
    band drawn from such a number would mislead the coder.
    """
    if score is None:
        return None
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise ValueError(f"A calibrated score lies in [0, 1], got {score!r}")
    if score >= LIKELY_FROM:
        return Likelihood("likely", score)
    if score >= POSSIBLE_FROM:
        return Likelihood("possible", score)
    return Likelihood("unlikely", score)
