"""The desk's events (``review.events.ReviewAuditKind``) as sentences:
decisions, evidence, submissions and leases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from coding_app.audit.models import AuditEvent
from coding_app.codes.hierarchy import Relation
from review.models import Decision
from review.trail.details.words import Reader, capital, note_link, payload_of, review_name

EVIDENCE_SHOWN = 80  # characters of a marked span quoted in the sentence


def _reason(value: object) -> str:
    return str(dict(Decision.Reason.choices).get(str(value), value or "")).lower()


# How a replacement stands to the suggested code, as a sentence says it.
RELATION_WORDS: dict[str, str] = {
    Relation.EXACT: "the same code",
    Relation.ANCESTOR: "a less specific code",
    Relation.DESCENDANT: "a more specific code",
    Relation.SIBLING: "a sibling code",
    Relation.SAME_CATEGORY: "a code of the same category",
    Relation.SAME_BLOCK: "a code of the same block",
    Relation.SAME_CHAPTER: "a code of the same chapter",
    Relation.UNRELATED: "an unrelated code",
}


def _relation(value: object) -> str:
    return RELATION_WORDS.get(str(value), str(value or ""))


def _decision(decision: Mapping[str, Any], reader: Reader) -> SafeString:
    """What a decision snapshot (``review.desk.decisions._snapshot``) says."""
    action, code = decision.get("action"), reader.code(decision.get("code", ""))
    if action == Decision.Action.ACCEPT:
        return format_html("accepted {}", code)
    if action == Decision.Action.REJECT:
        return format_html("rejected {} ({})", code, _reason(decision.get("reason")))
    if action == Decision.Action.REPLACE:
        relation = _relation(decision.get("relation"))
        return format_html(
            "replaced {} with {}{}",
            code,
            reader.code(decision.get("replacement", "")),
            f", {relation}" if relation else "",
        )
    if action == Decision.Action.ADD:
        return format_html("added {}, a code the model did not suggest", code)
    return format_html("{} {}", action or "decided", code)


def note_viewed(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html("Opened {} on the desk ({}).", note_link(event), review_name(event))


def decision_made(event: AuditEvent, reader: Reader) -> SafeString:
    decision = payload_of(event).get("decision") or {}
    return format_html("{} in {}.", capital(_decision(decision, reader)), review_name(event))


def decision_changed(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    before = payload.get("before") or {}
    now = payload.get("decision") or {}
    return format_html(
        "Changed a decision in {}: {} (before: {}).",
        review_name(event),
        _decision(now, reader),
        _decision(before, reader) if before else "none",
    )


def decision_removed(event: AuditEvent, reader: Reader) -> SafeString:
    decision = payload_of(event).get("decision") or {}
    return format_html(
        "Removed the added code {} from {}.",
        reader.code(decision.get("code", "")),
        review_name(event),
    )


def _evidence(event: AuditEvent) -> tuple[str, object]:
    evidence = payload_of(event).get("evidence") or {}
    text = str(evidence.get("text", ""))
    shown = text if len(text) <= EVIDENCE_SHOWN else text[: EVIDENCE_SHOWN - 1] + "…"
    return shown, evidence.get("code", "")


def evidence_marked(event: AuditEvent, reader: Reader) -> SafeString:
    text, code = _evidence(event)
    return format_html("Marked “{}” as evidence for {}.", text, reader.code(code))


def evidence_removed(event: AuditEvent, reader: Reader) -> SafeString:
    text, code = _evidence(event)
    return format_html("Took back “{}” as evidence for {}.", text, reader.code(code))


def _seconds(value: object) -> str:
    if not isinstance(value, int | float):
        return ""
    return f" ({value:.0f} s on the note)"


def review_submitted(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    codes = payload.get("final_codes") or []
    verb = "Submitted an amended" if payload.get("amendment") else "Submitted"
    if not codes and payload.get("no_codable_diagnosis"):
        what = format_html("{}", "no code: the coder confirmed no codable diagnosis")
    else:
        count = len(codes)
        what = format_html(
            "{} code{}: {}", count, "" if count == 1 else "s", reader.codes(sorted(codes))
        )
    return format_html(
        "{} {} of {} with {}{}.",
        verb,
        review_name(event),
        note_link(event),
        what,
        _seconds(payload.get("seconds_on_task")),
    )


def review_reopened(event: AuditEvent, reader: Reader) -> SafeString:
    codes = payload_of(event).get("final_codes") or []
    return format_html(
        "Reopened {} to amend it (its codes then: {}).", review_name(event), reader.codes(codes)
    )


def lease_taken(event: AuditEvent, reader: Reader) -> SafeString:
    return format_html("Took {} from the queue.", note_link(event))


def lease_released(event: AuditEvent, reader: Reader) -> SafeString:
    holder = reader.user(payload_of(event).get("previous_holder"))
    return format_html("Gave {} back to the queue (it was held by {}).", note_link(event), holder)


def lease_expired(event: AuditEvent, reader: Reader) -> SafeString:
    holder = reader.user(payload_of(event).get("previous_holder"))
    return format_html(
        "The lease of {} on {} ran out; the note went to the next coder.", holder, note_link(event)
    )


def note_reassigned(event: AuditEvent, reader: Reader) -> SafeString:
    payload = payload_of(event)
    previous = payload.get("previous_holder")
    before = f" (held by {reader.user(previous)} before)" if previous else ""
    return format_html(
        "Handed {} to {}{}.", note_link(event), reader.user(payload.get("to")), before
    )
