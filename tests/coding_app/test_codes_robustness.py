"""No function that takes a code raises on any text (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding_app.codes.completion import parse_completion
from coding_app.codes.diff import diff_code_sets
from coding_app.codes.excludes import excludes1_conflicts, note_spans
from coding_app.codes.forms import code_key
from coding_app.codes.hierarchy import Relation
from coding_app.codes.metrics import evaluate_code_sets
from coding_app.codes.normalize import check_code
from coding_app.codes.reward import reward_parts
from coding_app.codes.search import search_codes
from tests.coding_app.test_codes_support import ensure_code_set_loaded, packaged_hierarchy

# Arbitrary text, and text close to codes, where the interesting bugs live.
near_codes = st.from_regex(r"\s?[A-Za-z0-9.\-X]{0,9}\s?", fullmatch=True)
any_text = st.one_of(st.text(), near_codes, st.sampled_from(["E11.65", "S72.001A", "E11", "4"]))
HIERARCHY = packaged_hierarchy()


@settings(max_examples=400, deadline=None)
@given(text=any_text, other=any_text)
def test_code_functions_answer_any_text(text: str, other: str) -> None:
    key = code_key(text)
    entry = HIERARCHY.entry(key) if key is not None else None
    assert entry is None or entry.code == key
    check = check_code(text, HIERARCHY)
    assert check.ok == (check.refusal is None)
    assert check.message
    assert isinstance(HIERARCHY.relation(text, other), Relation)
    HIERARCHY.lineage(text)
    HIERARCHY.children(text)
    HIERARCHY.billable_under(text)
    HIERARCHY.seventh_characters(text)
    excludes1_conflicts([text, other, "E11.65"], HIERARCHY)
    note_spans(text)


@settings(max_examples=200, deadline=None)
@given(model=st.lists(any_text, max_size=6), coder=st.lists(any_text, max_size=6))
def test_diff_and_metrics_answer_any_code_lists(model: list[str], coder: list[str]) -> None:
    diff = diff_code_sets(model, coder, HIERARCHY)
    assert len(diff.pairs) + len(diff.model_only) <= len(model)
    evaluation = evaluate_code_sets([model], [coder], HIERARCHY)
    assert 0.0 <= evaluation.levels["code"].f1_micro <= 1.0


@settings(max_examples=300, deadline=None)
@given(
    text=st.text()
    | st.builds("<think>{}</think><diagnosis>{}</diagnosis>".format, st.text(), st.text())
)
def test_completion_parsing_and_reward_answer_any_text(text: str) -> None:
    parsed = parse_completion(text)
    assert all(code_key(code) == code for code in parsed.codes)
    parts = reward_parts(text, ["I21.4"], HIERARCHY)
    assert 0.0 <= parts.total <= 1.0


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(max_size=300) | near_codes)
def test_search_answers_any_text(
    django_db_setup: None, django_db_blocker: object, text: str
) -> None:
    ensure_code_set_loaded(django_db_blocker)
    hits = search_codes(text)
    assert len(hits) <= 20
