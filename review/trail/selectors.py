"""Reading the audit trail for auditors: filters, pages, CSV, a note's file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from coding_app.audit import selectors as trail
from coding_app.audit.kinds import is_kind
from coding_app.audit.models import AuditEvent
from review.events import ReviewAuditKind
from review.models import Decision, Review
from review.stats.filters import StatsFilterError, as_moment
from worker.models import Note, Prediction, Suggestion

CSV_HEADER = [
    "id",
    "created_at",
    "kind",
    "actor",
    "note_id",
    "note_external_id",
    "task_id",
    "review_id",
    "payload",
]
# What each column is read from; ``note_external_id`` is annotated by
# ``audit_events`` (a name the type checker cannot see, hence a tuple).
CSV_FIELDS = (
    "pk",
    "created_at",
    "kind",
    "actor__email",
    "note_id",
    "note_external_id",
    "task_id",
    "review_id",
    "payload",
)


@dataclass(frozen=True)
class AuditFilter:
    """Events by a user (email or part of it), about a note (id or external
    id), of one kind, in ``[since, until)``; empty fields do not filter.

    The auditors' own "statistics viewed" events are left out unless
    ``stats_views`` (or that kind is chosen): every page of the statistics
    writes one, and they would bury what coders and admins did.
    """

    user: str = ""
    note: str = ""
    kind: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    stats_views: bool = False

    @property
    def hides_stats_views(self) -> bool:
        return not self.stats_views and self.kind != ReviewAuditKind.STATS_VIEWED

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "note": self.note,
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "stats_views": self.stats_views,
        }


def audit_filter_from_query(query: QueryDict) -> AuditFilter:
    kind = query.get("kind", "").strip()
    if kind and not is_kind(kind):
        raise StatsFilterError(f"kind: “{kind[:30]}” is not a kind of audit event.")
    until = as_moment(query.get("until", "").strip(), "until")
    since = as_moment(query.get("since", "").strip(), "since")
    if until is not None:
        until += dt.timedelta(days=1)  # the day given is included
    if since is not None and until is not None and until <= since:
        raise StatsFilterError("until: the end of the range must come after its start.")
    return AuditFilter(
        user=query.get("user", "").strip()[:254],
        note=query.get("note", "").strip()[:255],
        kind=kind,
        since=since,
        until=until,
        stats_views=query.get("stats_views", "") in ("1", "on", "true"),
    )


def audit_events(chosen: AuditFilter, *, stats_views_only: bool = False) -> QuerySet[AuditEvent]:
    """The events the filter selects, newest first, with the actor and the
    note's external id (``note_external_id``; empty once a note is gone);
    ``stats_views_only``: the statistics views the filter hides, instead."""
    events = trail.audit_events(
        actor_email=chosen.user, kind=chosen.kind, since=chosen.since, until=chosen.until
    )
    if stats_views_only:
        events = events.filter(kind=ReviewAuditKind.STATS_VIEWED)
    elif chosen.hides_stats_views:
        events = events.exclude(kind=ReviewAuditKind.STATS_VIEWED)
    if chosen.note:
        about = Q(external_id=chosen.note)
        if chosen.note.isdigit():
            about |= Q(pk=int(chosen.note))
        events = events.filter(note_id__in=Note.objects.filter(about).values("pk"))
    external_id = Note.objects.filter(pk=OuterRef("note_id")).values("external_id")[:1]
    return events.annotate(note_external_id=Subquery(external_id))


def audit_csv_rows(chosen: AuditFilter) -> Iterator[list[object]]:
    """Header, then one row per event, read in chunks (memory stays flat)."""
    yield list(CSV_HEADER)
    rows = audit_events(chosen).values_list(*CSV_FIELDS)
    for pk, created, kind, email, note_id, external, task_id, review_id, payload in rows.iterator(
        chunk_size=2000
    ):
        yield [
            pk,
            created.isoformat(),
            kind,
            email or "",
            note_id,
            external or "",
            task_id,
            review_id,
            json.dumps(payload, sort_keys=True, ensure_ascii=False),
        ]


def audit_note_context(note_id: int) -> dict[str, Any]:
    """A note as an auditor reads it: its text and predictions with their
    suggestions, its reviews with their decisions, its latest events."""
    predictions = Prediction.objects.select_related("model_version").prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.order_by("rank"))
    )
    note = get_object_or_404(
        Note.objects.prefetch_related(Prefetch("predictions", queryset=predictions)), pk=note_id
    )
    reviews = (
        Review.objects.filter(note=note)
        .select_related("coder", "task", "model_version")
        .prefetch_related(Prefetch("decisions", queryset=Decision.objects.order_by("pk")))
        .order_by("task__slot", "pk")
    )
    return {
        "note": note,
        "reviews": reviews,
        "events": trail.note_events(note.pk, note_external_id=note.external_id),
    }
