"""Pairing the model's codes with the coder's, and Excludes1 conflicts."""

from __future__ import annotations

import itertools
import random

import pytest

from coding_app.codes.assignment import max_weight_pairs
from coding_app.codes.diff import CodePair, diff_code_sets
from coding_app.codes.excludes import CodeSpan, excludes1_conflicts, note_spans
from coding_app.codes.hierarchy import Hierarchy, Relation
from tests.coding_app.test_codes_support import packaged_hierarchy


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


def test_identical_sets_pair_exactly_whatever_the_written_form(hierarchy: Hierarchy) -> None:
    diff = diff_code_sets(["e11.65", "I21.4"], ["I214", " E11.65 "], hierarchy)
    assert diff.pairs == (
        CodePair("E1165", "E1165", Relation.EXACT),
        CodePair("I214", "I214", Relation.EXACT),
    )
    assert diff.model_only == diff.coder_only == ()
    assert diff.agreed == ("E1165", "I214")


def test_pairing_is_optimal_where_greedy_on_the_first_code_is_not(hierarchy: Hierarchy) -> None:
    # Greedy would pair E11.6 with E11.641 (ancestor) and leave E11.64 only
    # a sibling; the optimum has two ancestor pairs.
    diff = diff_code_sets(["E11.6", "E11.64"], ["E11.641", "E11.65"], hierarchy)
    assert diff.pairs == (
        CodePair("E116", "E1165", Relation.ANCESTOR),
        CodePair("E1164", "E11641", Relation.ANCESTOR),
    )


def test_one_close_pair_beats_two_loose_ones(hierarchy: Hierarchy) -> None:
    # E11.65 can pair with E11.69 (sibling) or leave E11.69 to E10.9 (same
    # block) and itself take E11.9 (same category): the sibling pair wins.
    diff = diff_code_sets(["E11.65", "E10.9"], ["E11.69", "E11.9"], hierarchy)
    relations = {(p.model, p.coder): p.relation for p in diff.pairs}
    assert relations[("E1165", "E1169")] == Relation.SIBLING


def test_unmatched_codes_are_listed_per_side_in_given_order(hierarchy: Hierarchy) -> None:
    diff = diff_code_sets(["I21.4", "J18.9", "Z99.89", "i21.4"], ["I21.9", "E11.65"], hierarchy)
    assert diff.pairs == (CodePair("I214", "I219", Relation.SIBLING),)
    assert diff.model_only == ("J189", "Z9989")
    assert diff.coder_only == ("E1165",)


def test_loosest_relation_limits_what_is_paired(hierarchy: Hierarchy) -> None:
    loose = diff_code_sets(["E11.65"], ["E03.9"], hierarchy)
    assert loose.pairs == (CodePair("E1165", "E039", Relation.SAME_CHAPTER),)
    strict = diff_code_sets(["E11.65"], ["E03.9"], hierarchy, loosest=Relation.SAME_CATEGORY)
    assert strict.pairs == ()
    assert strict.model_only == ("E1165",)
    assert strict.coder_only == ("E039",)


def test_unknown_and_malformed_codes_stay_unpaired(hierarchy: Hierarchy) -> None:
    diff = diff_code_sets(["E11.659", "see note!"], ["E11.65"], hierarchy)
    assert diff.pairs == ()
    assert diff.model_only == ("E11659", "see note!")


def test_excludes1_conflict_inside_one_set_is_flagged(hierarchy: Hierarchy) -> None:
    diff = diff_code_sets(["E10.9", "E11.65"], ["E11.65", "I10"], hierarchy)
    assert [(c.code, c.excluded, c.noted_at) for c in diff.model_conflicts] == [
        ("E109", "E1165", "E10")
    ]
    assert diff.model_conflicts[0].note == "type 2 diabetes mellitus (E11.-)"
    assert diff.coder_conflicts == ()


