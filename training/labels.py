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
from datetime import datetime

from django.db.models import Q

from review.desk.selectors import latest_submitted_reviews
from review.final_codes import decision_final_code
from review.models import Decision, Review
from training.splits import Split, note_split
from worker.backends.embedding.head_fit import LabelledNote
from worker.models import Note

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
    return {
        note_id: set(codes)
        for note_id, codes in notes.values_list("pk", "reference_codes").iterator(chunk_size=2000)
    }


def split_gold(gold: dict[int, set[str]], split: Split) -> dict[int, set[str]]:
    return {note_id: codes for note_id, codes in gold.items() if note_split(note_id) == split}


def training_notes(gold: dict[int, set[str]]) -> list[LabelledNote]:
    """Labelled notes for training: every side but the held-out one."""
    kept = {k: v for k, v in gold.items() if note_split(k) != Split.HOLDOUT and v}
    texts = dict(Note.objects.filter(pk__in=list(kept)).values_list("pk", "text"))
    return [
        LabelledNote(note_id=note_id, text=texts[note_id], codes=frozenset(codes))
        for note_id, codes in sorted(kept.items())
        if note_id in texts
    ]


def notes_with_text(note_ids: Iterable[int]) -> dict[int, str]:
    return dict(Note.objects.filter(Q(pk__in=list(note_ids))).values_list("pk", "text"))
