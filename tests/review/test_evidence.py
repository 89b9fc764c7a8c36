"""Evidence that coders give: spans of the note kept with a code, audited,
refused with the reason when the span, the code or the page is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from review.desk.decisions import (
    DecisionInput,
    DecisionRefused,
    StaleReview,
    code_add,
    decide,
    review_submit,
)
from review.desk.evidence.services import (
    EVIDENCE_MAX_CHARS,
    EvidenceTarget,
    SpanInput,
    evidence_mark,
    evidence_remove,
)
from review.desk.queue import lease_next
from review.models import Decision, EvidenceSpan, Review

from .conftest import NOTE_TEXT, MakeNotes, prediction_of

MakeUser = Callable[..., User]
HYPERTENSION = "Essential hypertension"
AT = NOTE_TEXT.index(HYPERTENSION)


@pytest.fixture
def coder(make_user: MakeUser) -> User:
    return make_user(Role.CODER)


@pytest.fixture
def review(coder: User, make_notes: MakeNotes, settings) -> Review:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0
    make_notes(1)
    leased = lease_next(coder)
    assert leased is not None
    return leased


def on(review: Review, code: str) -> EvidenceTarget:
    suggestion = prediction_of(review.note).suggestions.get(code=code)
    return EvidenceTarget(suggestion_id=suggestion.pk)


def act(review: Review, coder: User, code: str, action: str, **fields: str) -> Decision:
    return decide(
        review_id=review.pk,
        coder=coder,
        suggestion_id=on(review, code).suggestion_id or 0,
        choice=DecisionInput(action=action, **fields),
    )


def span(start: int, end: int, text: str | None = None) -> SpanInput:
    return SpanInput(start, end, NOTE_TEXT[start:end] if text is None else text)


def mark(review: Review, coder: User, target: EvidenceTarget, given: SpanInput | None, **kw):
    return evidence_mark(review_id=review.pk, coder=coder, target=target, span=given, **kw)


def version_of(review: Review) -> int:
    return Review.objects.get(pk=review.pk).version


def test_a_span_of_the_note_is_kept_with_the_accepted_code_and_audited(
    review: Review, coder: User
) -> None:
    decision = act(review, coder, "I10", "accept")
    before = version_of(review)
    evidence = mark(review, coder, on(review, "I10"), span(AT, AT + len(HYPERTENSION)))
    stored = EvidenceSpan.objects.get()
    assert (stored.pk, stored.decision_id, stored.start, stored.end, stored.text) == (
        evidence.pk,
        decision.pk,
        AT,
        AT + len(HYPERTENSION),
        HYPERTENSION,
    )
    assert stored.created_by_id == coder.pk
    # A change like a decision: another tab's page is now stale.
    assert version_of(review) == before + 1
    event = AuditEvent.objects.get(kind="evidence_marked")
    assert (event.actor_id, event.review_id, event.note_id) == (coder.pk, review.pk, review.note_id)
    assert event.payload["evidence"] == {
        "id": stored.pk,
        "decision": decision.pk,
        "code": "I10",
        "start": AT,
        "end": AT + len(HYPERTENSION),
        "text": HYPERTENSION,
    }


def test_replaced_and_added_codes_take_evidence_for_the_coder_s_code(
    review: Review, coder: User
) -> None:
    act(review, coder, "E119", "replace", replacement="E11.65")
    added = code_add(review_id=review.pk, coder=coder, code="I25.10")
    mark(review, coder, on(review, "E119"), span(6, 21))
    mark(review, coder, EvidenceTarget(decision_id=added.pk), span(AT, AT + 9))
    codes = AuditEvent.objects.filter(kind="evidence_marked").order_by("pk")
    assert [e.payload["evidence"]["code"] for e in codes] == ["E11.65", "I25.10"]
    assert list(EvidenceSpan.objects.values_list("text", flat=True)) == [
        "type 2 diabetes",
        "Essential",
    ]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-1, 4, "-1 to 4 is not inside the note"),
        (5, 5, "5 to 5 is not inside the note"),
        (9, 3, "9 to 3 is not inside the note"),
        (100, len(NOTE_TEXT) + 1, f"(characters 0 to {len(NOTE_TEXT)})"),
    ],
)
def test_a_span_outside_the_note_is_refused_and_nothing_is_stored(
    review: Review, coder: User, start: int, end: int, message: str
) -> None:
    act(review, coder, "I10", "accept")
    before = version_of(review)
    with pytest.raises(DecisionRefused, match=re.escape(message)):
        mark(review, coder, on(review, "I10"), SpanInput(start, end, "text"))
    assert not EvidenceSpan.objects.exists()
    assert version_of(review) == before
    assert not AuditEvent.objects.filter(kind="evidence_marked").exists()


def test_text_that_is_not_what_the_note_holds_there_is_refused(review: Review, coder: User) -> None:
    act(review, coder, "I10", "accept")
    shifted = span(AT + 1, AT + 1 + len(HYPERTENSION), HYPERTENSION)
    with pytest.raises(DecisionRefused) as refused:
        mark(review, coder, on(review, "I10"), shifted)
    assert str(refused.value) == (
        f"The selected text “{HYPERTENSION}” is not what the note holds at "
        f"{AT + 1} to {AT + 1 + len(HYPERTENSION)} (“ssential hypertension,”); "
        "nothing was saved. Select the words again."
    )
    assert not EvidenceSpan.objects.exists()


def test_no_selection_blank_space_and_a_whole_page_are_refused(review: Review, coder: User) -> None:
    act(review, coder, "I10", "accept")
    newline = NOTE_TEXT.index("\n")
    with pytest.raises(DecisionRefused, match="Select the words in the note that support"):
        mark(review, coder, on(review, "I10"), None)
    with pytest.raises(DecisionRefused, match="only blank space"):
        mark(review, coder, on(review, "I10"), span(newline, newline + 1))
    long_text = "x" * (EVIDENCE_MAX_CHARS + 1)
    type(review.note).objects.filter(pk=review.note_id).update(text=long_text)
    with pytest.raises(DecisionRefused, match=f"at most {EVIDENCE_MAX_CHARS} characters"):
        mark(review, coder, on(review, "I10"), SpanInput(0, len(long_text), long_text))
    assert not EvidenceSpan.objects.exists()


def test_a_rejected_or_undecided_code_takes_no_evidence(review: Review, coder: User) -> None:
    act(review, coder, "I10", "reject", reason="not_documented")
    with pytest.raises(DecisionRefused) as refused:
        mark(review, coder, on(review, "I10"), span(AT, AT + 9))
    assert str(refused.value) == (
        "I10 is rejected: evidence goes with a code you keep (accepted, replaced or added). "
        "Accept or replace it first."
    )
    with pytest.raises(DecisionRefused, match=re.escape("Decide on E11.65 first")):
        mark(review, coder, on(review, "E1165"), span(0, 5))
    with pytest.raises(DecisionRefused, match="Choose the code the evidence is for"):
        mark(review, coder, EvidenceTarget(), span(0, 5))
    assert not EvidenceSpan.objects.exists()


def test_a_code_of_another_review_is_refused(
    review: Review, coder: User, make_user: MakeUser, make_notes: MakeNotes
) -> None:
    other_coder = make_user(Role.CODER)
    make_notes(1, prefix="other")
    other = lease_next(other_coder)
    assert other is not None
    theirs = code_add(review_id=other.pk, coder=other_coder, code="I25.10")
    with pytest.raises(DecisionRefused, match="That code is not part of this review"):
        mark(review, coder, EvidenceTarget(decision_id=theirs.pk), span(0, 5))
    with pytest.raises(DecisionRefused, match="does not belong to this note's prediction"):
        mark(review, coder, on(other, "I10"), span(0, 5))
    with pytest.raises(DecisionRefused, match="This review is not yours"):
        mark(other, coder, EvidenceTarget(decision_id=theirs.pk), span(0, 5))
    assert not EvidenceSpan.objects.exists()


def test_a_stale_page_is_refused_like_a_decision(review: Review, coder: User) -> None:
    act(review, coder, "I10", "accept")
    page_version = version_of(review)
    # Another tab changes the review after this page was drawn.
    act(review, coder, "E119", "accept")
    with pytest.raises(StaleReview, match="another tab or browser"):
        mark(review, coder, on(review, "I10"), span(AT, AT + 9), expected_version=page_version)
    assert not EvidenceSpan.objects.exists()
    mark(review, coder, on(review, "I10"), span(AT, AT + 9), expected_version=page_version + 1)
    assert EvidenceSpan.objects.count() == 1


def test_a_submitted_review_takes_no_evidence_until_reopened(review: Review, coder: User) -> None:
    for code in ("E1165", "I10", "E119"):
        act(review, coder, code, "accept")
    review_submit(review_id=review.pk, coder=coder)
    with pytest.raises(DecisionRefused, match="reopen it to amend it"):
        mark(review, coder, on(review, "I10"), span(AT, AT + 9))


def test_the_same_span_twice_is_refused(review: Review, coder: User) -> None:
    act(review, coder, "I10", "accept")
    mark(review, coder, on(review, "I10"), span(AT, AT + 9))
    with pytest.raises(DecisionRefused, match="“Essential” is already your evidence for I10"):
        mark(review, coder, on(review, "I10"), span(AT, AT + 9))
    assert EvidenceSpan.objects.count() == 1


def test_removing_a_span_is_audited_and_refused_for_another_review(
    review: Review, coder: User, make_user: MakeUser, make_notes: MakeNotes
) -> None:
    act(review, coder, "I10", "accept")
    evidence = mark(review, coder, on(review, "I10"), span(AT, AT + 9))
    other_coder = make_user(Role.CODER)
    make_notes(1, prefix="other")
    other = lease_next(other_coder)
    assert other is not None
    with pytest.raises(DecisionRefused, match="That evidence is not part of this review"):
        evidence_remove(review_id=other.pk, coder=other_coder, span_id=evidence.pk)
    before = version_of(review)
    evidence_remove(review_id=review.pk, coder=coder, span_id=evidence.pk)
    assert not EvidenceSpan.objects.exists()
    assert version_of(review) == before + 1
    removed = AuditEvent.objects.get(kind="evidence_removed")
    assert removed.payload["evidence"]["text"] == "Essential"
    assert removed.payload["evidence"]["code"] == "I10"


def test_the_database_keeps_the_text_as_long_as_the_span(review: Review, coder: User) -> None:
    decision = act(review, coder, "I10", "accept")
    with pytest.raises(IntegrityError, match="evidence_span_text_fits"), transaction.atomic():
        EvidenceSpan.objects.create(
            decision=decision, start=AT, end=AT + 5, text="Essential", created_by=coder
        )
    with pytest.raises(IntegrityError, match="evidence_span_not_empty"), transaction.atomic():
        EvidenceSpan.objects.create(decision=decision, start=AT, end=AT, text="", created_by=coder)
