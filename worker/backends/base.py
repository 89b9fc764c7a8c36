"""The one interface every model backend implements.

A backend takes a batch of notes and gives back, for each note in the same
order, a parsed prediction: codes with scores and evidence, a reasoning
text, the raw output and what could not be parsed. Backends know nothing of
the ORM: they get a ``BackendSpec`` (what to load) and the code hierarchy
(what is a valid code), so they can be built and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class BackendSpec:
    """What a backend loads: a ``ModelVersion`` without the database."""

    name: str
    backend: str
    base_model: str
    adapter_path: str = ""
    served_name: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoteText:
    note_id: int
    text: str


@dataclass(frozen=True)
class SuggestedCode:
    """One code a model suggested.

    ``code`` is the billable code key (``E1165``) when ``valid``; otherwise it
    is what the model wrote, trimmed, and ``problem`` says why it was refused.
    ``evidence`` holds ``(start, end)`` character offsets into the note.
    """

    code: str
    valid: bool = True
    problem: str = ""
    score: float | None = None
    evidence: tuple[tuple[int, int], ...] = ()
    rationale: str = ""


@dataclass(frozen=True)
class NotePrediction:
    """A backend's answer for one note; ``parse_problem`` empty when readable.

    ``ranked`` is the model's longer ranked list, ``(code, score)`` best
    first, beyond the cut-off that chose ``codes``: ranking metrics (MAP)
    need the codes a coder is not shown too. Empty when a backend has
    no such list (an LLM): then the suggested codes in their order rank.
    """

    note_id: int
    codes: tuple[SuggestedCode, ...]
    reasoning: str = ""
    raw_output: str = ""
    parse_problem: str = ""
    prompt_version: str = ""
    ranked: tuple[tuple[str, float], ...] = ()

    def suggested_codes(self) -> list[str]:
        """The valid suggested codes, in the model's order."""
        return [c.code for c in self.codes if c.valid]

    def ranked_codes(self) -> list[str]:
        """The codes to score a ranking by, best first."""
        return [code for code, _ in self.ranked] if self.ranked else self.suggested_codes()


# Options of a model version that the prediction job reads, not the
# backend (how many notes go to one ``predict`` call); a backend that checks
# its options strictly must let these through.
JOB_OPTIONS = frozenset({"job_batch_size"})


class TransientBackendError(Exception):
    """A failure worth retrying (a timeout, a server restarting, a 5xx)."""


class BackendConfigError(Exception):
    """A model version that cannot be loaded as configured; retrying won't help."""


class Backend(Protocol):
    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        """One prediction per note, in the order given."""
        ...
