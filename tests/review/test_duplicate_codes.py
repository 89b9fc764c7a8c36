"""A suggestion replaced by a code already in the final set: warned, counted once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.codes.store import active_release
from coding_app.models import AuditEvent, User
from review.desk.decisions import DecisionInput, decide, final_codes, review_submit
from review.desk.queue import lease_next
from review.desk.selectors import review_page
from review.events import ReviewAuditKind
from review.models import Review
from tests.training.export_support import review_make
from training.exports.filters import ExportFilters
from training.exports.source import review_records

from .conftest import MakeNotes, prediction_of

CODES = ("I214", "I222", "I10")


@pytest.fixture
def coder(make_user: Callable[..., User]) -> User:
    return make_user(Role.CODER)


@pytest.fixture
def review(coder: User, make_notes: MakeNotes, settings: Settings) -> Review:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(1, codes=CODES)
    leased = lease_next(coder)
    assert leased is not None
    return leased


def act(review: Review, coder: User, code: str, action: str, replacement: str = "") -> None:
    suggestion = prediction_of(review.note).suggestions.get(code=code)
    decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=suggestion.pk,
        choice=DecisionInput(action=action, replacement=replacement),
    )


def test_replacing_with_an_accepted_code_is_warned_on_the_page(review: Review, coder: User) -> None:
    act(review, coder, "I214", "accept")
    act(review, coder, "I222", "replace", "I21.4")
    act(review, coder, "I10", "accept")

    page = review_page(review)
    (duplicate,) = page.duplicates
    assert duplicate.code == "I214"
    assert duplicate.message == (
        "I21.4 is in your codes 2 times (accepted, replacing I22.2); it counts once."
    )
    notes = {row.suggestion.code: row.duplicate for row in page.rows}
    assert notes == {
        "I214": "I21.4 is already in your codes (replacing I22.2); it counts once.",
        "I222": "I21.4 is already in your codes (accepted); it counts once.",
        "I10": "",
    }
    # The diff pairs the final set's I21.4 once; the replaced suggestion says why
    # it is alone.
    rows = {row["model"].split()[0]: row["relation"] for row in page.diff_rows()}
    assert rows == {
        "I21.4": "Exact",
        "I10": "Exact",
        "I22.2": "Only the model: you replaced it with I21.4, already in your codes",
    }


def test_a_review_with_a_duplicate_submits_with_the_code_once(review: Review, coder: User) -> None:
    act(review, coder, "I214", "accept")
    act(review, coder, "I222", "replace", "I214")
    act(review, coder, "I10", "accept")
    review_submit(review_id=review.pk, coder=coder)

    assert final_codes(review) == {"I214", "I10"}
    event = AuditEvent.objects.get(kind=ReviewAuditKind.REVIEW_SUBMITTED, review_id=review.pk)
    assert event.payload["final_codes"] == ["I10", "I214"]


def test_no_warning_without_a_duplicate(review: Review, coder: User) -> None:
    act(review, coder, "I222", "replace", "I21.9")
    page = review_page(review)
    assert page.duplicates == []
    assert all(row.duplicate == "" for row in page.rows)


def test_the_export_holds_a_duplicated_code_once(make_notes: MakeNotes, coder: User) -> None:
    (note,) = make_notes(1, codes=CODES)
    review_make(note, coder, {"I222": ("replace", "I214")})
    release = active_release()
    assert release is not None
    (record,) = list(review_records(ExportFilters(), release.pk))
    assert record.final == ["I214", "I10"]
    assert [pair[:2] for pair in record.replacements] == [("I222", "I214")]
