"""Head runs: train, register a candidate, evaluate on held-out notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from coding_app.models import AuditEvent
from tests.training.run_support import coded_notes
from training.events import TrainingAuditKind
from training.models import Evaluation, TrainingRun
from training.runs.evaluation import SCORE_KEYS
from training.runs.services import (
    TRAINING_LOCK_KEY,
    TrainingBusy,
    training_run_create,
    training_run_execute,
)
from training.splits import Split, note_split
from worker.backends.base import NoteText
from worker.backends.loading import backend_for
from worker.models import ModelVersion

pytestmark = pytest.mark.usefixtures("model_dir")


QUICK = {"labels": "reference", "steps": 60}


def run_head(version: ModelVersion, **hyper: object) -> TrainingRun:
    run = training_run_create(
        method="head",
        base_version=version,
        hyperparameters={**QUICK, **hyper},
        created_by=None,
        enqueue=False,
    )
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_a_head_run_registers_a_candidate_and_evaluates_it_on_held_out_notes(
    zero_shot: ModelVersion, model_dir: Path
) -> None:
    notes = coded_notes(80)
    held_out = {n.pk for n in notes if note_split(n.pk) == Split.HOLDOUT}
    assert held_out, "the test needs held-out notes"

    run = run_head(zero_shot)

    assert run.status == TrainingRun.Status.DONE, run.error + run.log
    assert run.training_notes == len(notes) - len(held_out)
    # Reading mentions, zero-shot similarity, five cross-fitting folds, the ranker.
    assert run.progress["step"] == run.progress["total"] == 8
    assert "on held-out folds precision" in run.log
    version = run.produced_version
    assert version is not None
    assert version.parent == zero_shot
    assert version.backend == "embedding"
    assert Path(version.adapter_path).is_relative_to(model_dir / "runs" / str(run.pk))
    assert (Path(version.adapter_path) / "suggester.json").is_file()
    evaluation = Evaluation.objects.get(run=run)
    assert evaluation.notes == len(held_out)
    assert set(evaluation.scores) == {"candidate", "active"}
    assert set(evaluation.scores["candidate"]) == {"chapter", "category", "code"}
    for side in ("candidate", "active"):
        for level in evaluation.scores[side].values():
            assert set(level) == set(SCORE_KEYS)
            assert all(0.0 <= value <= 1.0 for value in level.values())
    assert evaluation.scores["candidate"]["code"]["map"] > 0.0
    assert {d["note"] for d in evaluation.disagreements} <= held_out
    assert "margin" in evaluation.rule
    assert evaluation.rule["why"]
    promoted = evaluation.decision == Evaluation.Decision.PROMOTED
    assert promoted == (evaluation.rule["gain"] >= evaluation.rule["margin"])
    assert version.status == ("active" if promoted else "candidate")
    assert AuditEvent.objects.filter(kind=TrainingAuditKind.MODEL_PROMOTED).count() == promoted
    # The backend loads the candidate's head and predicts with it.
    prediction = backend_for(version).predict([NoteText(1, notes[0].text)])[0]
    assert prediction.codes
    # Its ranked list (for MAP) runs past the suggestions, best first.
    scores = [score for _, score in prediction.ranked]
    assert len(prediction.ranked) > len(prediction.codes)
    assert scores == sorted(scores, reverse=True)
    assert set(prediction.suggested_codes()) <= set(prediction.ranked_codes())
    assert '"recipe":"embedding-v3"' in prediction.raw_output
    assert all(code.rationale for code in prediction.codes)
    assert AuditEvent.objects.filter(kind=TrainingAuditKind.TRAINING_RUN_STARTED).count() == 1


@pytest.mark.django_db
def test_with_automatic_promotion_off_the_candidate_waits_for_an_admin(
    zero_shot: ModelVersion, settings: Any
) -> None:
    settings.PROMOTION_AUTOMATIC = False
    coded_notes(40)
    run = run_head(zero_shot)
    assert run.produced_version is not None
    assert run.produced_version.status == ModelVersion.Status.CANDIDATE
    assert run.evaluation.decision == Evaluation.Decision.KEPT
    assert "an admin decides" in run.evaluation.rule["why"]
    assert ModelVersion.objects.get(status="active") == zero_shot


@pytest.mark.django_db
def test_a_run_delivered_twice_trains_once(zero_shot: ModelVersion) -> None:
    coded_notes(30)
    run = run_head(zero_shot)
    training_run_execute(run_id=run.pk)
    assert ModelVersion.objects.filter(backend="embedding").count() == 2
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.DONE


@pytest.mark.django_db
def test_a_failing_run_keeps_its_log_and_leaves_the_active_version_untouched(
    zero_shot: ModelVersion,
) -> None:

    coded_notes(10)
    # No coder has reviewed anything, so there is nothing to learn from.
    run = run_head(zero_shot, labels="reviews")
    assert run.status == TrainingRun.Status.FAILED
    assert "NotEnoughExamples" in run.error
    assert "0 reviewed note(s) with codes" in run.error
    assert f"Run {run.pk}: head from minilm-zero-shot" in run.log
    assert "Traceback" in run.log
    assert run.produced_version is None
    active = ModelVersion.objects.get(backend="embedding", status="active")
    assert active == zero_shot


@pytest.mark.django_db
def test_a_run_waits_while_another_holds_the_training_lock(zero_shot: ModelVersion) -> None:
    coded_notes(10)
    run = training_run_create(
        method="head",
        base_version=zero_shot,
        hyperparameters=QUICK,
        created_by=None,
        enqueue=False,
    )
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [TRAINING_LOCK_KEY])
        with pytest.raises(TrainingBusy):
            training_run_execute(run_id=run.pk)
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.QUEUED
    training_run_execute(run_id=run.pk)
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.DONE
