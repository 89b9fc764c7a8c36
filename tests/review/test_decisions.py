"""Decisions, submission, amendment, and every forged or stale write refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.audit.models import AuditEventImmutable
from coding_app.models import AuditEvent, User
from review.desk.decisions import (
    DecisionInput,
    DecisionRefused,
    StaleReview,
    code_add,
    decide,
    final_codes,
    review_reopen,
    review_submit,
)
from review.desk.queue import lease_next
from review.models import Decision, Review, ReviewTask

from .conftest import MakeNotes, prediction_of

MakeUser = Callable[..., User]


@pytest.fixture
def coder(make_user: MakeUser) -> User:
    return make_user(Role.CODER)


@pytest.fixture
def review(coder: User, make_notes: MakeNotes, settings) -> Review:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(2)
    leased = lease_next(coder)
    assert leased is not None
    return leased


def suggestion_id(review: Review, code: str) -> int:
    return prediction_of(review.note).suggestions.get(code=code).pk


def act(review: Review, coder: User, code: str, action: str, **fields: str) -> Decision:
    return decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=suggestion_id(review, code),
        choice=DecisionInput(action=action, **fields),
    )


def test_a_full_review_is_stored_with_its_final_codes(review: Review, coder: User) -> None:
    act(review, coder, "E1165", "accept")
    act(review, coder, "I10", "reject", reason="not_documented")
    replaced = act(review, coder, "E119", "replace", replacement="e11.649")
    code_add(review_id=review.pk, coder=coder, code="I25.10")
    assert (replaced.replacement, replaced.relation) == ("E11649", "same_category")
    done = review_submit(review_id=review.pk, coder=coder)
    assert done.status == "submitted"
    assert done.submitted_at is not None
    assert final_codes(done) == {"E1165", "E11649", "I2510"}
    task = ReviewTask.objects.get(pk=review.task_id)
    assert (task.state, task.leased_by) == ("done", None)
    submitted = AuditEvent.objects.get(kind="review_submitted", review_id=review.pk)
    assert submitted.payload["final_codes"] == ["E11649", "E1165", "I2510"]
    assert submitted.payload["amendment"] is False


def test_changing_a_decision_is_a_new_event_and_keeps_one_row(review: Review, coder: User) -> None:
    act(review, coder, "I10", "accept")
    act(review, coder, "I10", "reject", reason="ruled_out")
    assert Decision.objects.filter(review=review).count() == 1
    changed = AuditEvent.objects.get(kind="decision_changed")
    assert changed.payload["before"]["action"] == "accept"
    assert changed.payload["decision"]["reason"] == "ruled_out"


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("reject", {}, "Choose why"),
        ("replace", {"replacement": "E11"}, "not billable"),
        ("replace", {"replacement": "Z99.999"}, "is not a code"),
        ("replace", {"replacement": "E11.65"}, "accept it instead"),
        ("delete", {}, "is not a decision"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(
    review: Review, coder: User, action: str, fields: dict[str, str], message: str
) -> None:
    with pytest.raises(DecisionRefused, match=message):
        act(review, coder, "E1165", action, **fields)
    assert not Decision.objects.exists()
    assert Review.objects.get(pk=review.pk).version == review.version


def test_an_added_code_must_be_billable_and_new(review: Review, coder: User) -> None:
    with pytest.raises(DecisionRefused, match="not billable"):
        code_add(review_id=review.pk, coder=coder, code="E11")
    act(review, coder, "I10", "accept")
    with pytest.raises(DecisionRefused, match="I10 is already in your codes"):
        code_add(review_id=review.pk, coder=coder, code="i10")


def test_a_suggestion_of_another_note_is_refused(
    review: Review, coder: User, make_notes: MakeNotes
) -> None:
    other_note = make_notes(1, prefix="other")[0]
    foreign = prediction_of(other_note).suggestions.first()
    assert foreign is not None
    with pytest.raises(DecisionRefused, match="does not belong"):
        decide(
            review_id=review.pk,
            coder=coder,
            suggestion_id=foreign.pk,
            choice=DecisionInput("accept"),
        )
    assert not Decision.objects.exists()


def test_another_coders_review_is_refused(review: Review, make_user: MakeUser) -> None:
    intruder = make_user(Role.CODER)
    with pytest.raises(DecisionRefused, match="not yours"):
        act(review, intruder, "E1165", "accept")
    with pytest.raises(DecisionRefused, match="not yours"):
        review_submit(review_id=review.pk, coder=intruder)
    assert not Decision.objects.exists()


def test_a_stale_page_is_refused_and_nothing_is_overwritten(review: Review, coder: User) -> None:
    page_version = review.version
    decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=suggestion_id(review, "I10"),
        choice=DecisionInput("accept"),
        expected_version=page_version,
    )
    # A second tab drawn before that decision tries to reject the same code.
    with pytest.raises(StaleReview, match="another tab or browser"):
        decide(
            review_id=review.pk,
            coder=coder,
            suggestion_id=suggestion_id(review, "I10"),
            choice=DecisionInput("reject", reason="ruled_out"),
            expected_version=page_version,
        )
    assert Decision.objects.get().action == "accept"


def test_submit_is_refused_until_every_suggestion_is_decided(review: Review, coder: User) -> None:
    act(review, coder, "E1165", "accept")
    with pytest.raises(DecisionRefused, match=r"still open: I10, E11\.9"):
        review_submit(review_id=review.pk, coder=coder)
    assert Review.objects.get(pk=review.pk).status == "draft"


def test_two_submissions_of_one_page_one_wins(review: Review, coder: User) -> None:
    for code in ("E1165", "I10", "E119"):
        act(review, coder, code, "accept")
    version = Review.objects.get(pk=review.pk).version
    review_submit(review_id=review.pk, coder=coder, expected_version=version)
    with pytest.raises(DecisionRefused, match="submitted"):
        review_submit(review_id=review.pk, coder=coder, expected_version=version)
    assert AuditEvent.objects.filter(kind="review_submitted").count() == 1


def test_a_write_after_the_lease_went_to_someone_else_is_refused_and_the_draft_kept(
    review: Review, coder: User, make_user: MakeUser
) -> None:
    act(review, coder, "E1165", "accept")
    ReviewTask.objects.filter(pk=review.task_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    other = make_user(Role.CODER)
    taken = lease_next(other)
    assert taken is not None
    assert taken.task_id == review.task_id
    with pytest.raises(DecisionRefused, match=r"expired .* another coder"):
        act(review, coder, "I10", "accept")
    with pytest.raises(DecisionRefused, match="Your draft is kept"):
        review_submit(review_id=review.pk, coder=coder)
    kept = Review.objects.get(pk=review.pk)
    assert kept.status == "draft"
    assert list(kept.decisions.values_list("code", flat=True)) == ["E1165"]


def test_reopen_and_amend_keeps_the_history(review: Review, coder: User) -> None:
    for code in ("E1165", "I10", "E119"):
        act(review, coder, code, "accept")
    review_submit(review_id=review.pk, coder=coder)
    review_reopen(review_id=review.pk, coder=coder)
    act(review, coder, "I10", "reject", reason="not_documented")
    review_submit(review_id=review.pk, coder=coder)
    events = list(AuditEvent.objects.filter(review_id=review.pk).values_list("kind", flat=True))
    assert events.count("review_submitted") == 2
    assert "review_reopened" in events
    first, second = AuditEvent.objects.filter(kind="review_submitted", review_id=review.pk)
    assert "I10" in first.payload["final_codes"]
    assert "I10" not in second.payload["final_codes"]
    assert second.payload["amendment"] is True


def test_only_the_author_reopens_a_submitted_review(
    review: Review, coder: User, make_user: MakeUser
) -> None:
    with pytest.raises(DecisionRefused, match="Only a submitted review"):
        review_reopen(review_id=review.pk, coder=coder)
    with pytest.raises(DecisionRefused, match="not yours"):
        review_reopen(review_id=review.pk, coder=make_user(Role.CODER))


def test_audit_events_cannot_be_changed_or_deleted(review: Review) -> None:
    event = AuditEvent.objects.filter(review_id=review.pk).first()
    assert event is not None
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()
    # Below the ORM: the database trigger refuses any client.
    for sql in (
        "UPDATE coding_app_auditevent SET kind = 'forged' WHERE id = %s",
        "DELETE FROM coding_app_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).kind == event.kind
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(kind="forged")
