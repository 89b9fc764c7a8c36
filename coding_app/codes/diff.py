"""Compare the model's code set with the coder's, the way the hierarchy sees it.

Codes are paired so that the pairing is as close as the hierarchy allows:
first as many exact pairs as possible, then as many ancestor/descendant pairs
as possible, then siblings, and so on down to the same chapter. That is a
lexicographic optimum over the whole set, found by optimal assignment, so an
early greedy choice never spoils a closer pair later on. Model [E11.6,
E11.64] against coder [E11.641, E11.65]: greedy on the first model code takes
E11.6 with E11.641 (ancestor) and leaves E11.64 only a sibling, E11.65; the
optimum gives two ancestor pairs, E11.6 with E11.65 and E11.64 with E11.641.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coding_app.codes.assignment import max_weight_pairs
from coding_app.codes.excludes import Excludes1Conflict, excludes1_conflicts
from coding_app.codes.forms import MAX_CODE_TEXT, code_key
from coding_app.codes.hierarchy import Hierarchy, Relation


@dataclass(frozen=True)
class CodePair:
    model: str
    coder: str
    relation: Relation


@dataclass(frozen=True)
class CodeSetDiff:
    """Pairs in the model's order, then the codes each side had alone.

    Codes are keys (``E1165``); text that is not written like a code is kept
    as given (trimmed) so that it still shows as unmatched.
    """

    pairs: tuple[CodePair, ...]
    model_only: tuple[str, ...]
    coder_only: tuple[str, ...]
    model_conflicts: tuple[Excludes1Conflict, ...]
    coder_conflicts: tuple[Excludes1Conflict, ...]

    @property
    def agreed(self) -> tuple[str, ...]:
        return tuple(pair.model for pair in self.pairs if pair.relation == Relation.EXACT)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for storage and for the review desk's scripts."""
        return {
            "pairs": [
                {"model": p.model, "coder": p.coder, "relation": p.relation.value}
                for p in self.pairs
            ],
            "model_only": list(self.model_only),
            "coder_only": list(self.coder_only),
            "model_conflicts": [_conflict_dict(c) for c in self.model_conflicts],
            "coder_conflicts": [_conflict_dict(c) for c in self.coder_conflicts],
        }


def diff_code_sets(
    model_codes: Iterable[object],
    coder_codes: Iterable[object],
    hierarchy: Hierarchy,
    *,
    loosest: Relation = Relation.SAME_CHAPTER,
) -> CodeSetDiff:
    """Pair the two sets as closely as the hierarchy allows.

    Codes related no closer than ``loosest`` are left unpaired. Written forms
    are normalised (``e11.65`` is ``E1165``) and repeats dropped.
    """
    model, coder = _keys(model_codes), _keys(coder_codes)
    pairs = _pair(model, coder, hierarchy, loosest.closeness)
    paired_model = {pair.model for pair in pairs}
    paired_coder = {pair.coder for pair in pairs}
    return CodeSetDiff(
        pairs=tuple(sorted(pairs, key=lambda pair: model.index(pair.model))),
        model_only=tuple(code for code in model if code not in paired_model),
        coder_only=tuple(code for code in coder if code not in paired_coder),
        model_conflicts=tuple(excludes1_conflicts(model, hierarchy)),
        coder_conflicts=tuple(excludes1_conflicts(coder, hierarchy)),
    )


def _keys(codes: Iterable[object]) -> list[str]:
    keys: dict[str, None] = {}
    for code in codes:
        key = code_key(code)
        if key is None and isinstance(code, str) and code.strip():
            key = code.strip()[:MAX_CODE_TEXT]
        if key is not None:
            keys.setdefault(key, None)
    return list(keys)


def _pair(model: list[str], coder: list[str], hierarchy: Hierarchy, floor: int) -> list[CodePair]:
    # Identical codes always pair: no other pairing can beat an exact pair.
    model_set, coder_set = set(model), set(coder)
    pairs = [CodePair(code, code, Relation.EXACT) for code in model if code in coder_set]
    model_rest = [code for code in model if code not in coder_set]
    coder_rest = [code for code in coder if code not in model_set]
    relations = [[hierarchy.relation(m, c) for c in coder_rest] for m in model_rest]
    # One pair at a closeness level must outweigh any number of pairs at the
    # levels below it: weight (n + 1) ** closeness with n the most pairs.
    base = min(len(model_rest), len(coder_rest)) + 1
    weights = [
        [base**r.closeness if r.closeness >= floor and r.closeness > 0 else 0 for r in row]
        for row in relations
    ]
    for row, column in max_weight_pairs(weights):
        pairs.append(CodePair(model_rest[row], coder_rest[column], relations[row][column]))
    return pairs


def _conflict_dict(conflict: Excludes1Conflict) -> dict[str, str]:
    return {
        "code": conflict.code,
        "excluded": conflict.excluded,
        "noted_at": conflict.noted_at,
        "note": conflict.note,
    }
