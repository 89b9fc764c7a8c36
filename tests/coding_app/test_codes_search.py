"""Code search for the autocomplete, and its JSON and htmx endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.codes.search import parse_query, search_codes
from coding_app.models import User
from tests.coding_app.test_codes_support import ensure_code_set_loaded

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def code_set(django_db_setup: None, django_db_blocker: Any) -> None:
    ensure_code_set_loaded(django_db_blocker)


@pytest.fixture(autouse=True)
def _loaded(code_set: None) -> None:
    """Every test here searches the loaded release."""


def dotted(query: str, limit: int = 20) -> list[str]:
    return [hit.dotted for hit in search_codes(query, limit)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("nstemi", "I21.4"),
        ("NSTEMI", "I21.4"),
        ("type 2 diabetes hyperglycemia", "E11.65"),
        ("i21.4", "I21.4"),
        ("I214", "I21.4"),
        ("e11 hyperglycemia", "E11.65"),
        ("hypertension", "I10"),
        ("heart failure", "I50.9"),
        ("subendocardial", "I21.4"),  # an inclusion term of I21.4
        ("type 2 diab", "E11.9"),  # the last word as typed so far
    ],
)
def test_search_puts_the_expected_code_first(query: str, first: str) -> None:
    assert dotted(query)[0] == first


def test_code_prefix_lists_that_category_billable_first() -> None:
    hits = search_codes("I21")
    assert {hit.dotted[:3] for hit in hits} == {"I21"}
    assert "I21.4" in [hit.dotted for hit in hits]
    billable = [hit.billable for hit in hits]
    assert billable == sorted(billable, reverse=True)
    assert not billable[-1]  # the headers (I21, I21.0, ...) follow


def test_word_search_lists_billable_codes_before_headers() -> None:
    billable = [hit.billable for hit in search_codes("myocardial infarction", limit=50)]
    assert billable[0]
    assert not billable[-1]
    assert billable == sorted(billable, reverse=True)


@pytest.mark.parametrize("query", ["concussion", "S72 right", "head injury"])
def test_initial_encounter_comes_before_later_encounters(query: str) -> None:
    # "sequela" is shorter than "initial encounter ...", yet A comes first.
    first = search_codes(query)[0]
    assert first.code[-1] == "A", first


def test_every_word_must_match() -> None:
    assert dotted("type 2 diabetes hyperglycemia") == ["E11.65"]
    assert dotted("nstemi zebra") == []


def test_chapters_and_blocks_are_never_offered() -> None:
    assert "E08-E13" not in dotted("E08")
    assert all(hit.code[0].isalpha() for hit in search_codes("diabetes mellitus", limit=50))


def test_a_code_like_word_without_codes_is_searched_as_a_word() -> None:
    assert "D51.1" in dotted("b12")


@pytest.mark.parametrize(
    "query",
    ["", "   ", "a", "of the", "!!!", "x" * 5000, "' OR 1=1 --", "fracture:* | !x", "\x00", "ü"],
)
def test_odd_queries_answer_quietly(query: str) -> None:
    assert isinstance(search_codes(query), list)


def test_limit_is_respected_and_capped() -> None:
    assert len(search_codes("fracture", limit=5)) == 5
    assert len(search_codes("fracture", limit=10_000)) == 50


def test_search_is_one_query(django_assert_num_queries: Callable[..., Any]) -> None:
    with django_assert_num_queries(1):
        search_codes("type 2 diabetes hyperglycemia")


@pytest.mark.parametrize(
    ("text", "prefix", "words"),
    [
        ("i21.4", "I214", ()),
        ("E11 with hyperglycemia", "E11", ("with", "hyperglycemia")),
        ("Type-2 Diabetes", "", ("type", "2", "diabetes")),
        ("flu", "", ("flu",)),
    ],
)
def test_query_is_split_into_a_code_prefix_and_words(
    text: str, prefix: str, words: tuple[str, ...]
) -> None:
    parsed = parse_query(text)
    assert (parsed.prefix, parsed.words) == (prefix, words)


@pytest.mark.parametrize("role", [Role.CODER, Role.AUDITOR, Role.ADMIN])
def test_json_endpoint_answers_every_role(
    client: Client, login_as: Callable[[Role], User], role: Role
) -> None:
    login_as(role)
    response = client.get(reverse("codes:search_json"), {"q": "nstemi", "limit": "3"})
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "nstemi"
    assert data["results"][0] == {
        "code": "I214",
        "dotted": "I21.4",
        "description": "Non-ST elevation (NSTEMI) myocardial infarction",
        "billable": True,
    }
    assert len(data["results"]) <= 3


@pytest.mark.parametrize("limit", ["many", "0", "51", "-1"])
def test_json_endpoint_refuses_a_bad_limit(
    client: Client, login_as: Callable[[Role], User], limit: str
) -> None:
    login_as(Role.CODER)
    response = client.get(reverse("codes:search_json"), {"q": "nstemi", "limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_search_needs_a_signed_in_user(client: Client) -> None:
    response = client.get(reverse("codes:search_json"), {"q": "nstemi"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_search_page_renders_results_and_the_form(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.CODER)
    response = client.get(reverse("codes:search"), {"q": "nstemi"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content
    assert 'name="q"' in content
    assert "I21.4" in content
    assert "Non-ST elevation (NSTEMI) myocardial infarction" in content


def test_htmx_gets_only_the_results_fragment(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.AUDITOR)
    response = client.get(reverse("codes:search"), {"q": "i21.4"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert "<form" not in content
    assert 'data-code="I214"' in content


def test_htmx_fragment_says_when_nothing_matches(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.CODER)
    response = client.get(reverse("codes:search"), {"q": "<b>zebra</b>"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "No code matches" in content
    assert "<b>zebra</b>" not in content  # escaped, never rendered as markup


@pytest.mark.parametrize(
    ("code", "ok", "refusal"),
    [
        ("e11.65", True, None),
        ("E11", False, "not_billable"),
        ("S72.001Z", False, "bad_seventh_character"),
        ("E11.659", False, "unknown"),
        ("hello", False, "malformed"),
    ],
)
def test_check_endpoint_explains_each_code(
    client: Client, login_as: Callable[[Role], User], code: str, ok: bool, refusal: str | None
) -> None:
    login_as(Role.CODER)
    data = client.get(reverse("codes:check_json"), {"code": code}).json()
    assert (data["ok"], data["refusal"]) == (ok, refusal)
    assert data["message"]


def test_check_endpoint_offers_billable_codes_for_a_header(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.CODER)
    data = client.get(reverse("codes:check_json"), {"code": "S72.001"}).json()
    assert data["dotted"] == "S72.001"
    assert data["suggestions"][0]["dotted"] == "S72.001A"
