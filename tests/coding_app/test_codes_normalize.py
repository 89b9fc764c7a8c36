"""Normalising written codes, and refusing bad ones in words a coder uses."""

from __future__ import annotations

import pytest

from coding_app.codes.forms import code_key, dotted
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import Refusal, check_code, normalize_code
from tests.coding_app.test_codes_support import packaged_hierarchy


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("e11.65", "E1165"),
        (" E1165 ", "E1165"),
        ("E11.65", "E1165"),
        ("\tI21.4\n", "I214"),
        ("s72.001a", "S72001A"),
        ("T36.0X1A", "T360X1A"),
        ("I10", "I10"),
        ("QA0.0101", "QA00101"),
        ("O09.A0", "O09A0"),
    ],
)
def test_accepted_forms_give_the_billable_code(
    hierarchy: Hierarchy, written: str, code: str
) -> None:
    check = check_code(written, hierarchy)
    assert check.ok, check.message
    assert check.code == code
    assert normalize_code(written, hierarchy) == code
    assert check.entry is not None
    assert check.message.startswith(check.entry.dotted)


@pytest.mark.parametrize(
    ("written", "refusal", "explained"),
    [
        ("", Refusal.MALFORMED, "No code was given"),
        ("   ", Refusal.MALFORMED, "No code was given"),
        ("E1.165", Refusal.MALFORMED, "the dot belongs after the third character"),
        ("E11 65", Refusal.MALFORMED, "spaces or punctuation"),
        ("I2", Refusal.MALFORMED, "too short"),
        ("123", Refusal.MALFORMED, "starts with a letter"),
        ("AND", Refusal.MALFORMED, "has a digit"),
        ("E11.6555X", Refusal.MALFORMED, "at most seven characters"),
        ("É11.65", Refusal.MALFORMED, "never appear in a code"),
        ("x" * 500, Refusal.MALFORMED, "500 characters"),
        ("E11.659", Refusal.UNKNOWN, "nearest code that exists is E11.65"),
        ("U99", Refusal.UNKNOWN, "is not a code in ICD-10-CM April 1, 2026"),
        ("S00.00A", Refusal.UNKNOWN, "Did you mean S00.00XA?"),
        ("S06.1X7D", Refusal.UNKNOWN, "S06.1X7D is not a code"),
        ("E11", Refusal.NOT_BILLABLE, "more specific codes under it"),
        ("E11.6", Refusal.NOT_BILLABLE, "E11.610"),
        ("S72.001", Refusal.NOT_BILLABLE, "needs a 7th character"),
        ("E08-E13", Refusal.NOT_BILLABLE, "is a block"),
        ("4", Refusal.NOT_BILLABLE, "Chapter 4"),
        ("S72.001Z", Refusal.BAD_SEVENTH_CHARACTER, "Z is not a 7th character of S72"),
        ("T36.0X1Z", Refusal.BAD_SEVENTH_CHARACTER, "A initial encounter; D subsequent"),
    ],
)
def test_refusal_names_the_problem(
    hierarchy: Hierarchy, written: str, refusal: Refusal, explained: str
) -> None:
    check = check_code(written, hierarchy)
    assert not check.ok
    assert check.code is None
    assert check.refusal == refusal
    assert explained in check.message


def test_header_refusal_offers_billable_codes_under_it(hierarchy: Hierarchy) -> None:
    check = check_code("S72.001", hierarchy)
    assert [entry.dotted for entry in check.suggestions][:2] == ["S72.001A", "S72.001B"]
    assert all(entry.billable for entry in check.suggestions)
    assert "S72.001A (Fracture of unspecified part of neck of right femur" in check.message


def test_unknown_code_offers_the_nearest_existing_code(hierarchy: Hierarchy) -> None:
    check = check_code("S06.1X7D", hierarchy)
    assert [entry.dotted for entry in check.suggestions] == ["S06.1X7A"]
    assert check_code("E11.659", hierarchy).suggestions[0].dotted == "E11.65"


def test_missing_placeholder_suggests_the_padded_code(hierarchy: Hierarchy) -> None:
    check = check_code("s00.00a", hierarchy)
    assert [entry.code for entry in check.suggestions] == ["S0000XA"]


def test_refusal_never_echoes_more_than_a_short_excerpt(hierarchy: Hierarchy) -> None:
    check = check_code("<script>" * 1000, hierarchy)
    assert len(check.text) <= 33
    assert "<script>" * 5 not in check.message


@pytest.mark.parametrize("value", [None, 42, 4.2, ["E11.65"], b"E11.65", object()])
def test_values_that_are_not_text_are_refused_not_raised(
    hierarchy: Hierarchy, value: object
) -> None:
    assert check_code(value, hierarchy).refusal == Refusal.MALFORMED


@pytest.mark.parametrize(
    ("written", "key"),
    [("e11.65", "E1165"), ("E11.", None), (".E11", None), ("E11..65", None), ("E1165", "E1165")],
)
def test_code_key_is_strict_about_where_the_dot_goes(written: str, key: str | None) -> None:
    assert code_key(written) == key


def test_dotted_form_puts_the_dot_after_the_category() -> None:
    assert [dotted(code) for code in ("E11", "E1165", "S72001A")] == ["E11", "E11.65", "S72.001A"]
