"""Training and evaluation learn from the valid reference codes only, and
say how many flagged ones they left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.run_support import coded_notes
from training.labels import LABELS_REFERENCE, LeftOut, gold_codes, reference_codes_left_out
from training.models import TrainingRun
from training.runs.services import training_run_create, training_run_execute
from training.splits import Split, note_split
from worker.models import ModelVersion, Note, UploadBatch
from worker.uploads.services import upload_batch_create, upload_batch_run


def import_jsonl(tmp_path: Path, *rows: dict[str, object]) -> UploadBatch:
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    batch = upload_batch_create(
        source="flags",
        file_name=path.name,
        stored_path=path,
        mode=UploadBatch.Mode.GOOD_ROWS,
        created_by=None,
    )
    return upload_batch_run(batch_id=batch.pk, delete_files=False)


@pytest.mark.django_db
def test_reference_gold_sets_leave_the_flagged_codes_out(tmp_path: Path) -> None:
    batch = import_jsonl(
        tmp_path,
        {"id": "a", "text": "Fell at home; hypertension.", "codes": ["I10", "W19.XXX"]},
        {"id": "b", "text": "Injury of the bladder.", "codes": ["S37.29X"]},
        {"id": "c", "text": "Type 2 diabetes.", "codes": ["E11.65"]},
    )
    assert (batch.notes_created, batch.codes_flagged) == (3, 2)
    ids = dict(Note.objects.values_list("external_id", "pk"))

    gold = gold_codes(source=LABELS_REFERENCE)

    # b keeps its code on the note but has no valid one, so no gold set.
    assert gold == {ids["a"]: {"I10"}, ids["c"]: {"E1165"}}
    assert Note.objects.get(pk=ids["b"]).reference_codes == ["S37.29X"]
    assert reference_codes_left_out() == LeftOut(codes=2, notes=2)
    assert reference_codes_left_out(note_ids=[ids["a"], ids["c"]]) == LeftOut(codes=1, notes=1)
    assert gold_codes(source=LABELS_REFERENCE, note_ids=[ids["b"]]) == {}


@pytest.mark.django_db
@pytest.mark.usefixtures("model_dir")
def test_a_reference_run_says_how_many_codes_its_training_and_evaluation_left_out(
    zero_shot: ModelVersion,
) -> None:
    notes = coded_notes(40)
    flag = {"code": "W19.XXX", "reason": "unknown reference code", "nearest": "W19"}
    for note in notes:
        note.reference_codes = [*note.reference_codes, "W19.XXX"]
        note.reference_code_flags = [flag]
    Note.objects.bulk_update(notes, ["reference_codes", "reference_code_flags"])
    held_out = sum(note_split(n.pk) == Split.HOLDOUT for n in notes)
    assert 0 < held_out < len(notes)
    run = training_run_create(
        method="head",
        base_version=zero_shot,
        hyperparameters={"labels": LABELS_REFERENCE, "steps": 20},
        created_by=None,
        enqueue=False,
    )

    training_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE, run.error + run.log
    trained = len(notes) - held_out
    assert run.training_notes == trained
    assert (
        f"Training labels: {trained} reference codes on {trained} notes left out "
        "(flagged at import: not codes of the loaded release)"
    ) in run.log
    assert f"Evaluation gold: {held_out} reference codes on {held_out} notes left out" in run.log
    assert run.evaluation.notes == held_out
