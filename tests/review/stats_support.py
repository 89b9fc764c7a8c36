"""Hand-made submitted reviews for the statistics tests (this module holds no tests).

Reviews are written straight to the tables, as the desk would have left
them after submission: the statistics read the tables, not the desk's flow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.utils import timezone

from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.models import Decision, Review, ReviewTask
from tests.review.conftest import predicted_notes, prediction_of
from worker.models import ModelVersion, Note, Suggestion

MONDAY = timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0))

# What a coder did with a suggested code: "accept", "reject" or the code
# that replaced it.
Choice = str


def note_with(codes: Sequence[str], *, version: ModelVersion | None = None, prefix: str) -> Note:
    return predicted_notes(1, codes=codes, version=version, prefix=prefix)[0]


def review_submit(
    note: Note,
    coder: User,
    choices: Mapping[str, Choice] | None = None,
    *,
    added: Sequence[str] = (),
    slot: int = 1,
    seconds: float = 60.0,
    at: dt.datetime = MONDAY,
) -> Review:
    """A submitted review of ``note``: each suggestion accepted unless
    ``choices`` says otherwise, plus ``added`` codes."""
    choices = choices or {}
    prediction = prediction_of(note)
    task, _ = ReviewTask.objects.get_or_create(
        prediction=prediction,
        slot=slot,
        defaults={"note": note, "state": ReviewTask.State.DONE, "double_coded": slot == 2},
    )
    if slot == 2:
        ReviewTask.objects.filter(prediction=prediction).update(double_coded=True)
    review = Review.objects.create(
        task=task,
        coder=coder,
        note=note,
        prediction=prediction,
        model_version_id=prediction.model_version_id,
        status=Review.Status.SUBMITTED,
        seconds_on_task=seconds,
        submitted_at=at,
    )
    hierarchy = current_hierarchy()
    decisions = []
    for suggestion in Suggestion.objects.filter(prediction=prediction).order_by("rank"):
        choice = choices.get(suggestion.code, "accept")
        if choice == "accept":
            decisions.append(
                Decision(
                    review=review, suggestion=suggestion, action="accept", code=suggestion.code
                )
            )
        elif choice == "reject":
            decisions.append(
                Decision(
                    review=review,
                    suggestion=suggestion,
                    action="reject",
                    code=suggestion.code,
                    reason="not_documented",
                )
            )
        else:
            relation = str(hierarchy.relation(suggestion.code, choice))
            decisions.append(
                Decision(
                    review=review,
                    suggestion=suggestion,
                    action="replace",
                    code=suggestion.code,
                    replacement=choice,
                    relation=relation,
                )
            )
    decisions += [Decision(review=review, action="add", code=code) for code in added]
    Decision.objects.bulk_create(decisions)
    return review
