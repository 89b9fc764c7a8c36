"""What the review app writes into the core's audit trail: its kinds of
event (registered in ``ReviewConfig.ready``) and the ids an event about a
task or a review carries."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db import models

if TYPE_CHECKING:
    from review.models import Review, ReviewTask


class ReviewAuditKind(models.TextChoices):
    NOTE_VIEWED = "note_viewed", "Note viewed"
    DECISION_MADE = "decision_made", "Decision made"
    DECISION_CHANGED = "decision_changed", "Decision changed"
    DECISION_REMOVED = "decision_removed", "Decision removed"
    EVIDENCE_MARKED = "evidence_marked", "Evidence marked"
    EVIDENCE_REMOVED = "evidence_removed", "Evidence removed"
    REVIEW_SUBMITTED = "review_submitted", "Review submitted"
    REVIEW_REOPENED = "review_reopened", "Review reopened"
    LEASE_TAKEN = "lease_taken", "Lease taken"
    LEASE_RELEASED = "lease_released", "Lease released"
    LEASE_EXPIRED = "lease_expired", "Lease expired"
    NOTE_REASSIGNED = "note_reassigned", "Note reassigned"
    # Reading is recorded too: who looked at statistics, notes and the trail.
    STATS_VIEWED = "stats_viewed", "Statistics viewed"
    NOTE_OPENED_BY_AUDITOR = "note_opened_by_auditor", "Note opened by auditor"
    AUDIT_EXPORTED = "audit_exported", "Audit trail exported"


class EventIds(TypedDict):
    note_id: int | None
    task_id: int | None
    review_id: int | None


def event_ids(*, task: ReviewTask | None = None, review: Review | None = None) -> EventIds:
    """The note, task and review an event is about: a review's own task and
    note unless ``task`` is given, a task's note when there is no review."""
    note_id = review.note_id if review else task.note_id if task else None
    task_id = task.pk if task else review.task_id if review else None
    return {"note_id": note_id, "task_id": task_id, "review_id": review.pk if review else None}
