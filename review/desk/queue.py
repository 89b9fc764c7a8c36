"""The coders' work queue: tasks made from predictions, leased with SKIP LOCKED.

A task is made for every stored prediction (two for the notes picked for
blind double coding, by a hash of the note id so the pick is stable), in
the transaction that stores it: ``worker`` sends ``predictions_stored`` and
``review_tasks_on_predictions_stored`` inserts them in one statement. Only
the active model version's tasks are served and counted. "Next note" locks
the first free task with ``FOR UPDATE SKIP LOCKED``: two coders asking at
the same instant get different tasks, and nobody waits on another's lock.
A lease lasts ``REVIEW_LEASE_SECONDS`` and the open page renews it; an
expired lease is free for the next coder.

Predictions stored before tasks were made this way got theirs from a data
migration (``0009_review_tasks_backfill``), not from a lazy backfill: so the
desk's count and "Next note" read the same rows, and "Next note" never
inserts in bulk (it used to, on every press, which also left the count at
zero until someone pressed it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone

from coding_app.audit.services import audit
from coding_app.models import User
from review.events import ReviewAuditKind, event_ids
from review.models import Review, ReviewTask
from worker.models import ModelVersion
from worker.registry.versions import active_version

MATERIALIZE_LIMIT = 5000


class QueueError(Exception):
    """A queue action that cannot be done, in words for the person who asked."""


def lease_seconds() -> int:
    return int(settings.REVIEW_LEASE_SECONDS)


def double_coding_per_mille() -> int:
    return int(getattr(settings, "REVIEW_DOUBLE_CODING_PER_MILLE", 100))


# Tasks for the predictions that pass ``{where}`` and have none yet; the
# slot count comes from the double-coding share. Idempotent: a prediction
# with a task is skipped, and a racing insert of the same slot does nothing.
_TASKS_INSERT = """
    INSERT INTO review_reviewtask
        (note_id, prediction_id, slot, double_coded, priority, confidence, state, created_at)
    SELECT p.note_id, p.id, slot.n, picked.double, 0,
           (SELECT MIN(s.score) FROM worker_suggestion s WHERE s.prediction_id = p.id),
           'open', now()
    FROM (
        SELECT p.id, p.note_id FROM worker_prediction p
        WHERE {where}
          AND NOT EXISTS (SELECT 1 FROM review_reviewtask t WHERE t.prediction_id = p.id)
        ORDER BY p.id LIMIT %s
    ) p
    CROSS JOIN LATERAL (
        SELECT (hashtext('double-coding:' || p.note_id::text) & 2147483647) %% 1000 < %s
            AS double
    ) picked
    CROSS JOIN LATERAL generate_series(1, CASE WHEN picked.double THEN 2 ELSE 1 END)
        AS slot(n)
    ON CONFLICT DO NOTHING
"""


def _tasks_insert(where: str, params: list[int | list[int]], limit: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            _TASKS_INSERT.format(where=where), [*params, limit, double_coding_per_mille()]
        )
        made: int = cursor.rowcount
        return made


def review_tasks_for_predictions(prediction_ids: Sequence[int]) -> int:
    """Make the tasks of the predictions ``prediction_ids``; returns how many."""
    if not prediction_ids:
        return 0
    ids = list(prediction_ids)
    return _tasks_insert("p.id = ANY(%s)", [ids], len(ids))


def review_tasks_on_predictions_stored(
    sender: object, *, prediction_ids: Sequence[int], **kwargs: object
) -> None:
    """The receiver of ``worker``'s ``predictions_stored``: tasks with the predictions."""
    review_tasks_for_predictions(prediction_ids)


def review_tasks_materialize(version: ModelVersion, limit: int = MATERIALIZE_LIMIT) -> int:
    """Make the missing tasks for ``version``'s predictions; returns how many.

    For rows written around ``predictions_store`` (the benchmarks' bulk
    fixtures); stored predictions get their tasks as they are stored.
    """
    return _tasks_insert("p.model_version_id = %s", [version.pk], limit)


def _free_tasks(version: ModelVersion, coder: User, now: datetime) -> QuerySet[ReviewTask]:
    # Blind double coding: a coder never gets a note they already have a
    # review of (either slot), so the two reviews come from two people.
    own = Review.objects.filter(note=OuterRef("note"), coder=coder)
    expired = Q(state=ReviewTask.State.LEASED, lease_expires_at__lte=now)
    return ReviewTask.objects.filter(
        Q(state=ReviewTask.State.OPEN) | expired, prediction__model_version=version
    ).filter(~Exists(own))


