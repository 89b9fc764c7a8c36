"""Codes that two decisions of one review put in the final set.

Replacing I22.2 with I21.4 while the suggestion I21.4 is accepted is a fair
thing for a coder to mean (I22.2 was wrong; I21.4 already covers it), so it
is warned about, not refused. The final set holds each code once
(``review.final_codes`` is a set, and the exports and statistics count a
code once per review), so the warning says the code counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coding_app.codes.forms import dotted
from review.models import Decision


@dataclass(frozen=True)
class DuplicateCode:
    """A final code and the decisions (two or more) that put it there."""

    code: str
    holders: tuple[Decision, ...]

    @property
    def message(self) -> str:
        """The warning beside the submit button."""
        ways = ", ".join(holder_words(d) for d in self.holders)
        return (
            f"{dotted(self.code)} is in your codes {len(self.holders)} times ({ways}); "
            "it counts once."
        )

    def note_for(self, decision: Decision) -> str:
        """The warning on one holder's row: where else the code comes from."""
        others = [holder_words(d) for d in self.holders if d.pk != decision.pk]
        return (
            f"{dotted(self.code)} is already in your codes ({', '.join(others)}); it counts once."
        )


def holder_words(decision: Decision) -> str:
    """How a decision puts its code in the final set, in words."""
    if decision.action == Decision.Action.REPLACE:
        return f"replacing {dotted(decision.code)}"
    if decision.action == Decision.Action.ADD:
        return "added"
    return "accepted"


def duplicate_codes(decisions: Iterable[Decision]) -> list[DuplicateCode]:
    """The final codes held by more than one decision, in decision order."""
    holders: dict[str, list[Decision]] = {}
    for decision in decisions:
        if (code := decision.final_code) is not None:
            holders.setdefault(code, []).append(decision)
    return [DuplicateCode(code, tuple(found)) for code, found in holders.items() if len(found) > 1]
