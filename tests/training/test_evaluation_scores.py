"""compare_versions: precision, recall, F1 and MAP per level for both sides."""

from __future__ import annotations

import pytest

from tests.coding_app.test_codes_support import packaged_hierarchy
from training.runs.evaluation import SCORE_KEYS, PromotionRule, compare_versions, promotion_verdict
from worker.backends.base import NotePrediction, SuggestedCode

GOLD = [{"E1165", "I214"}, {"J189"}]


def test_both_sides_carry_precision_recall_f1_and_map_at_every_level() -> None:
    comparison = compare_versions(
        note_ids=[1, 2],
        candidate=[["E1165", "I10"], ["J189"]],
        active=[["E119"], []],
        gold=GOLD,
        hierarchy=packaged_hierarchy(),
    )
    for side in ("candidate", "active"):
        assert set(comparison.scores[side]) == {"chapter", "category", "code"}
        for level in comparison.scores[side].values():
            assert tuple(level) == SCORE_KEYS
    code = comparison.scores["candidate"]["code"]
    # TP 2, FP 1, FN 1; labels E1165, I10, I214, J189 for the macro means.
    assert (code["precision_micro"], code["recall_micro"]) == (round(2 / 3, 4), round(2 / 3, 4))
    assert code["precision_macro"] == 0.5
    assert code["recall_macro"] == 0.5
    # AP: note 1 hits E1165 at rank 1 of 2 gold codes (1/2), note 2 1.
    assert code["map"] == 0.75
    assert comparison.scores["active"]["code"]["map"] == 0.0
    assert comparison.scores["active"]["category"]["map"] == 0.25  # E11 at rank 1 of 2


def test_map_reads_the_ranked_lists_and_the_set_scores_the_suggestions() -> None:
    shown = [["E1165"], ["J189"]]
    ranked = [["E1165", "I10", "I214"], ["J189"]]
    comparison = compare_versions(
        note_ids=[1, 2],
        candidate=shown,
        active=shown,
        gold=GOLD,
        hierarchy=packaged_hierarchy(),
        candidate_ranked=ranked,
    )
    candidate, active = comparison.scores["candidate"], comparison.scores["active"]
    # I214 ranked third adds 2/3 to note 1's AP: (1 + 2/3) / 2.
    assert candidate["code"]["map"] == round((5 / 6 + 1) / 2, 4)
    assert active["code"]["map"] == 0.75
    assert candidate["code"]["recall_micro"] == active["code"]["recall_micro"] == round(2 / 3, 4)
    assert comparison.disagreements == []


def test_the_rule_still_compares_category_micro_f1_not_map() -> None:
    shown = [["E1165"], ["J189"]]
    comparison = compare_versions(
        note_ids=[1, 2],
        candidate=shown,
        active=shown,
        gold=GOLD,
        hierarchy=packaged_hierarchy(),
        candidate_ranked=[["E1165", "I214"], ["J189"]],
    )
    assert (
        comparison.scores["candidate"]["code"]["map"] > comparison.scores["active"]["code"]["map"]
    )
    promote, figures = promotion_verdict(comparison, PromotionRule(0.01, 0.05))
    assert not promote
    assert figures["average"] == "f1_micro"
    assert figures["gain"] == 0.0


@pytest.mark.parametrize(
    ("prediction", "ranked"),
    [
        (NotePrediction(1, (SuggestedCode("E1165"), SuggestedCode("x", valid=False))), ["E1165"]),
        (
            NotePrediction(1, (SuggestedCode("E1165"),), ranked=(("I10", 0.9), ("E1165", 0.8))),
            ["I10", "E1165"],
        ),
    ],
)
def test_a_prediction_ranks_its_ranked_list_else_its_valid_suggestions(
    prediction: NotePrediction, ranked: list[str]
) -> None:
    assert prediction.suggested_codes() == ["E1165"]
    assert prediction.ranked_codes() == ranked
