"""simulate_loop: reviews played from reference codes, a run per round."""

from __future__ import annotations

import pytest

from review.models import Decision, Review
from tests.training.run_support import coded_notes
from training.models import TrainingRun
from training.simulation import simulate_loop

pytestmark = pytest.mark.usefixtures("model_dir")


@pytest.mark.django_db
def test_each_round_reviews_by_reference_codes_then_retrains_and_evaluates() -> None:
    train = coded_notes(40, seed=3, phrasings=(0, 1))
    evaluation = coded_notes(20, seed=4, phrasings=(2,))
    lines: list[str] = []

    results = simulate_loop(
        train_notes=train, eval_notes=evaluation, rounds=2, steps=60, say=lines.append
    )

    assert [r.round for r in results] == [0, 1, 2]
    assert [r.reviewed for r in results] == [0, 20, 40]
    assert results[0].decision == "start"
    assert TrainingRun.objects.filter(status="done").count() == 2
    reviews = Review.objects.filter(status=Review.Status.SUBMITTED)
    assert reviews.count() == 40
    # The simulated coder's final codes are exactly each note's billable
    # reference codes.
    for review in reviews.select_related("note")[:10]:
        final = {d.final_code for d in Decision.objects.filter(review=review)} - {None}
        assert final == set(review.note.reference_codes)
    for result in results[1:]:
        assert result.decision in {"promoted", "admin", "kept"}
    assert results[-1].f1["code"] > results[0].f1["code"]
    assert len([line for line in lines if "rule:" in line]) == 2
