"""A coder's decisions on a review: the rules, in one place.

Every write checks, in this order, that the review is the coder's own, that
they may still write to it (a live lease, or their own reopened review),
that the page they acted on is current (``expected_version``), and that the
suggestion and codes belong where the request says. A refused write changes
nothing and says why in words for the coder.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from coding_app.audit.services import audit
from coding_app.codes.forms import dotted
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import check_code
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.events import ReviewAuditKind, event_ids
from review.models import Decision, Review, ReviewTask
from review.stats.rollup import stats_refresh_soon
from worker.models import Suggestion


class DecisionRefused(Exception):
    """The write was refused; the message is for the coder."""


class StaleReview(DecisionRefused):
    """Another tab or browser changed the review since this page was drawn."""


@dataclass(frozen=True)
class DecisionInput:
    action: str
    replacement: str = ""
    reason: str = ""
    comment: str = ""


def _locked_review(review_id: int, coder: User, expected_version: int | None) -> Review:
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("task")
        .filter(pk=review_id)
        .first()
    )
    if review is None or review.coder_id != coder.pk:
        raise DecisionRefused("This review is not yours.")
    if review.status != Review.Status.DRAFT:
        raise DecisionRefused("This review is submitted; reopen it to amend it.")
    task = review.task
    reopened = task.state == ReviewTask.State.DONE and review.submitted_at is not None
    holds_lease = (
        task.state == ReviewTask.State.LEASED
        and task.leased_by_id == coder.pk
        and task.lease_expires_at is not None
        and task.lease_expires_at > timezone.now()
    )
    if not (holds_lease or reopened):
        raise DecisionRefused(
            "Your lease on this note has expired and the note went back to the queue"
            f"{' and to another coder' if task.leased_by_id not in (None, coder.pk) else ''}. "
            "Your draft is kept; take the next note to go on."
        )
    if expected_version is not None and expected_version != review.version:
        raise StaleReview(
            "This review was changed in another tab or browser since this page was drawn; "
            "nothing was saved. The page now shows the current state."
        )
    return review


def _bump(review: Review) -> None:
    Review.objects.filter(pk=review.pk).update(version=F("version") + 1, updated_at=timezone.now())
    review.version += 1


def _billable(text: str, hierarchy: Hierarchy) -> str:
    check = check_code(text, hierarchy)
    if not check.ok or check.code is None:
        raise DecisionRefused(check.message)
    return check.code


def decide(
    *,
    review_id: int,
    coder: User,
    suggestion_id: int,
    choice: DecisionInput,
    expected_version: int | None = None,
) -> Decision:
    """Accept, reject or replace one suggestion of the review (again, if decided)."""
    hierarchy = current_hierarchy()
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        suggestion = Suggestion.objects.filter(
            pk=suggestion_id, prediction_id=review.prediction_id
        ).first()
        if suggestion is None:
            raise DecisionRefused("That suggestion does not belong to this note's prediction.")
        fields = _fields(choice, suggestion, hierarchy)
        decision = Decision.objects.filter(review=review, suggestion=suggestion).first()
        kind = ReviewAuditKind.DECISION_MADE
        before = None
        if decision is None:
            decision = Decision(review=review, suggestion=suggestion, code=suggestion.code)
        else:
            kind, before = ReviewAuditKind.DECISION_CHANGED, _snapshot(decision)
        for name, value in fields.items():
            setattr(decision, name, value)
        decision.save()
        _bump(review)
        audit(
            kind,
            actor=coder,
            **event_ids(review=review),
            decision=_snapshot(decision),
            before=before,
        )
        return decision


def _fields(choice: DecisionInput, suggestion: Suggestion, hierarchy: Hierarchy) -> dict[str, str]:
    """The decision's columns for ``choice``, or the refusal that says why not."""
    action = choice.action
    fields = {"action": action, "replacement": "", "reason": "", "relation": ""}
    if action == Decision.Action.ACCEPT:
        if not suggestion.valid:
            raise DecisionRefused(
                f"{suggestion.code} cannot be accepted: {suggestion.problem} "
                "Replace it with a valid code or reject it."
            )
    elif action == Decision.Action.REJECT:
        if choice.reason not in Decision.Reason.values:
            raise DecisionRefused(
                "Choose why the code is rejected: "
                + ", ".join(str(label).lower() for label in Decision.Reason.labels)
                + "."
            )
        fields["reason"] = choice.reason
    elif action == Decision.Action.REPLACE:
        replacement = _billable(choice.replacement, hierarchy)
        if replacement == suggestion.code:
            raise DecisionRefused(f"{replacement} is the suggested code itself; accept it instead.")
        relation = hierarchy.relation(suggestion.code, replacement) if suggestion.valid else ""
        fields["replacement"], fields["relation"] = replacement, str(relation)
        fields["reason"] = choice.reason if choice.reason in Decision.Reason.values else ""
    else:
        raise DecisionRefused(f"“{action[:20]}” is not a decision: accept, reject or replace.")
    return {**fields, "comment": choice.comment}


