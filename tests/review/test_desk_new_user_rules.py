"""The rules behind issue 13's coder items 1, 2 and 10, without a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.desk.decisions import (
    DecisionInput,
    NoCodesUnconfirmed,
    decide,
    review_submit,
)
from review.desk.queue import lease_next, notes_waiting_for, queue_counts
from review.models import Review, ReviewTask
from worker.models import ModelVersion, Suggestion
from worker.registry.versions import model_version_register

from .conftest import MakeNotes, prediction_of

MakeUser = Callable[..., User]


@pytest.fixture(autouse=True)
def single_coding(settings) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0


def test_storing_predictions_makes_their_tasks_and_the_count_follows_next_note(
    make_user: MakeUser, make_notes: MakeNotes
) -> None:
    make_notes(3)
    coder = make_user(Role.CODER)
    assert ReviewTask.objects.filter(state="open").count() == 3
    assert (queue_counts().waiting, notes_waiting_for(coder)) == (3, 3)
    assert lease_next(coder) is not None
    assert (queue_counts().waiting, notes_waiting_for(coder)) == (2, 2)


def test_a_candidate_versions_predictions_are_not_counted_until_it_is_active(
    make_user: MakeUser, make_notes: MakeNotes
) -> None:
    candidate = model_version_register(
        name="candidate", backend=ModelVersion.Backend.EMBEDDING, base_model="x"
    )
    make_notes(2, version=candidate)
    coder = make_user(Role.CODER)
    assert ReviewTask.objects.count() == 2  # made, ready for a promotion
    assert (queue_counts().waiting, notes_waiting_for(coder), lease_next(coder)) == (0, 0, None)


def one_leased_suggestion(
    make_user: MakeUser, make_notes: MakeNotes
) -> tuple[User, Review, Suggestion]:
    """A coder holding a note whose one suggestion is I10."""
    make_notes(1, codes=("I10",))
    coder = make_user(Role.CODER)
    review = lease_next(coder)
    assert review is not None
    return coder, review, prediction_of(review.note).suggestions.get()


def test_an_empty_review_needs_the_confirmation_and_keeps_it(
    make_user: MakeUser, make_notes: MakeNotes
) -> None:
    coder, review, suggestion = one_leased_suggestion(make_user, make_notes)
    reject = DecisionInput("reject", reason="ruled_out")
    decide(review_id=review.pk, coder=coder, suggestion_id=suggestion.pk, choice=reject)
    with pytest.raises(NoCodesUnconfirmed, match="no codable diagnosis"):
        review_submit(review_id=review.pk, coder=coder)
    assert Review.objects.get(pk=review.pk).status == "draft"
    done = review_submit(review_id=review.pk, coder=coder, no_codable_diagnosis=True)
    assert (done.status, done.no_codable_diagnosis) == ("submitted", True)


def test_the_confirmation_is_not_kept_on_a_review_with_codes(
    make_user: MakeUser, make_notes: MakeNotes
) -> None:
    coder, review, suggestion = one_leased_suggestion(make_user, make_notes)
    decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=suggestion.pk,
        choice=DecisionInput("accept"),
    )
    done = review_submit(review_id=review.pk, coder=coder, no_codable_diagnosis=True)
    assert done.no_codable_diagnosis is False


def test_submit_and_next_opens_the_next_note_and_plain_submit_the_desk(
    client: Client, make_user: MakeUser, make_notes: MakeNotes
) -> None:
    make_notes(2, codes=("I10",))
    coder = make_user(Role.CODER)
    client.force_login(coder)
    for then in ("next", "desk"):
        review = lease_next(coder)
        assert review is not None
        suggestion = prediction_of(review.note).suggestions.get()
        accept = DecisionInput("accept")
        decide(review_id=review.pk, coder=coder, suggestion_id=suggestion.pk, choice=accept)
        response = client.post(reverse("review:submit", args=[review.pk]), {"then": then})
        if then == "next":
            following = Review.objects.exclude(pk=review.pk).get(coder=coder)
            assert response["Location"] == reverse("review:review", args=[following.pk])
        else:
            assert response["Location"] == reverse("review:desk_home")
    assert Review.objects.filter(coder=coder, status="submitted").count() == 2
