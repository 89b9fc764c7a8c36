"""Gold code sets for training and evaluation, read from reviews.

A note's gold set is the final codes of its latest submitted review
(accepted, replacements and additions: ``review.final_codes``; the latest:
``review.desk.selectors.latest_submitted_reviews``). A run can
instead learn from the notes' reference codes (the source's own coding,
such as MIMIC-IV ``diagnoses_icd`` or CodiEsp), which bootstraps a model
before coders have reviewed much. Held-out notes (``training.splits``)
never reach a training set; they are the evaluation set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from review.desk.selectors import latest_submitted_reviews
from review.final_codes import decision_final_code
from review.models import Decision, EvidenceSpan, Review
from training.splits import Split, note_split
from worker.backends.embedding.signals.feedback import ReviewedNote
from worker.models import Note
from worker.models.notes import reference_codes_valid

LABELS_REVIEWS = "reviews"
LABELS_REFERENCE = "reference"
LABEL_SOURCES = (LABELS_REVIEWS, LABELS_REFERENCE)


def reviewed_codes(*, until: datetime | None = None) -> dict[int, set[str]]:
    """Each reviewed note's final codes from its latest submitted review."""
    reviews = Review.objects.all()
    if until is not None:
        reviews = reviews.filter(submitted_at__lte=until)
    # Ids first, then their decisions: a review submitted in between cannot
    # slip into the second query.
    note_of = dict(latest_submitted_reviews(reviews).values_list("pk", "note_id"))
    codes: dict[int, set[str]] = {note_id: set() for note_id in note_of.values()}
    rows = Decision.objects.filter(review_id__in=list(note_of)).values_list(
        "review_id", "action", "code", "replacement"
    )
    for review_id, action, code, replacement in rows.iterator(chunk_size=5000):
        final = decision_final_code(action=action, code=code, replacement=replacement)
        if final is not None:
            codes[note_of[review_id]].add(final)
    return codes


def coder_evidence(note_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """The words coders marked as evidence, by note and final code key.

    Of each note among ``note_ids`` that has a submitted review, its latest
    (the one ``reviewed_codes`` reads): the texts of the spans on each final
    code, in the note's order; a note without any maps to an empty dict. A
    rejected code's spans are not evidence.
    """
    wanted = Review.objects.filter(note_id__in=list(note_ids))
    note_of = dict(latest_submitted_reviews(wanted).values_list("pk", "note_id"))
    found: dict[int, dict[str, list[str]]] = {note_id: {} for note_id in note_of.values()}
    rows = (
        EvidenceSpan.objects.filter(decision__review_id__in=list(note_of))
        .order_by("decision__review_id", "start", "end", "pk")
        .values_list(
            "decision__review_id",
            "decision__action",
            "decision__code",
            "decision__replacement",
            "text",
        )
    )
    for review_id, action, code, replacement, text in rows.iterator(chunk_size=5000):
        final = decision_final_code(action=action, code=code, replacement=replacement)
        if final is not None:
            found[note_of[review_id]].setdefault(final, []).append(text)
    return found


def gold_codes(
    *, source: str, until: datetime | None = None, note_ids: Iterable[int] | None = None
) -> dict[int, set[str]]:
    """Gold sets by note id from ``source`` (reviews or reference codes)."""
    if source not in LABEL_SOURCES:
        raise ValueError(f"labels must be one of {', '.join(LABEL_SOURCES)}, not {source!r}")
    if source == LABELS_REVIEWS:
        found = reviewed_codes(until=until)
        if note_ids is not None:
            wanted = set(note_ids)
            found = {k: v for k, v in found.items() if k in wanted}
        return found
    notes = Note.objects.exclude(reference_codes=[])
    if note_ids is not None:
        notes = notes.filter(pk__in=list(note_ids))
    # Flagged codes (not codes of the release) are left out; a note left
    # with none has no gold set. reference_codes_left_out counts them.
    rows = notes.values_list("pk", "reference_codes", "reference_code_flags")
    found = {
        note_id: set(reference_codes_valid(codes, flags))
        for note_id, codes, flags in rows.iterator(chunk_size=2000)
    }
    return {note_id: codes for note_id, codes in found.items() if codes}


@dataclass(frozen=True)
class LeftOut:
    """The flagged reference codes that gold sets left out, and on how many notes."""

    codes: int
    notes: int

    def __str__(self) -> str:
        return (
            f"{self.codes:,} reference codes on {self.notes:,} notes left out "
            "(flagged at import: not codes of the loaded release)"
        )


def reference_codes_left_out(
    *, note_ids: Iterable[int] | None = None, training: bool = False
) -> LeftOut:
    """What ``gold_codes(source=LABELS_REFERENCE)`` leaves out of the notes
    ``note_ids`` (or, with ``training``, of every note a run may learn from)."""
    notes = Note.objects.exclude(reference_code_flags=[])
    if note_ids is not None:
        notes = notes.filter(pk__in=list(note_ids))
    rows = notes.values_list("pk", "reference_code_flags").iterator(chunk_size=2000)
    counts = [len(flags) for pk, flags in rows if not training or note_split(pk) != Split.HOLDOUT]
    return LeftOut(codes=sum(counts), notes=len(counts))


def split_gold(gold: dict[int, set[str]], split: Split) -> dict[int, set[str]]:
    return {note_id: codes for note_id, codes in gold.items() if note_split(note_id) == split}


def training_notes(
    gold: dict[int, set[str]], *, source: str = LABELS_REVIEWS
) -> list[ReviewedNote]:
    """What a run learns from: every labelled note but the held-out ones,
    with (for reviews) the suggestions coders rejected and the evidence they
    marked on the final codes."""
    kept = {k: v for k, v in gold.items() if note_split(k) != Split.HOLDOUT and v}
    texts = dict(Note.objects.filter(pk__in=list(kept)).values_list("pk", "text"))
    reviewed = source == LABELS_REVIEWS
    evidence = coder_evidence(kept) if reviewed else {}
    rejected = rejected_codes(kept) if reviewed else {}
    return [
        ReviewedNote(
            note_id=note_id,
            text=texts[note_id],
            codes=frozenset(codes),
            rejected=rejected.get(note_id, {}),
            evidence=evidence.get(note_id, {}),
        )
        for note_id, codes in sorted(kept.items())
        if note_id in texts
    ]


def rejected_codes(note_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Per note, the suggestions its latest submitted review rejected, with
    the reason."""
    wanted = Review.objects.filter(note_id__in=list(note_ids))
    note_of = dict(latest_submitted_reviews(wanted).values_list("pk", "note_id"))
    found: dict[int, dict[str, str]] = {}
    rows = Decision.objects.filter(
        review_id__in=list(note_of), action=Decision.Action.REJECT
    ).values_list("review_id", "code", "reason")
    for review_id, code, reason in rows.iterator(chunk_size=5000):
        found.setdefault(note_of[review_id], {})[code] = reason
    return found


def notes_with_text(note_ids: Iterable[int]) -> dict[int, str]:
    return dict(Note.objects.filter(Q(pk__in=list(note_ids))).values_list("pk", "text"))
