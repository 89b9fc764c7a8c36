"""The GRPO reward on hand-written completions, good, bad and adversarial."""

from __future__ import annotations

import inspect
import time

import pytest

from coding_app.codes.completion import MAX_CODES, parse_completion
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.reward import (
    CATEGORY_CREDIT,
    CHAPTER_CREDIT,
    FORMAT_WEIGHT,
    HIERARCHY_WEIGHT,
    OUTCOME_WEIGHT,
    PARENT_CREDIT,
    make_reward,
    reward,
    reward_parts,
)
from tests.coding_app.test_codes_support import ensure_code_set_loaded, packaged_hierarchy

GOLD = ["I21.4", "E11.65"]
GOOD = (
    "<think>\nTroponin rise without ST elevation; HbA1c 9.1.\n</think>\n"
    "<diagnosis>\nI21.4\nE11.65\n</diagnosis>"
)


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


def answer(codes: str, think: str = "reasoning") -> str:
    return f"<think>{think}</think>\n<diagnosis>\n{codes}\n</diagnosis>"


def test_weights_add_up_to_one() -> None:
    assert pytest.approx(1.0) == FORMAT_WEIGHT + OUTCOME_WEIGHT + HIERARCHY_WEIGHT


def test_right_answer_in_the_right_form_earns_full_reward(hierarchy: Hierarchy) -> None:
    assert reward([GOOD], [GOLD], hierarchy=hierarchy) == [pytest.approx(1.0)]


def test_conversational_completions_are_read_like_plain_ones(hierarchy: Hierarchy) -> None:
    conversation = [{"role": "assistant", "content": GOOD}]
    parts = [{"role": "assistant", "content": [{"type": "text", "text": GOOD}]}]
    assert reward([conversation, parts], [GOLD, GOLD], hierarchy=hierarchy) == [
        pytest.approx(1.0),
        pytest.approx(1.0),
    ]


def test_codes_in_any_written_form_and_order_count(hierarchy: Hierarchy) -> None:
    completion = answer("e11.65, i214")
    assert reward([completion], [GOLD], hierarchy=hierarchy) == [pytest.approx(1.0)]


@pytest.mark.parametrize(
    ("codes", "credit"),
    [
        ("I21.9\nE11.69", PARENT_CREDIT),  # siblings of both gold codes
        ("I21.A1\nE11.9", CATEGORY_CREDIT),  # right categories only
        ("I25.10\nE10.9", CHAPTER_CREDIT),  # right blocks, so right chapters
        ("I10\nE03.9", CHAPTER_CREDIT),  # right chapters only
        ("J18.9\nS72.001A", 0.0),  # nothing right
    ],
)
def test_near_misses_earn_hierarchical_credit(
    hierarchy: Hierarchy, codes: str, credit: float
) -> None:
    parts = reward_parts(answer(codes), GOLD, hierarchy)
    assert parts.format == 1.0
    assert parts.outcome == 0.0
    assert parts.hierarchy == pytest.approx(credit)
    assert parts.total == pytest.approx(FORMAT_WEIGHT + HIERARCHY_WEIGHT * credit)


def test_parent_of_a_gold_code_earns_parent_credit(hierarchy: Hierarchy) -> None:
    parts = reward_parts(answer("E11.6"), ["E11.65"], hierarchy)
    assert parts.hierarchy == pytest.approx(PARENT_CREDIT)


def test_half_right_earns_half_the_outcome(hierarchy: Hierarchy) -> None:
    parts = reward_parts(answer("I21.4"), GOLD, hierarchy)
    assert parts.outcome == pytest.approx(2 / 3)  # F1 of precision 1, recall 1/2


def test_right_codes_in_the_wrong_form_lose_only_the_format_part(hierarchy: Hierarchy) -> None:
    parts = reward_parts("I21.4 E11.65 <diagnosis>I21.4\nE11.65</diagnosis>", GOLD, hierarchy)
    assert parts.format == 0.0
    assert parts.outcome == 1.0
    assert any(problem.startswith("tags are <diagnosis>") for problem in parts.problems)


def test_codes_not_in_the_release_earn_nothing(hierarchy: Hierarchy) -> None:
    parts = reward_parts(answer("I21.99\nE11.659"), GOLD, hierarchy)
    assert parts.outcome == 0.0
    assert parts.hierarchy == 0.0


def test_listing_many_codes_does_not_pay(hierarchy: Hierarchy) -> None:
    spam = "\n".join(entry.dotted for entry in hierarchy.billable_under("I21", 12))
    spam += "\n" + "\n".join(entry.dotted for entry in hierarchy.billable_under("E11", 30))
    assert reward_parts(answer(spam), GOLD, hierarchy).total < 0.5


