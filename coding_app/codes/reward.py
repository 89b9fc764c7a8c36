"""The GRPO reward for ICD-10-CM coding (DeepICD-R1), as trl expects it.

One number per completion in [0, 1], the weighted sum of three parts:

- format (weight 0.2): 1 when the completion is exactly a non-empty
  ``<think>…</think>`` block then a ``<diagnosis>…</diagnosis>`` block of
  codes (one per line, or separated by commas or semicolons), else 0;
- outcome (weight 0.5): F1 of the diagnosis codes against the gold codes,
  exact codes only;
- hierarchy (weight 0.3): partial credit for near misses, a soft F1 in which
  a predicted and a gold code earn 1 when equal, 0.75 for the right parent
  (siblings, or one the direct parent of the other), 0.5 for the right
  category and 0.25 for the right chapter. Each predicted code counts its
  best credit against the gold codes (soft precision), each gold code its
  best credit against the predictions (soft recall).

Outcome and hierarchy are read from the first diagnosis block even when the
format is wrong, so a badly wrapped but right answer still teaches something;
the format part is what it loses. Codes not in the release earn nothing and
still count against precision, so inventing codes or listing many never pays.
Without gold codes only the format part can be earned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coding_app.codes.completion import completion_text, parse_completion
from coding_app.codes.forms import code_key
from coding_app.codes.hierarchy import Hierarchy, Relation

FORMAT_WEIGHT = 0.2
OUTCOME_WEIGHT = 0.5
HIERARCHY_WEIGHT = 0.3

PARENT_CREDIT = 0.75
CATEGORY_CREDIT = 0.5
CHAPTER_CREDIT = 0.25

_GOLD_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class RewardParts:
    format: float
    outcome: float
    hierarchy: float
    problems: tuple[str, ...]

    @property
    def total(self) -> float:
        return (
            FORMAT_WEIGHT * self.format
            + OUTCOME_WEIGHT * self.outcome
            + HIERARCHY_WEIGHT * self.hierarchy
        )


def reward(
    completions: Sequence[Any], gold_codes: Sequence[Any] | None = None, **kwargs: Any
) -> list[float]:
    """trl GRPOTrainer reward function: one float per completion.

    ``gold_codes`` is the dataset column of the same name (per completion a
    list of codes, or one string of codes). ``hierarchy`` may be passed as a
    keyword; otherwise the release loaded in the database is used. Other
    keywords trl passes (prompts, completion_ids, trainer_state) are ignored.
    """
    hierarchy = kwargs.get("hierarchy")
    if not isinstance(hierarchy, Hierarchy):
        from coding_app.codes.store import current_hierarchy  # needs Django

        hierarchy = current_hierarchy()
    golds = list(gold_codes) if gold_codes is not None else []
    return [
        reward_parts(completion, golds[i] if i < len(golds) else None, hierarchy).total
        for i, completion in enumerate(completions)
    ]


def make_reward(hierarchy: Hierarchy) -> Callable[..., list[float]]:
    """``reward`` bound to one hierarchy, e.g. for a trainer without a database."""

    def icd10_reward(
        completions: Sequence[Any], gold_codes: Sequence[Any] | None = None, **kwargs: Any
    ) -> list[float]:
        return reward(completions, gold_codes, **{**kwargs, "hierarchy": hierarchy})

    return icd10_reward


def reward_parts(completion: Any, gold: Any, hierarchy: Hierarchy) -> RewardParts:
    """The three parts for one completion, with what broke its format."""
    parsed = parse_completion(completion_text(completion))
    format_score = 1.0 if parsed.well_formed else 0.0
    gold_set = gold_keys(gold)
    if gold_set is None:
        return RewardParts(format_score, 0.0, 0.0, parsed.problems)
    predicted = list(parsed.codes)
    return RewardParts(
        format=format_score,
        outcome=_exact_f1(set(predicted), gold_set),
        hierarchy=_hierarchy_f1(predicted, sorted(gold_set), hierarchy),
        problems=parsed.problems,
    )


def gold_keys(gold: Any) -> set[str] | None:
    """The gold codes as keys; None when there are none to score against."""
    if gold is None:
        return None
    items = _GOLD_SEPARATORS.split(gold) if isinstance(gold, str) else gold
    if not isinstance(items, list | tuple | set | frozenset):
        return None
    return {key for key in map(code_key, items) if key is not None}


def code_credit(predicted: str, gold: str, hierarchy: Hierarchy) -> float:
    """Partial credit for one predicted code against one gold code."""
    relation = hierarchy.relation(predicted, gold)
    if relation == Relation.EXACT:
        return 1.0
    if relation == Relation.SIBLING or _is_parent_pair(predicted, gold, hierarchy):
        return PARENT_CREDIT
    if relation in (Relation.ANCESTOR, Relation.DESCENDANT, Relation.SAME_CATEGORY):
        return CATEGORY_CREDIT
    if relation in (Relation.SAME_BLOCK, Relation.SAME_CHAPTER):
        return CHAPTER_CREDIT
    return 0.0


def _is_parent_pair(a: str, b: str, hierarchy: Hierarchy) -> bool:
    first, second = hierarchy.entry(a), hierarchy.entry(b)
    if first is None or second is None:
        return False
    return first.parent == second.code or second.parent == first.code


def _exact_f1(predicted: set[str], gold: set[str]) -> float:
    if not predicted and not gold:
        return 1.0
    hits = len(predicted & gold)
    return 2 * hits / (len(predicted) + len(gold))


def _hierarchy_f1(predicted: list[str], gold: list[str], hierarchy: Hierarchy) -> float:
    if not predicted or not gold:
        return 1.0 if not predicted and not gold else 0.0
    credit = [[code_credit(p, g, hierarchy) for g in gold] for p in predicted]
    precision = sum(max(row) for row in credit) / len(predicted)
    recall = sum(max(column) for column in zip(*credit, strict=True)) / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
