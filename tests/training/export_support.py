"""Hand-made reviews for the export tests (this module holds no tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.utils import timezone

from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.models import Decision, Review, ReviewTask
from tests.review.conftest import DEFAULT_CODES, predicted_notes
from training.splits import Split, note_split
from worker.models import ModelVersion, Note, Prediction

REASONING = "The note documents diabetes with hyperglycemia and hypertension."

# What a coder does with a suggested code: ("accept",), ("reject",) or
# ("replace", "E1169").
Choice = tuple[str, ...]


def note_in(
    split: Split,
    *,
    codes: Sequence[str] = DEFAULT_CODES,
    version: ModelVersion | None = None,
    prefix: str = "x",
) -> Note:
    """A predicted note whose id falls on ``split`` (others made on the way
    stay unreviewed, so no export reads them)."""
    for attempt in range(300):
        (note,) = predicted_notes(1, codes=codes, version=version, prefix=f"{prefix}{attempt}")
        if note_split(note.pk) is split:
            return note
    raise AssertionError(f"no note landed on {split} in 300 tries")


def review_make(
    note: Note,
    coder: User,
    choices: Mapping[str, Choice] | None = None,
    *,
    added: Sequence[str] = (),
    comment: str = "",
    slot: int = 1,
    submitted: bool = True,
    submitted_at: dt.datetime | None = None,
) -> Review:
    """A review of the note's prediction; suggestions not in ``choices`` are
    accepted."""
    prediction = Prediction.objects.get(note=note)
    task, _ = ReviewTask.objects.get_or_create(
        prediction=prediction, slot=slot, defaults={"note": note, "double_coded": slot == 2}
    )
    if slot == 2:
        ReviewTask.objects.filter(prediction=prediction).update(double_coded=True)
    review = Review.objects.create(
        task=task,
        coder=coder,
        note=note,
        prediction=prediction,
        model_version=prediction.model_version,
        status=Review.Status.SUBMITTED if submitted else Review.Status.DRAFT,
        submitted_at=(submitted_at or timezone.now()) if submitted else None,
        comment=comment,
    )
    hierarchy = current_hierarchy()
    for suggestion in prediction.suggestions.order_by("rank"):
        choice = (choices or {}).get(suggestion.code, ("accept",))
        fields: dict[str, str] = {}
        if choice[0] == "reject":
            fields = {"reason": Decision.Reason.NOT_DOCUMENTED}
        elif choice[0] == "replace":
            fields = {
                "replacement": choice[1],
                "relation": str(hierarchy.relation(suggestion.code, choice[1])),
                "reason": Decision.Reason.WRONG_SPECIFICITY,
            }
        Decision.objects.create(
            review=review, suggestion=suggestion, action=choice[0], code=suggestion.code, **fields
        )
    for code in added:
        Decision.objects.create(review=review, action=Decision.Action.ADD, code=code)
    return review


def decision_ids(*reviews: Review) -> list[int]:
    return [
        pk
        for review in reviews
        for pk in review.decisions.order_by("pk").values_list("pk", flat=True)
    ]