@pytest.mark.parametrize(
    ("completion", "problem"),
    [
        ("", "no <diagnosis> block"),
        ("   \n", "no <diagnosis> block"),
        ("I21.4", "no <diagnosis> block"),
        ("<think>x</think>", "no <diagnosis> block"),
        ("<diagnosis>I21.4</diagnosis>", "tags are"),
        ("<think></think><diagnosis>I21.4</diagnosis>", "empty <think> block"),
        ("<think>x</think><diagnosis></diagnosis>", "empty <diagnosis> block"),
        ("<think>x</think><diagnosis>I21.4</diagnosis> and more", "text after </diagnosis>"),
        ("<think>x</think> so: <diagnosis>I21.4</diagnosis>", "text between"),
        ("<think>x</think><diagnosis>I21.4 because NSTEMI</diagnosis>", "more than codes"),
        ("<THINK>x</THINK><DIAGNOSIS>I21.4</DIAGNOSIS>", "tags are"),
        ("<think>x</think><diagnosis>I21.4", "no <diagnosis> block"),
        ("<think><think>x</think></think><diagnosis>I21.4</diagnosis>", "tags are"),
        ("<think>x</think><diagnosis><diagnosis>I21.4</diagnosis></diagnosis>", "tags are"),
        ("<think>x</think><diagnosis>I21.4</diagnosis><diagnosis>E11.65</diagnosis>", "tags are"),
        ("<think>x</think><diagnosis>I21.4</diagnosis><think>y</think>", "tags are"),
    ],
)
def test_malformed_completions_get_no_format_reward(
    hierarchy: Hierarchy, completion: str, problem: str
) -> None:
    parts = reward_parts(completion, GOLD, hierarchy)
    assert parts.format == 0.0
    assert any(problem in text for text in parts.problems), parts.problems
    assert 0.0 <= parts.total <= 1.0 - FORMAT_WEIGHT


def test_repeated_diagnosis_blocks_are_scored_on_the_first_only(hierarchy: Hierarchy) -> None:
    completion = "<think>x</think><diagnosis>J18.9</diagnosis><diagnosis>I21.4\nE11.65</diagnosis>"
    assert reward_parts(completion, GOLD, hierarchy).outcome == 0.0


def test_huge_completion_is_scored_quickly_and_gets_no_format_reward(hierarchy: Hierarchy) -> None:
    huge = answer("I21.4\nE11.65", think="the patient " * 1_000_000)
    nested = "<think>" * 200_000 + "I21.4" + "</diagnosis>" * 200_000
    started = time.perf_counter()
    scores = reward([huge, nested, "I21.4 " * 500_000], [GOLD] * 3, hierarchy=hierarchy)
    assert time.perf_counter() - started < 2.0
    assert all(0.0 <= score < FORMAT_WEIGHT + 1e-9 for score in scores)


def test_code_list_is_capped(hierarchy: Hierarchy) -> None:
    codes = "\n".join(entry.dotted for entry in hierarchy.billable_under("S72", 100))
    parsed = parse_completion(answer(codes))
    assert len(parsed.codes) == MAX_CODES
    assert not parsed.well_formed


@pytest.mark.parametrize(
    "completion", [None, 42, {"role": "assistant"}, [None, 1], [{"content": 3}]]
)
def test_completions_that_are_not_text_score_zero(hierarchy: Hierarchy, completion: object) -> None:
    assert reward([completion], [GOLD], hierarchy=hierarchy) == [0.0]


@pytest.mark.parametrize(
    "gold",
    [["I21.4", "E11.65"], "I21.4, E11.65", "I21.4\nE11.65", ("i214", "e1165")],
)
def test_gold_codes_may_be_a_list_or_a_string(hierarchy: Hierarchy, gold: object) -> None:
    assert reward([GOOD], [gold], hierarchy=hierarchy) == [pytest.approx(1.0)]


def test_without_gold_codes_only_the_format_counts(hierarchy: Hierarchy) -> None:
    assert reward([GOOD, "junk"], hierarchy=hierarchy) == [pytest.approx(FORMAT_WEIGHT), 0.0]
    assert reward([GOOD], [None], hierarchy=hierarchy) == [pytest.approx(FORMAT_WEIGHT)]


def test_empty_gold_rewards_an_empty_answer(hierarchy: Hierarchy) -> None:
    empty_answer = "<think>no diagnosis is documented</think><diagnosis>\n</diagnosis>"
    parts = reward_parts(empty_answer, [], hierarchy)
    assert (parts.outcome, parts.hierarchy) == (1.0, 1.0)
    assert reward_parts(GOOD, [], hierarchy).outcome == 0.0


def test_reward_takes_the_keywords_grpo_trainer_passes(hierarchy: Hierarchy) -> None:
    scores = reward(
        prompts=["note one", "note two"],
        completions=[GOOD, answer("J18.9")],
        completion_ids=[[1, 2], [3]],
        gold_codes=[GOLD, ["J18.9"]],
        trainer_state=None,
        hierarchy=hierarchy,
    )
    assert scores == [pytest.approx(1.0), pytest.approx(1.0)]
    assert list(inspect.signature(reward).parameters)[:2] == ["completions", "gold_codes"]


def test_bound_reward_has_a_name_for_trainer_logs(hierarchy: Hierarchy) -> None:
    bound = make_reward(hierarchy)
    assert bound.__name__ == "icd10_reward"
    assert bound([GOOD], gold_codes=[GOLD]) == [pytest.approx(1.0)]


@pytest.mark.django_db
def test_reward_uses_the_loaded_release_by_default(
    django_db_setup: None, django_db_blocker: object
) -> None:
    ensure_code_set_loaded(django_db_blocker)
    assert reward([GOOD], [GOLD]) == [pytest.approx(1.0)]