def lease_next(coder: User, *, least_confident_first: bool = False) -> Review | None:
    """The coder's review of the next free task (the one they hold, if any)."""
    version = active_version()
    if version is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        held = _held(coder, now)
        if held is not None:
            return held
        order: list[str | OrderBy] = ["-priority", "created_at", "pk"]
        if least_confident_first:
            order = ["-priority", F("confidence").asc(nulls_first=True), "created_at", "pk"]
        task = (
            _free_tasks(version, coder, now)
            .order_by(*order)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if task is None:
            return None
        if task.state == ReviewTask.State.LEASED:
            audit(
                ReviewAuditKind.LEASE_EXPIRED,
                actor=None,
                **event_ids(task=task),
                previous_holder=task.leased_by_id,
            )
        return _lease(task, coder, now)


def _held(coder: User, now: datetime) -> Review | None:
    task = (
        ReviewTask.objects.select_for_update()
        .filter(leased_by=coder, state=ReviewTask.State.LEASED, lease_expires_at__gt=now)
        .first()
    )
    if task is None:
        return None
    return _lease(task, coder, timezone.now(), taken=False)


def _lease(task: ReviewTask, coder: User, now: datetime, *, taken: bool = True) -> Review:
    task.state, task.leased_by = ReviewTask.State.LEASED, coder
    task.lease_expires_at = now + timedelta(seconds=lease_seconds())
    task.save(update_fields=["state", "leased_by", "lease_expires_at"])
    prediction = task.prediction
    review, _ = Review.objects.get_or_create(
        task=task,
        coder=coder,
        defaults={
            "note_id": task.note_id,
            "prediction": prediction,
            "model_version_id": prediction.model_version_id,
            "prompt_version": prediction.prompt_version,
        },
    )
    if taken:
        audit(ReviewAuditKind.LEASE_TAKEN, actor=coder, **event_ids(task=task, review=review))
    return review


def time_on_task_add(*, review_id: int, coder: User, active_seconds: float) -> None:
    """Count ``active_seconds`` of use of a draft's page (at most two beats).

    The heartbeat reports every minute, and the submission reports the time
    since the last beat: the beat the page sends as it goes reaches a review
    already submitted, so a note done in under a minute used to count 0 s.
    """
    heartbeat = int(settings.REVIEW_HEARTBEAT_SECONDS)
    counted = max(0.0, min(active_seconds, heartbeat * 2.0))
    Review.objects.filter(pk=review_id, coder=coder, status=Review.Status.DRAFT).update(
        seconds_on_task=F("seconds_on_task") + counted
    )


def lease_renew(review: Review, coder: User, active_seconds: float) -> bool:
    """The page's heartbeat: keep the lease and count the time the page was in use."""
    with transaction.atomic():
        time_on_task_add(review_id=review.pk, coder=coder, active_seconds=active_seconds)
        renewed = ReviewTask.objects.filter(
            pk=review.task_id,
            leased_by=coder,
            state=ReviewTask.State.LEASED,
            lease_expires_at__gt=timezone.now(),
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
    return bool(renewed)


def lease_release(task: ReviewTask, by: User) -> None:
    """An admin (or the holder) gives the task back to the queue."""
    with transaction.atomic():
        locked = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if locked.state != ReviewTask.State.LEASED:
            raise QueueError(f"Task {task.pk} is not leased; nothing to release.")
        holder = locked.leased_by_id
        locked.state, locked.leased_by, locked.lease_expires_at = ReviewTask.State.OPEN, None, None
        locked.save(update_fields=["state", "leased_by", "lease_expires_at"])
        audit(
            ReviewAuditKind.LEASE_RELEASED,
            actor=by,
            **event_ids(task=locked),
            previous_holder=holder,
        )


def task_reassign(task: ReviewTask, to: User, by: User) -> Review:
    """An admin hands a waiting or leased task to a named coder."""
    with transaction.atomic():
        locked = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if locked.state == ReviewTask.State.DONE:
            raise QueueError(f"Task {task.pk} is already reviewed.")
        if Review.objects.filter(note_id=locked.note_id, coder=to).exclude(task=locked).exists():
            raise QueueError(
                f"{to.email} already reviews this note in the other slot of blind double coding."
            )
        holder = locked.leased_by_id
        review = _lease(locked, to, timezone.now(), taken=False)
        audit(
            ReviewAuditKind.NOTE_REASSIGNED,
            actor=by,
            **event_ids(task=locked, review=review),
            previous_holder=holder,
            to=to.pk,
        )
        return review


@dataclass(frozen=True)
class QueueCounts:
    """The active version's tasks by state (none while no version is active)."""

    waiting: int
    leased: int
    expired: int
    done: int
    double_coded_notes: int


def queue_counts() -> QueueCounts:
    now = timezone.now()
    version = active_version()
    if version is None:
        return QueueCounts(0, 0, 0, 0, 0)
    counts = ReviewTask.objects.filter(prediction__model_version=version).aggregate(
        waiting=Count("pk", filter=Q(state=ReviewTask.State.OPEN)),
        leased=Count("pk", filter=Q(state=ReviewTask.State.LEASED, lease_expires_at__gt=now)),
        expired=Count("pk", filter=Q(state=ReviewTask.State.LEASED, lease_expires_at__lte=now)),
        done=Count("pk", filter=Q(state=ReviewTask.State.DONE)),
        double=Count("note", filter=Q(slot=2), distinct=True),
    )
    return QueueCounts(
        counts["waiting"], counts["leased"], counts["expired"], counts["done"], counts["double"]
    )


def notes_waiting_for(coder: User) -> int:
    """How many notes "Next note" can still give ``coder``: the same query
    it leases from, counted by note (a coder takes one slot of a note)."""
    version = active_version()
    if version is None:
        return 0
    free = _free_tasks(version, coder, timezone.now())
    return free.values("note").distinct().count()
