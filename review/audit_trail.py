"""Reading the audit trail: filters, pages and the CSV export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from review.models import AuditEvent
from review.stats.filters import StatsFilterError, as_moment

CSV_HEADER = ["id", "created_at", "kind", "actor", "note_id", "note_external_id", "task_id",
              "review_id", "payload"]  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    """Events by a user (email or part of it), about a note (id or external
    id), of one kind, in ``[since, until)``; empty fields do not filter."""

    user: str = ""
    note: str = ""
    kind: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user, "note": self.note, "kind": self.kind,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }  # fmt: skip


def audit_filter_from_query(query: QueryDict) -> AuditFilter:
    kind = query.get("kind", "").strip()
    if kind and kind not in AuditEvent.Kind.values:
        raise StatsFilterError(f"kind: “{kind[:30]}” is not a kind of audit event.")
    until = as_moment(query.get("until", "").strip(), "until")
    since = as_moment(query.get("since", "").strip(), "since")
    if until is not None:
        until += dt.timedelta(days=1)  # the day given is included
    if since is not None and until is not None and until <= since:
        raise StatsFilterError("until: the end of the range must come after its start.")
    return AuditFilter(
        user=query.get("user", "").strip()[:254], note=query.get("note", "").strip()[:255],
        kind=kind, since=since, until=until,
    )  # fmt: skip


def audit_events(chosen: AuditFilter) -> QuerySet[AuditEvent]:
    """The events the filter selects, newest first, with actor and note."""
    events = AuditEvent.objects.select_related("actor", "note").order_by("-created_at", "-pk")
    if chosen.user:
        events = events.filter(actor__email__icontains=chosen.user)
    if chosen.note:
        by_external = Q(note__external_id=chosen.note)
        events = events.filter(
            by_external | Q(note_id=int(chosen.note)) if chosen.note.isdigit() else by_external
        )
    if chosen.kind:
        events = events.filter(kind=chosen.kind)
    if chosen.since is not None:
        events = events.filter(created_at__gte=chosen.since)
    if chosen.until is not None:
        events = events.filter(created_at__lt=chosen.until)
    return events


def audit_csv_rows(chosen: AuditFilter) -> Iterator[list[object]]:
    """Header, then one row per event, read in chunks (memory stays flat)."""
    yield list(CSV_HEADER)
    rows = audit_events(chosen).values_list(
        "pk", "created_at", "kind", "actor__email", "note_id", "note__external_id", "task_id",
        "review_id", "payload",
    )  # fmt: skip
    for pk, created, kind, email, note_id, external, task_id, review_id, payload in rows.iterator(
        chunk_size=2000
    ):
        yield [pk, created.isoformat(), kind, email or "", note_id, external or "", task_id,
               review_id, json.dumps(payload, sort_keys=True, ensure_ascii=False)]  # fmt: skip
