"""Writing the audit trail: one function, so every event has the same shape."""

from __future__ import annotations

from typing import Any

from coding_app.models import User
from review.models import AuditEvent, Review, ReviewTask


def audit(
    kind: AuditEvent.Kind,
    *,
    actor: User | None,
    task: ReviewTask | None = None,
    review: Review | None = None,
    note_id: int | None = None,
    **payload: Any,
) -> AuditEvent:
    note_id = review.note_id if review else task.note_id if task else note_id
    return AuditEvent.objects.create(
        kind=kind, actor=actor, task=task or (review.task if review else None), review=review,
        note_id=note_id, payload=payload,
    )  # fmt: skip
