"""A review's final codes: the Python rule and its SQL twin agree on every
kind of decision that PostgreSQL will store."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest
from django.db import IntegrityError, connection, transaction

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.final_codes import decision_final_code, final_code_sql
from review.models import Decision, Review, ReviewTask
from review.stats.sql import decision_codes_sql
from worker.models import Suggestion

from .conftest import MakeNotes, prediction_of

pytestmark = pytest.mark.django_db


class Case(NamedTuple):
    action: str
    code: str
    replacement: str = ""
    reason: str = ""
    expected: str | None = None


# Every action, and the odd rows the constraints still let through: fields
# the action ignores, an empty code, an action outside the choices (nothing
# in the app writes one; both forms must still say the same).
CASES = {
    "accept": Case("accept", "E1165", expected="E1165"),
    "accept with a stale replacement": Case("accept", "E1165", "E119", expected="E1165"),
    "accept of an empty code": Case("accept", "", expected=""),
    "reject": Case("reject", "I10", reason="not_documented"),
    "reject with a replacement": Case("reject", "I10", "I110", reason="other"),
    "replace": Case("replace", "E119", "E11649", reason="wrong_specificity", expected="E11649"),
    "replace without a reason": Case("replace", "E119", "E1165", expected="E1165"),
    "add": Case("add", "I2510", expected="I2510"),
    "add with a stray replacement": Case("add", "J449", "J441", expected="J449"),
    "add of an empty code": Case("add", "", expected=""),
    "an action outside the choices": Case("hold", "K219"),
}


@pytest.fixture
def review(make_notes: MakeNotes, make_user: Callable[..., User]) -> Review:
    # One suggestion per case that needs one: a decision on a suggestion is
    # unique per review.
    codes = [f"A0{i:02d}" for i in range(len(CASES))]
    (note,) = make_notes(1, codes=codes)
    prediction = prediction_of(note)
    task = ReviewTask.objects.get(prediction=prediction, slot=1)  # made with the prediction
    return Review.objects.create(
        task=task,
        coder=make_user(Role.CODER),
        note=note,
        prediction=prediction,
        model_version=prediction.model_version,
        status=Review.Status.SUBMITTED,
    )


def _store(review: Review) -> dict[str, Decision]:
    suggestions = iter(Suggestion.objects.filter(prediction=review.prediction).order_by("rank"))
    return {
        name: Decision.objects.create(
            review=review,
            suggestion=None if case.action == "add" else next(suggestions),
            action=case.action,
            code=case.code,
            replacement=case.replacement,
            reason=case.reason,
        )
        for name, case in CASES.items()
    }


def _sql_final_codes(review: Review) -> dict[int, str | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, {final_code_sql('d')} FROM review_decision d WHERE d.review_id = %s",
            [review.pk],
        )
        return dict(cursor.fetchall())


def test_the_cases_cover_every_action_of_the_model() -> None:
    assert set(Decision.Action.values) <= {case.action for case in CASES.values()}


def test_python_and_sql_give_the_same_final_code_for_every_kind_of_decision(
    review: Review,
) -> None:
    stored = _store(review)
    in_sql = _sql_final_codes(review)
    for name, decision in stored.items():
        decision.refresh_from_db()
        python = decision_final_code(
            action=decision.action, code=decision.code, replacement=decision.replacement
        )
        assert decision.final_code == python, name
        assert in_sql[decision.pk] == python, name
        assert python == CASES[name].expected, name


def test_the_statistics_read_the_coders_codes_through_the_same_rule(review: Review) -> None:
    stored = _store(review)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH rv AS (SELECT id FROM review_review WHERE id = %(review)s)
                SELECT code FROM ({decision_codes_sql("rv")}) c WHERE side = 2""",
            {"review": review.pk},
        )
        coder_side = sorted(code for (code,) in cursor.fetchall())
    python = sorted(code for d in stored.values() if (code := d.final_code) is not None)
    assert coder_side == python


def test_a_replacement_without_its_code_is_refused_by_the_database(review: Review) -> None:
    # So the rule need not say what such a row would mean.
    suggestion = Suggestion.objects.filter(prediction=review.prediction).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            review=review, suggestion=suggestion, action="replace", code="E119", replacement=""
        )
