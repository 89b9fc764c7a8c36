"""Writing the audit trail: one function, so every event has the same shape."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from coding_app.audit.kinds import is_kind
from coding_app.audit.models import AuditEvent


class UnknownAuditKind(ValueError):
    """A kind no app registered (see ``kinds.register_kinds``)."""


def audit(
    kind: str,
    *,
    actor: AbstractBaseUser | None,
    note_id: int | None = None,
    task_id: int | None = None,
    review_id: int | None = None,
    **payload: Any,
) -> AuditEvent:
    """Record that ``actor`` (None: the system) did ``kind``, about the note,
    task and review given by id, with ``payload`` as the event's details."""
    if not is_kind(kind):
        raise UnknownAuditKind(f"{kind!r} is not a registered kind of audit event.")
    return AuditEvent.objects.create(
        kind=kind,
        actor_id=actor.pk if actor is not None else None,
        note_id=note_id,
        task_id=task_id,
        review_id=review_id,
        payload=payload,
    )
