"""Set metrics against scikit-learn on random data, and by hand."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import accuracy_score, jaccard_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.metrics import Level, evaluate_code_sets
from tests.coding_app.test_codes_support import packaged_hierarchy

TOLERANCE = 1e-9
# Categories from several chapters and blocks, so that random sets overlap
# at chapter and category level more often than at full-code level.
POOL_CATEGORIES = ["E10", "E11", "E03", "I10", "I21", "I25", "J18", "J44", "N39", "S72", "R07"]


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="session")
def pool(hierarchy: Hierarchy) -> list[str]:
    codes = [e.code for c in POOL_CATEGORIES for e in hierarchy.billable_under(c, limit=6)]
    return [*codes, "E11659", "I2199"]  # two codes unknown to the release


def _random_notes(
    pool: list[str], seed: int, notes: int = 60
) -> tuple[list[list[str]], list[list[str]]]:
    generator = random.Random(seed)
    predicted = [generator.sample(pool, generator.randint(0, 6)) for _ in range(notes)]
    reference = [generator.sample(pool, generator.randint(0, 4)) for _ in range(notes)]
    return predicted, reference


def _at_level(codes: list[str], level: Level, hierarchy: Hierarchy) -> set[str]:
    if level == Level.CODE:
        return set(codes)
    if level == Level.CATEGORY:
        return {code[:3] for code in codes}
    entries = [hierarchy.entry(code[:3]) for code in codes]
    return {entry.chapter for entry in entries if entry is not None}


def _binarized(predicted: list[set[str]], reference: list[set[str]]) -> tuple[object, object]:
    binarizer = MultiLabelBinarizer().fit(predicted + reference)
    return binarizer.transform(reference), binarizer.transform(predicted)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", list(Level))
def test_precision_recall_f1_agree_with_scikit_learn(
    hierarchy: Hierarchy, pool: list[str], seed: int, level: Level
) -> None:
    predicted, reference = _random_notes(pool, seed)
    scores = evaluate_code_sets(predicted, reference, hierarchy).levels[level.value]
    truth, guess = _binarized(
        [_at_level(p, level, hierarchy) for p in predicted],
        [_at_level(r, level, hierarchy) for r in reference],
    )
    for average in ("micro", "macro"):
        expected = precision_recall_fscore_support(truth, guess, average=average, zero_division=0)
        ours = [getattr(scores, f"{name}_{average}") for name in ("precision", "recall", "f1")]
        assert ours == pytest.approx(list(expected[:3]), abs=TOLERANCE)
    assert scores.exact_match == pytest.approx(accuracy_score(truth, guess), abs=TOLERANCE)
    expected_jaccard = jaccard_score(truth, guess, average="samples", zero_division=1.0)
    assert scores.jaccard == pytest.approx(expected_jaccard, abs=TOLERANCE)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 3, 5])
def test_at_k_agrees_with_scikit_learn_on_the_top_k(
    hierarchy: Hierarchy, pool: list[str], seed: int, k: int
) -> None:
    generator = random.Random(seed)
    # Every note has at least k predictions and one reference code, where
    # P@k and R@k are sample-averaged precision and recall of the top k.
    predicted = [generator.sample(pool, generator.randint(k, 8)) for _ in range(50)]
    reference = [generator.sample(pool, generator.randint(1, 4)) for _ in range(50)]
    evaluation = evaluate_code_sets(predicted, reference, hierarchy, ks=[k])
    truth, guess = _binarized([set(p[:k]) for p in predicted], [set(r) for r in reference])
    precision, recall, _, _ = precision_recall_fscore_support(
        truth, guess, average="samples", zero_division=0
    )
    assert evaluation.precision_at_k[k] == pytest.approx(precision, abs=TOLERANCE)
    assert evaluation.recall_at_k[k] == pytest.approx(recall, abs=TOLERANCE)


def test_small_case_by_hand(hierarchy: Hierarchy) -> None:
    predicted = [["E11.65", "E11.9", "I10"], ["J18.9"]]
    reference = [["E11.65", "I21.4"], ["J18.9"]]
    evaluation = evaluate_code_sets(predicted, reference, hierarchy, ks=[1, 2])
    code = evaluation.levels["code"]
    # Codes: TP 2 (E11.65, J18.9), FP 2 (E11.9, I10), FN 1 (I21.4).
    assert (code.precision_micro, code.recall_micro) == (0.5, 2 / 3)
    assert code.f1_micro == pytest.approx(4 / 7)
    assert code.exact_match == 0.5
    assert code.jaccard == pytest.approx((1 / 4 + 1) / 2)
    # Categories: note 1 is {E11, I10} against {E11, I21}.
    assert evaluation.levels["category"].precision_micro == pytest.approx(2 / 3)
    # Chapters: note 1 is {4, 9} against {4, 9}, note 2 {10} against {10}.
    assert evaluation.levels["chapter"].f1_micro == 1.0
    assert evaluation.levels["chapter"].exact_match == 1.0
    # P@2 divides by 2 even where a note has one prediction (note 2).
    assert evaluation.precision_at_k == {1: 1.0, 2: 0.5}
    assert evaluation.recall_at_k == {1: 0.75, 2: 0.75}


def test_written_forms_and_repeats_do_not_change_scores(hierarchy: Hierarchy) -> None:
    plain = evaluate_code_sets([["E1165", "I10"]], [["E1165"]], hierarchy)
    written = evaluate_code_sets([["e11.65", " E11.65 ", "I10"]], [["E11.65"]], hierarchy)
    assert written == plain


def test_a_made_up_code_is_a_false_positive_at_every_level(hierarchy: Hierarchy) -> None:
    evaluation = evaluate_code_sets([["U99.9"]], [["E11.65"]], hierarchy)
    for level in Level:
        assert evaluation.levels[level.value].precision_micro == 0.0


def test_no_notes_scores_zero_rather_than_failing(hierarchy: Hierarchy) -> None:
    evaluation = evaluate_code_sets([], [], hierarchy)
    assert evaluation.notes == 0
    assert evaluation.levels["code"].f1_micro == 0.0
    assert evaluation.as_dict()["precision_at_k"] == {"1": 0.0, "3": 0.0, "5": 0.0}


def test_mismatched_lengths_are_refused(hierarchy: Hierarchy) -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        evaluate_code_sets([["E11.65"], []], [["E11.65"]], hierarchy)
