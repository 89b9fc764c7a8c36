"""The work queue: leases, SKIP LOCKED, expiry, blind double coding, admin actions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from review.desk.queue import QueueError, lease_next, lease_release, task_reassign
from review.models import Review, ReviewTask
from worker.models import ModelVersion

from .conftest import MakeNotes, predicted_notes

MakeUser = Callable[..., User]


def kinds(**filters: object) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).values_list("kind", flat=True))


def test_next_note_leases_a_task_and_opens_a_review(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    notes = make_notes(2)
    coder = make_user(Role.CODER)
    review = lease_next(coder)
    assert review is not None
    task = review.task
    assert (task.state, task.leased_by, task.note) == ("leased", coder, notes[0])
    assert task.lease_expires_at is not None
    assert task.lease_expires_at > timezone.now() + timedelta(seconds=590)
    assert (review.coder, review.status, review.prompt_version) == (coder, "draft", "test-v1")
    assert kinds(task_id=task.pk) == ["lease_taken"]
    # Asking again while holding a note gives the same note, not a second one.
    assert lease_next(coder) == review
    assert ReviewTask.objects.filter(state="leased").count() == 1


def test_two_coders_never_get_the_same_note(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(3)
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    a, b = lease_next(first), lease_next(second)
    assert a is not None
    assert b is not None
    assert a.note_id != b.note_id


@pytest.mark.django_db(transaction=True)
def test_coders_asking_at_the_same_instant_get_different_notes(
    make_user: MakeUser, settings
) -> None:
    """Real concurrent transactions on PostgreSQL: SKIP LOCKED, not luck."""
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    predicted_notes(8)
    coders = [make_user(Role.CODER) for _ in range(8)]
    barrier = threading.Barrier(len(coders))
    got: list[int | None] = []

    def ask(coder: User) -> None:
        try:
            barrier.wait()
            review = lease_next(coder)
            got.append(review.note_id if review else None)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(coder,)) for coder in coders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 8
    assert None not in got
    assert len(set(got)) == 8


def test_an_expired_lease_returns_the_note_to_the_queue(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(1)
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    held = lease_next(first)
    assert held is not None
    assert lease_next(second) is None  # the only note is held
    ReviewTask.objects.filter(pk=held.task_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    taken = lease_next(second)
    assert taken is not None
    assert taken.task_id == held.task_id
    assert kinds(task_id=held.task_id) == ["lease_taken", "lease_expired", "lease_taken"]
    # The first coder's draft is kept for them.
    assert Review.objects.filter(pk=held.pk, status="draft").exists()


def test_double_coded_notes_go_to_two_different_coders(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 1000  # every note
    note = make_notes(1)[0]
    first, second, third = (make_user(Role.CODER) for _ in range(3))
    a = lease_next(first)
    assert a is not None
    # Holding slot 1, the first coder is never offered slot 2 of the same note.
    ReviewTask.objects.filter(pk=a.task_id).update(
        state="done", leased_by=None, lease_expires_at=None
    )
    assert lease_next(first) is None
    b = lease_next(second)
    assert b is not None
    assert (a.note_id, b.note_id) == (note.pk, note.pk)
    assert {a.task.slot, b.task.slot} == {1, 2}
    assert ReviewTask.objects.filter(note=note, double_coded=True).count() == 2
    assert lease_next(third) is None


def test_the_double_coded_share_follows_the_setting(make_notes: MakeNotes, settings) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 250
    from review.desk.queue import review_tasks_materialize
    from worker.registry.versions import zero_shot_version_ensure

    make_notes(400)
    review_tasks_materialize(zero_shot_version_ensure())
    doubled = ReviewTask.objects.filter(slot=2).count()
    assert 60 <= doubled <= 140  # 25 % of 400 by a hash of the note id
    assert ReviewTask.objects.count() == 400 + doubled


def test_least_confident_first(make_user: MakeUser, make_notes: MakeNotes, settings) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(1, prefix="sure", codes=("I10",), scores=(0.95,))
    unsure = make_notes(1, prefix="unsure", codes=("I10",), scores=(0.2,))[0]
    review = lease_next(make_user(Role.CODER), least_confident_first=True)
    assert review is not None
    assert review.note == unsure


def test_only_predictions_of_the_active_version_are_queued(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    candidate = ModelVersion.objects.create(name="candidate", backend="embedding", base_model="x")
    make_notes(2, version=candidate)
    assert lease_next(make_user(Role.CODER)) is None


def test_an_admin_releases_and_reassigns(
    make_user: MakeUser, make_notes: MakeNotes, settings
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(1)
    admin, first, second = make_user(Role.ADMIN), make_user(Role.CODER), make_user(Role.CODER)
    held = lease_next(first)
    assert held is not None
    lease_release(held.task, admin)
    held.task.refresh_from_db()
    assert (held.task.state, held.task.leased_by) == ("open", None)
    with pytest.raises(QueueError, match="not leased"):
        lease_release(held.task, admin)
    given = task_reassign(held.task, second, admin)
    assert (given.coder, given.task.leased_by) == (second, second)
    assert kinds(task_id=held.task_id)[-2:] == ["lease_released", "note_reassigned"]
