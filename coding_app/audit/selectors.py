"""Reading the audit trail by what the core knows: who, what, when, ids.

What needs another app's tables (a note's external id, its reviews) is read
by that app on top of these; the auditor's pages are in ``review.trail``.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet, Value

from coding_app.audit.models import AuditEvent


def audit_events(
    *,
    actor_email: str = "",
    kind: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Events by an actor whose email contains ``actor_email`` (any case), of
    ``kind``, in ``[since, until)``, newest first with their actor; empty
    arguments do not filter."""
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-pk")
    if actor_email:
        events = events.filter(actor__email__icontains=actor_email)
    if kind:
        events = events.filter(kind=kind)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events


def note_events(
    note_id: int, *, latest: int = 200, note_external_id: str = ""
) -> QuerySet[AuditEvent]:
    """The ``latest`` events about a note, newest first, with their actor and,
    as ``note_external_id``, the note's external id (the trail's sentences
    name the note by it)."""
    return (
        AuditEvent.objects.filter(note_id=note_id)
        .select_related("actor")
        .annotate(note_external_id=Value(note_external_id))
        .order_by("-pk")[:latest]
    )
