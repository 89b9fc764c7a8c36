"""MAP of ranked code lists: by hand, and against scikit-learn."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.metrics import Level, average_precision, evaluate_code_sets
from tests.coding_app.test_codes_support import packaged_hierarchy

TOLERANCE = 1e-9
POOL_CATEGORIES = ["E10", "E11", "I10", "I21", "J18", "J44", "N39", "S72"]


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="session")
def pool(hierarchy: Hierarchy) -> list[str]:
    return [e.code for c in POOL_CATEGORIES for e in hierarchy.billable_under(c, limit=4)]


def _label(code: str, level: Level, hierarchy: Hierarchy) -> str:
    if level == Level.CODE:
        return code
    if level == Level.CATEGORY:
        return code[:3]
    entry = hierarchy.entry(code[:3])
    assert entry is not None
    return entry.chapter


def test_average_precision_by_hand() -> None:
    # Hits at ranks 1 and 4 of three gold codes, one never ranked:
    # (1/1 + 2/4) / 3.
    assert average_precision(["a", "b", "c", "d"], {"a", "d", "z"}) == pytest.approx(0.5)
    assert average_precision([], {"a"}) == 0.0
    assert average_precision(["a"], set()) == 0.0


def test_map_at_three_levels_by_hand(hierarchy: Hierarchy) -> None:
    predicted = [["E11.65", "I10", "J18.9", "E11.9"], ["I10"], []]
    reference = [["E11.65", "E11.9", "I21.4"], [], ["J18.9"]]
    evaluation = evaluate_code_sets(predicted, reference, hierarchy)
    found = evaluation.mean_average_precision
    # The note without gold codes is skipped; the empty list scores 0.
    # Codes: note 1 hits at ranks 1 and 4 of 3 gold codes, (1 + 2/4) / 3.
    assert found["code"] == pytest.approx((0.5 + 0.0) / 2)
    # Categories: E11, I10, J18 (E11.9's E11 counts at its first place)
    # against {E11, I21}: one hit at rank 1 of 2.
    assert found["category"] == pytest.approx((0.5 + 0.0) / 2)
    # Chapters: 4, 9, 10 against {4, 9}: hits at ranks 1 and 2.
    assert found["chapter"] == pytest.approx((1.0 + 0.0) / 2)
    assert evaluation.as_dict()["mean_average_precision"] == found


def test_a_longer_ranked_list_counts_codes_beyond_the_suggestions(hierarchy: Hierarchy) -> None:
    predicted = [["E11.65"]]
    reference = [["E11.65", "E11.9"]]
    shown = evaluate_code_sets(predicted, reference, hierarchy)
    ranked = evaluate_code_sets(
        predicted, reference, hierarchy, ranked_lists=[["E11.65", "I10", "e11.9"]]
    )
    # AP never exceeds the recall of the list it ranks: 1/2 for the one
    # suggestion, (1 + 2/3) / 2 once E11.9 is ranked third.
    assert shown.mean_average_precision["code"] == pytest.approx(0.5)
    assert ranked.mean_average_precision["code"] == pytest.approx(5 / 6)
    # The set scores stay those of the suggestions.
    assert ranked.levels == shown.levels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", list(Level))
def test_map_of_full_rankings_agrees_with_scikit_learn(
    hierarchy: Hierarchy, pool: list[str], seed: int, level: Level
) -> None:
    generator = random.Random(seed)
    ranked = [generator.sample(pool, len(pool)) for _ in range(40)]
    reference = [generator.sample(pool, generator.randint(0, 4)) for _ in range(40)]
    evaluation = evaluate_code_sets(
        [r[:3] for r in ranked], reference, hierarchy, ranked_lists=ranked
    )
    labels = sorted({_label(c, level, hierarchy) for c in pool})
    per_note = []
    for codes, gold in zip(ranked, reference, strict=True):
        truth = {_label(c, level, hierarchy) for c in gold}
        if not truth:
            continue
        # A label scores by its first place; every label is ranked, no ties.
        places: dict[str, int] = {}
        for place, code in enumerate(codes):
            places.setdefault(_label(code, level, hierarchy), place)
        y_true = np.array([label in truth for label in labels])
        y_score = np.array([-float(places[label]) for label in labels])
        per_note.append(average_precision_score(y_true, y_score))
    expected = sum(per_note) / len(per_note)
    assert evaluation.mean_average_precision[level.value] == pytest.approx(expected, abs=TOLERANCE)


def test_ranked_lists_of_another_length_are_refused(hierarchy: Hierarchy) -> None:
    with pytest.raises(ValueError, match="1 ranked lists for 2 references"):
        evaluate_code_sets([[], []], [["E11.65"], []], hierarchy, ranked_lists=[["E11.65"]])