def code_add(
    *, review_id: int, coder: User, code: str, expected_version: int | None = None
) -> Decision:
    """Add a code the model missed."""
    hierarchy = current_hierarchy()
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        key = _billable(code, hierarchy)
        if key in final_codes(review):
            raise DecisionRefused(f"{dotted(key)} is already in your codes.")
        decision = Decision.objects.create(review=review, action=Decision.Action.ADD, code=key)
        _bump(review)
        audit(
            ReviewAuditKind.DECISION_MADE,
            actor=coder,
            **event_ids(review=review),
            decision=_snapshot(decision),
        )
        return decision


def added_code_remove(
    *, review_id: int, coder: User, decision_id: int, expected_version: int | None = None
) -> None:
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        decision = Decision.objects.filter(
            pk=decision_id, review=review, action=Decision.Action.ADD
        ).first()
        if decision is None:
            raise DecisionRefused("That added code is not part of this review.")
        snapshot = _snapshot(decision)
        decision.delete()
        _bump(review)
        audit(
            ReviewAuditKind.DECISION_REMOVED,
            actor=coder,
            **event_ids(review=review),
            decision=snapshot,
        )


class NoCodesUnconfirmed(DecisionRefused):
    """A review without a final code was submitted without the confirmation."""


NO_CODES_REFUSAL = (
    "This review has no final code. Add the codes the note documents, or confirm "
    "that this note documents no codable diagnosis."
)


def review_submit(
    *,
    review_id: int,
    coder: User,
    expected_version: int | None = None,
    no_codable_diagnosis: bool = False,
) -> Review:
    """Submit the review once every suggestion is decided.

    A review without a final code is submitted only with the coder's
    confirmation that the note documents no codable diagnosis, and is stored
    with it; a review with codes never carries it.
    """
    with transaction.atomic():
        review = _locked_review(review_id, coder, expected_version)
        _refuse_open_suggestions(review)
        codes = final_codes(review)
        if not codes and not no_codable_diagnosis:
            raise NoCodesUnconfirmed(NO_CODES_REFUSAL)
        amendment = review.submitted_at is not None
        review.status, review.submitted_at = Review.Status.SUBMITTED, timezone.now()
        review.no_codable_diagnosis = not codes
        review.version += 1
        fields = ["status", "submitted_at", "no_codable_diagnosis", "version", "updated_at"]
        review.save(update_fields=fields)
        ReviewTask.objects.filter(pk=review.task_id).update(
            state=ReviewTask.State.DONE, leased_by=None, lease_expires_at=None
        )
        # The statistics' rollups count submitted reviews: recompute soon.
        transaction.on_commit(stats_refresh_soon)
        audit(
            ReviewAuditKind.REVIEW_SUBMITTED,
            actor=coder,
            **event_ids(review=review),
            final_codes=sorted(codes),
            no_codable_diagnosis=review.no_codable_diagnosis,
            amendment=amendment,
            seconds_on_task=round(review.seconds_on_task, 1),
        )
        return review


def _refuse_open_suggestions(review: Review) -> None:
    decided = review.decisions.filter(suggestion__isnull=False).values_list(
        "suggestion_id", flat=True
    )
    open_codes = list(
        Suggestion.objects.filter(prediction_id=review.prediction_id)
        .exclude(pk__in=list(decided))
        .order_by("rank")
        .values_list("code", "valid")
    )
    if open_codes:
        raise DecisionRefused(
            "Decide on every suggestion before submitting; still open: "
            f"{', '.join(dotted(code) if valid else code for code, valid in open_codes)}."
        )


def review_reopen(*, review_id: int, coder: User) -> Review:
    """A coder reopens their own submitted review to amend it; the history stays."""
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id, coder=coder).first()
        if review is None:
            raise DecisionRefused("This review is not yours.")
        if review.status != Review.Status.SUBMITTED:
            raise DecisionRefused("Only a submitted review can be reopened.")
        review.status = Review.Status.DRAFT
        review.version += 1
        review.save(update_fields=["status", "version", "updated_at"])
        transaction.on_commit(stats_refresh_soon)
        audit(
            ReviewAuditKind.REVIEW_REOPENED,
            actor=coder,
            **event_ids(review=review),
            final_codes=sorted(final_codes(review)),
        )
        return review


def final_codes(review: Review) -> set[str]:
    """The coder's codes as they stand: accepted, replacements and additions."""
    return {
        code for decision in review.decisions.all() if (code := decision.final_code) is not None
    }


def _snapshot(decision: Decision) -> dict[str, object]:
    return {
        "id": decision.pk,
        "suggestion": decision.suggestion_id,
        "action": decision.action,
        "code": decision.code,
        "replacement": decision.replacement,
        "reason": decision.reason,
        "relation": decision.relation,
    }
