"""simulate_loop: reviews played from reference codes, a run per round."""

from __future__ import annotations

import pytest

from review.models import Decision, Review
from tests.training.run_support import coded_notes
from training.models import TrainingRun
from training.simulation import (
    LEVELS,
    TABLE_HEADER,
    RoundResult,
    loop_summary,
    round_rows,
    simulate_loop,
)

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
    for result in results:
        for level in LEVELS:
            assert {"precision_micro", "recall_micro", "f1_micro", "map"} <= set(
                result.scores[level]
            )
    # One table row a level a round, its figures those of the result.
    rows = [row for line in lines if "rule:" not in line for row in line.splitlines()]
    assert len(rows) == 3 * len(results)
    code_row = rows[-1].split()
    assert code_row[0] == "code"
    last = results[-1].scores["code"]
    assert code_row[1:6] == [
        f"{last[key]:.3f}"
        for key in ("precision_micro", "recall_micro", "f1_micro", "f1_macro", "map")
    ]


def _result(number: int, value: float) -> RoundResult:
    scores = {
        level: {
            "precision_micro": value + 0.1,
            "recall_micro": value + 0.2,
            "f1_micro": value,
            "f1_macro": value / 2,
            "map": value + 0.3,
        }
        for level in LEVELS
    }
    return RoundResult(number, number * 10, f"v{number}", scores, number > 0)


def test_the_summary_keeps_the_f1_keys_and_adds_precision_recall_and_map() -> None:
    summary = loop_summary([_result(0, 0.1), _result(1, 0.2), _result(2, 0.4)])
    for level in LEVELS:
        assert summary[f"{level}_f1_start"] == 0.1
        assert summary[f"{level}_f1_end"] == 0.4
    assert summary["code_map_end"] == pytest.approx(0.7)
    assert summary["code_precision_end"] == pytest.approx(0.5)
    assert summary["code_recall_end"] == pytest.approx(0.6)
    assert summary["category_precision_end"] == pytest.approx(0.5)
    assert summary["category_map_end"] == pytest.approx(0.7)
    assert summary["code_f1_macro_start"] == pytest.approx(0.05)


def test_each_figure_sits_under_its_heading() -> None:
    heading = TABLE_HEADER.splitlines()[0]
    lines = round_rows(_result(1, 0.25)).splitlines()
    at = heading.index("level")
    assert [line[at:].split()[0] for line in lines] == list(LEVELS)
    # Figures are right-aligned: each ends where its heading ends.
    for name, value in (("precision", "0.350"), ("recall", "0.450"), ("MAP", "0.550")):
        end = heading.index(name) + len(name)
        assert [line[end - len(value) : end] for line in lines] == [value] * 3
    # The round's own columns only once, on its first row.
    assert lines[0].split()[:2] == ["1", "10"]
    assert lines[0].split()[-2:] == ["start", "v1"]
    assert [line[:at].strip() for line in lines[1:]] == ["", ""]