@pytest.mark.parametrize(
    ("codes", "conflict"),
    [
        (["E10.9", "R73.9"], ("E109", "R739")),  # hyperglycemia NOS (R73.9)
        (["J18.9", "J84.9"], ("J189", "J849")),  # interstitial pneumonia NOS (J84.9)
        (["E11.65", "R73.9"], ("E1165", "R739")),  # at R73: diabetes mellitus (E08-E13)
        (["E11.9", "E08.9"], ("E089", "E119")),  # a range of categories (E08-E13)
    ],
)
def test_excludes1_notes_apply_from_ancestors(
    hierarchy: Hierarchy, codes: list[str], conflict: tuple[str, str]
) -> None:
    found = excludes1_conflicts(codes, hierarchy)
    assert [tuple(sorted(c.codes)) for c in found] == [tuple(sorted(conflict))]


def test_codes_allowed_together_are_no_conflict(hierarchy: Hierarchy) -> None:
    # Excludes2 (not included here, may be coded together) is not Excludes1:
    # I21 lists old myocardial infarction (I25.2) as Excludes2.
    assert excludes1_conflicts(["I21.4", "I25.2"], hierarchy) == []
    assert excludes1_conflicts(["E11.65", "I10", "E78.5"], hierarchy) == []
    assert excludes1_conflicts(["E11", "E11.65"], hierarchy) == []


@pytest.mark.parametrize(
    ("note", "spans"),
    [
        ("acute myocardial infarction (I21.-)", [("I21", "I21")]),
        ("diabetes mellitus (E08-E13)", [("E08", "E13")]),
        ("pneumonia in coccidioidomycosis (B38.0-B38.2)", [("B380", "B382")]),
        ("inflammation of penis (N48.1, N48.2-)", [("N481", "N481"), ("N482", "N482")]),
        ("abscess (K50.014, K50.114,)", [("K50014", "K50014"), ("K50114", "K50114")]),
        ("nerve root compression (M47.0-, M47.2.-)", [("M470", "M470"), ("M472", "M472")]),
        ("fluency disorder (stuttering) (I69. with final characters -23)", []),
        ("mononucleosis (B27.- with fifth character 2)", []),
        ("certain localized infections - see body system-related chapters", []),
    ],
)
def test_note_references_become_code_spans(note: str, spans: list[tuple[str, str]]) -> None:
    assert note_spans(note) == tuple(CodeSpan(low, high) for low, high in spans)


def test_span_covers_codes_between_its_ends_at_their_depth() -> None:
    span = CodeSpan("B380", "B382")
    assert [span.covers(code) for code in ("B380", "B3811", "B382", "B383", "B38")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_diff_as_dict_is_plain_json(hierarchy: Hierarchy) -> None:
    data = diff_code_sets(["E10.9", "E11.65"], ["E11.9"], hierarchy).as_dict()
    assert data["pairs"][0]["relation"] in {relation.value for relation in Relation}
    assert data["model_conflicts"][0]["noted_at"] == "E10"


def _brute_force_best(weights: list[list[int]]) -> int:
    rows, columns = len(weights), len(weights[0])
    best = 0
    if rows <= columns:
        for chosen in itertools.permutations(range(columns), rows):
            best = max(best, sum(weights[r][c] for r, c in enumerate(chosen)))
    else:
        for chosen in itertools.permutations(range(rows), columns):
            best = max(best, sum(weights[r][c] for c, r in enumerate(chosen)))
    return best


@pytest.mark.parametrize("seed", range(60))
def test_assignment_finds_the_heaviest_pairing(seed: int) -> None:
    generator = random.Random(seed)
    rows, columns = generator.randint(1, 6), generator.randint(1, 6)
    weights = [[generator.choice([0, 0, 1, 3, 9, 27]) for _ in range(columns)] for _ in range(rows)]
    pairs = max_weight_pairs(weights)
    assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
    assert all(weights[r][c] > 0 for r, c in pairs)
    total = sum(weights[r][c] for r, c in pairs)
    assert total == _brute_force_best(weights)


def test_assignment_of_nothing_is_nothing() -> None:
    assert max_weight_pairs([]) == []
    assert max_weight_pairs([[]]) == []
    assert max_weight_pairs([[0, 0], [0, 0]]) == []
