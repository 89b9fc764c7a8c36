"""Marking and removing a coder's evidence: the rules, in one place.

Evidence is a decision-like change: it needs the same right to write as a
decision (the coder's own draft, a live lease or their reopened review, a
page that is current), moves the review's version on and is audited. It
belongs to a code the coder keeps (accepted, replaced or added); a rejected
code has none, and an open suggestion must be decided first. A refused write
changes nothing and says why in words for the coder.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from coding_app.audit.services import audit
from coding_app.codes.forms import dotted
from coding_app.models import User
from review.desk.decisions import DecisionRefused, _bump, _locked_review
from review.events import ReviewAuditKind, event_ids
from review.models import Decision, EvidenceSpan, Review
from worker.models import Suggestion

# Evidence is a phrase or a sentence; a longer selection is a slip of the mouse.
EVIDENCE_MAX_CHARS = 1000


@dataclass(frozen=True)
class SpanInput:
    """What the page sends: character offsets into the note, and the text
    the coder saw there."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class EvidenceTarget:
    """The code the evidence is for: a suggestion's row or an added code's."""

    suggestion_id: int | None = None
    decision_id: int | None = None


def evidence_mark(
    *,
    review_id: int,
    coder: User,
    target: EvidenceTarget,
    span: SpanInput | None,
    expected_version: int | None = None,
) -> EvidenceSpan:
    """Keep ``span`` of the note as the coder's evidence for the target's code."""
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        decision = _target_decision(review, target)
        checked = _checked_span(span, review.note.text)
        code = dotted(decision.final_code or decision.code)
        if EvidenceSpan.objects.filter(
            decision=decision, start=checked.start, end=checked.end
        ).exists():
            raise DecisionRefused(f"“{checked.text}” is already your evidence for {code}.")
        evidence = EvidenceSpan.objects.create(
            decision=decision,
            start=checked.start,
            end=checked.end,
            text=checked.text,
            created_by=coder,
        )
        _bump(review)
        audit(
            ReviewAuditKind.EVIDENCE_MARKED,
            actor=coder,
            **event_ids(review=review),
            evidence=_snapshot(evidence, code),
        )
        return evidence


def evidence_remove(
    *, review_id: int, coder: User, span_id: int, expected_version: int | None = None
) -> None:
    """Take back one span of the coder's evidence."""
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        evidence = (
            EvidenceSpan.objects.select_related("decision")
            .filter(pk=span_id, decision__review=review)
            .first()
        )
        if evidence is None:
            raise DecisionRefused("That evidence is not part of this review.")
        decision = evidence.decision
        snapshot = _snapshot(evidence, dotted(decision.final_code or decision.code))
        evidence.delete()
        _bump(review)
        audit(
            ReviewAuditKind.EVIDENCE_REMOVED,
            actor=coder,
            **event_ids(review=review),
            evidence=snapshot,
        )


def _target_decision(review: Review, target: EvidenceTarget) -> Decision:
    """The decision whose code the evidence is for, or the refusal that says why not."""
    if target.decision_id is not None:
        decision = Decision.objects.filter(pk=target.decision_id, review=review).first()
        if decision is None:
            raise DecisionRefused("That code is not part of this review.")
    elif target.suggestion_id is not None:
        suggestion = Suggestion.objects.filter(
            pk=target.suggestion_id, prediction_id=review.prediction_id
        ).first()
        if suggestion is None:
            raise DecisionRefused("That suggestion does not belong to this note's prediction.")
        decision = Decision.objects.filter(review=review, suggestion=suggestion).first()
        if decision is None:
            raise DecisionRefused(
                f"Decide on {_shown(suggestion)} first: evidence goes with a code you "
                "accept or replace."
            )
    else:
        raise DecisionRefused("Choose the code the evidence is for (j / k), then press v.")
    if decision.action == Decision.Action.REJECT:
        raise DecisionRefused(
            f"{dotted(decision.code)} is rejected: evidence goes with a code you keep "
            "(accepted, replaced or added). Accept or replace it first."
        )
    return decision


def _checked_span(span: SpanInput | None, note_text: str) -> SpanInput:
    """``span`` if it is a stretch of the note that reads as sent."""
    if span is None:
        raise DecisionRefused("Select the words in the note that support the code, then press v.")
    start, end, length = span.start, span.end, len(note_text)
    if not 0 <= start < end <= length:
        raise DecisionRefused(
            f"The evidence span {start} to {end} is not inside the note (characters 0 to "
            f"{length}); nothing was saved. Select the words again."
        )
    if end - start > EVIDENCE_MAX_CHARS:
        raise DecisionRefused(
            f"Evidence is a phrase or a sentence: at most {EVIDENCE_MAX_CHARS} characters, "
            f"this selection has {end - start}. Select fewer words."
        )
    found = note_text[start:end]
    if span.text != found:
        raise DecisionRefused(
            f"The selected text “{_clip(span.text)}” is not what the note holds at "
            f"{start} to {end} (“{_clip(found)}”); nothing was saved. Select the words again."
        )
    if not found.strip():
        raise DecisionRefused("The selection is only blank space: select words of the note.")
    return span


def _shown(suggestion: Suggestion) -> str:
    return dotted(suggestion.code) if suggestion.valid else suggestion.code


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _snapshot(evidence: EvidenceSpan, code: str) -> dict[str, object]:
    return {
        "id": evidence.pk,
        "decision": evidence.decision_id,
        "code": code,
        "start": evidence.start,
        "end": evidence.end,
        "text": evidence.text,
    }
