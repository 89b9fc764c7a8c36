"""The latest submitted review of a note: the queryset and its SQL twin
choose the same review, ties and missing times included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.desk.selectors import latest_submitted_reviews, latest_submitted_reviews_sql
from review.models import Review, ReviewTask
from worker.models import Note

from .conftest import MakeNotes, prediction_of

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(datetime(2025, 3, 3, 12))


@pytest.fixture
def reviewing(make_user: Callable[..., User]) -> Callable[..., Review]:
    def make(note: Note, submitted_at: datetime | None, *, draft: bool = False) -> Review:
        prediction = prediction_of(note)
        task, _ = ReviewTask.objects.get_or_create(note=note, prediction=prediction, slot=1)
        return Review.objects.create(
            task=task,
            coder=make_user(Role.CODER),
            note=note,
            prediction=prediction,
            model_version=prediction.model_version,
            status=Review.Status.DRAFT if draft else Review.Status.SUBMITTED,
            submitted_at=submitted_at,
        )

    return make


def _sql_choice(where: str = "TRUE", params: list[datetime] | None = None) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(latest_submitted_reviews_sql(columns="r.note_id, r.id", where=where), params)
        return dict(cursor.fetchall())


def _python_choice(reviews: QuerySet[Review] | None = None) -> dict[int, int]:
    return dict(latest_submitted_reviews(reviews).values_list("note_id", "pk"))


def test_both_forms_choose_the_latest_then_the_highest_id_and_skip_drafts(
    make_notes: MakeNotes, reviewing: Callable[..., Review]
) -> None:
    tied, timeless, single = make_notes(3, prefix="latest")
    reviewing(tied, NOON - timedelta(hours=1))
    reviewing(tied, NOON)
    tie_winner = reviewing(tied, NOON)
    reviewing(tied, NOON + timedelta(hours=1), draft=True)
    reviewing(timeless, NOON + timedelta(days=1))
    # A submitted review without a time sorts as the latest in both forms.
    no_time = reviewing(timeless, None)
    only = reviewing(single, NOON - timedelta(days=3))

    expected = {tied.pk: tie_winner.pk, timeless.pk: no_time.pk, single.pk: only.pk}
    assert _python_choice() == expected
    assert _sql_choice() == expected


def test_both_forms_choose_among_the_reviews_that_pass_a_filter(
    make_notes: MakeNotes, reviewing: Callable[..., Review]
) -> None:
    (note,) = make_notes(1, prefix="filtered")
    earlier = reviewing(note, NOON - timedelta(hours=2))
    reviewing(note, NOON + timedelta(hours=2))

    until = Review.objects.filter(submitted_at__lte=NOON)
    assert _python_choice(until) == {note.pk: earlier.pk}
    assert _sql_choice("r.submitted_at <= %s", [NOON]) == {note.pk: earlier.pk}
