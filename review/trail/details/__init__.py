"""Each audit event as a sentence with links, for the auditor's trail.

The trail stores what happened as a kind and a JSON payload; an auditor
reads "Replaced E11.65 with E11.649 (sibling)", not a Python dict. One
function per kind (``desk`` for the desk's kinds, ``records`` for the
rest), in the one table ``SENTENCES``, keyed by the kind's value as it is
stored: the training app's kinds are named by value because ``review`` sits
below ``training`` and never imports it. A kind without a sentence (an app
registered a new one) falls back to its label and its details as
"name: value" pairs, and the test of this module names the missing one.

Every value from a payload is escaped (``format_html``): payloads hold text
that coders and models wrote.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from coding_app.audit.kinds import CoreAuditKind
from coding_app.audit.models import AuditEvent
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy
from coding_app.models import User
from review.events import ReviewAuditKind
from review.trail.details import desk, records
from review.trail.details.words import Reader, Sentence, payload_of

SENTENCES: dict[str, Sentence] = {
    CoreAuditKind.EXPORT_DOWNLOADED: records.export_downloaded,
    ReviewAuditKind.NOTE_VIEWED: desk.note_viewed,
    ReviewAuditKind.DECISION_MADE: desk.decision_made,
    ReviewAuditKind.DECISION_CHANGED: desk.decision_changed,
    ReviewAuditKind.DECISION_REMOVED: desk.decision_removed,
    ReviewAuditKind.EVIDENCE_MARKED: desk.evidence_marked,
    ReviewAuditKind.EVIDENCE_REMOVED: desk.evidence_removed,
    ReviewAuditKind.REVIEW_SUBMITTED: desk.review_submitted,
    ReviewAuditKind.REVIEW_REOPENED: desk.review_reopened,
    ReviewAuditKind.LEASE_TAKEN: desk.lease_taken,
    ReviewAuditKind.LEASE_RELEASED: desk.lease_released,
    ReviewAuditKind.LEASE_EXPIRED: desk.lease_expired,
    ReviewAuditKind.NOTE_REASSIGNED: desk.note_reassigned,
    ReviewAuditKind.STATS_VIEWED: records.stats_viewed,
    ReviewAuditKind.NOTE_OPENED_BY_AUDITOR: records.note_opened_by_auditor,
    ReviewAuditKind.AUDIT_EXPORTED: records.audit_exported,
    # training.events.TrainingAuditKind, by value (see the module's note).
    "export_created": records.export_created,
    "export_viewed": records.export_viewed,
    "training_run_started": records.training_run_started,
    "training_run_cancelled": records.training_run_cancelled,
    "model_promoted": records.model_promoted,
    "model_rolled_back": records.model_rolled_back,
    # worker.events.WorkerAuditKind
    "prediction_chunk_retried": records.prediction_chunk_retried,
}


def fallback(event: AuditEvent, reader: Reader) -> SafeString:
    """A kind without its own sentence: its label and its details in words."""
    pairs = sorted(payload_of(event).items())
    details = format_html_join("; ", "{}: {}", ((k.replace("_", " "), v) for k, v in pairs))
    return format_html("{}{}{}.", event.get_kind_display(), ": " if pairs else "", details)


def _user_ids(events: Iterable[AuditEvent]) -> set[int]:
    ids = set()
    for event in events:
        payload = payload_of(event)
        for key in ("previous_holder", "to"):
            if isinstance(payload.get(key), int):
                ids.add(payload[key])
    return ids


def reader_for(events: Iterable[AuditEvent], *, can_manage: bool) -> Reader:
    """A reader for ``events``: the emails they name, in one query."""
    ids = _user_ids(events)
    emails = dict(User.objects.filter(pk__in=ids).values_list("pk", "email")) if ids else {}
    try:
        hierarchy: Hierarchy | None = current_hierarchy()
    except CodeSetNotLoaded:
        hierarchy = None
    return Reader(can_manage=can_manage, hierarchy=hierarchy, emails=emails)


def event_sentence(event: AuditEvent, reader: Reader) -> SafeString:
    return SENTENCES.get(event.kind, fallback)(event, reader)


def described(events: Iterable[AuditEvent], *, can_manage: bool) -> list[tuple[AuditEvent, str]]:
    """Each event with its sentence, for a page of the trail."""
    listed = list(events)
    reader = reader_for(listed, can_manage=can_manage)
    return [(event, event_sentence(event, reader)) for event in listed]
