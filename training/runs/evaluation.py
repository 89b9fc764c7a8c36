"""Comparing a candidate with the active version, and the promotion rule.

Both versions predict the same held-out notes; their code sets are scored
against the gold sets with the code-system metrics at chapter, category and
full-code level: precision, recall and F1 (micro and macro) of the suggested
codes, and MAP of each version's ranked list (longer than its suggestions
where the model ranks more candidates than it shows). Per chapter, the
category-level F1 of the labels in that chapter shows where a candidate
gained or lost. The rule that promotes a candidate without a click is
written once, here, and its figures are kept with the evaluation so the
page can show why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.metrics import Level, evaluate_code_sets, level_scores

# The level and average the promotion rule compares.
RULE_LEVEL = Level.CATEGORY.value
RULE_AVERAGE = "f1_micro"
# A chapter moves the rule only when the gold sets use it this often:
# one note's worth of codes swings a rare chapter's F1 by whole points.
MIN_CHAPTER_SUPPORT = 5
MAX_DISAGREEMENTS = 200
# The figures kept per side and level: set scores of the suggested codes,
# and ``map``, the ranking score of the ranked lists.
SET_SCORES = (
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "f1_macro",
)
SCORE_KEYS = (*SET_SCORES, "map")


@dataclass(frozen=True)
class PromotionRule:
    margin: float
    max_chapter_drop: float
    automatic: bool = True

    def describe(self) -> str:
        return (
            f"Promote automatically when category-level micro F1 on the held-out notes "
            f"beats the active version by at least {self.margin:.3f} and no chapter "
            f"(with {MIN_CHAPTER_SUPPORT}+ gold codes) falls by more than "
            f"{self.max_chapter_drop:.3f}."
        )


@dataclass(frozen=True)
class Comparison:
    notes: int
    scores: dict[str, dict[str, dict[str, float]]]
    chapters: dict[str, dict[str, float]]
    disagreements: list[dict[str, Any]]

    def gain(self) -> float:
        candidate = self.scores["candidate"][RULE_LEVEL][RULE_AVERAGE]
        return candidate - self.scores["active"][RULE_LEVEL][RULE_AVERAGE]

    def worst_chapter_drop(self) -> tuple[str, float]:
        drops = [
            (name, -row["change"])
            for name, row in self.chapters.items()
            if row["support"] >= MIN_CHAPTER_SUPPORT
        ]
        return max(drops, key=lambda item: item[1], default=("", 0.0))


def compare_versions(
    *,
    note_ids: Sequence[int],
    candidate: Sequence[Sequence[str]],
    active: Sequence[Sequence[str]],
    gold: Sequence[set[str]],
    hierarchy: Hierarchy,
    candidate_ranked: Sequence[Sequence[str]] | None = None,
    active_ranked: Sequence[Sequence[str]] | None = None,
) -> Comparison:
    """Scores of both versions on the same notes, per level and chapter;
    MAP over each side's ranked lists (default: its codes in order)."""
    scores = {
        side: _levels(predicted, ranked, gold, hierarchy)
        for side, predicted, ranked in (
            ("candidate", candidate, candidate_ranked),
            ("active", active, active_ranked),
        )
    }
    chapters = _chapters(candidate, active, gold, hierarchy)
    disagreements = [
        {"note": note_id, "candidate": list(c), "active": list(a), "gold": sorted(g)}
        for note_id, c, a, g in zip(note_ids, candidate, active, gold, strict=True)
        if set(c) != set(a)
    ]
    return Comparison(len(note_ids), scores, chapters, disagreements[:MAX_DISAGREEMENTS])


def promotion_verdict(comparison: Comparison, rule: PromotionRule) -> tuple[bool, dict[str, Any]]:
    """Whether the rule promotes the candidate, and the figures it used."""
    gain = comparison.gain()
    chapter, drop = comparison.worst_chapter_drop()
    promote = rule.automatic and gain >= rule.margin and drop <= rule.max_chapter_drop
    if not rule.automatic:
        why = "Automatic promotion is off; an admin decides."
    elif gain < rule.margin:
        why = f"The gain {gain:+.3f} is below the margin {rule.margin:.3f}."
    elif drop > rule.max_chapter_drop:
        why = f"Chapter {chapter} falls by {drop:.3f}, more than {rule.max_chapter_drop:.3f}."
    else:
        why = f"Gain {gain:+.3f}, worst chapter drop {drop:.3f}: promoted."
    figures = {
        **asdict(rule),
        "text": rule.describe(),
        "level": RULE_LEVEL,
        "average": RULE_AVERAGE,
        "gain": round(gain, 4),
        "worst_chapter": chapter,
        "worst_chapter_drop": round(drop, 4),
        "why": why,
    }
    return promote, figures


def _levels(
    predicted: Sequence[Sequence[str]],
    ranked: Sequence[Sequence[str]] | None,
    gold: Sequence[set[str]],
    hierarchy: Hierarchy,
) -> dict[str, dict[str, float]]:
    evaluation = evaluate_code_sets(predicted, gold, hierarchy, ranked_lists=ranked)
    levels: dict[str, dict[str, float]] = {}
    for level, scores in evaluation.levels.items():
        figures = asdict(scores)
        levels[level] = {key: round(float(figures[key]), 4) for key in SET_SCORES}
        levels[level]["map"] = round(evaluation.mean_average_precision[level], 4)
    return levels


def _chapters(
    candidate: Sequence[Sequence[str]],
    active: Sequence[Sequence[str]],
    gold: Sequence[set[str]],
    hierarchy: Hierarchy,
) -> dict[str, dict[str, float]]:
    """Category-level micro F1 of each chapter's labels, both versions."""
    chapter_of: dict[str, str] = {}

    def chapter(code: str) -> str:
        category = code[:3]
        if category not in chapter_of:
            entry = hierarchy.entry(category)
            chapter_of[category] = entry.chapter if entry is not None else "?"
        return chapter_of[category]

    names = sorted({chapter(c) for codes in (*candidate, *active, *gold) for c in codes})
    rows: dict[str, dict[str, float]] = {}
    for name in names:

        def within(sets: Sequence[Sequence[str] | set[str]], name: str = name) -> list[set[str]]:
            return [{c[:3] for c in codes if chapter(c) == name} for codes in sets]

        truth = within(gold)
        new = level_scores(within(candidate), truth).f1_micro
        old = level_scores(within(active), truth).f1_micro
        rows[name] = {
            "candidate": round(new, 4),
            "active": round(old, 4),
            "change": round(new - old, 4),
            "support": float(sum(len(t) for t in truth)),
        }
    return rows


def chapter_sort_key(item: tuple[str, Mapping[str, float]]) -> tuple[int, str]:
    name = item[0]
    return (int(name), "") if name.isdigit() else (10_000, name)
