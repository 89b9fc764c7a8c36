"""Fixtures for the desk: notes with a stored prediction of the active model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from tests.coding_app.test_codes_support import ensure_code_set_loaded
from worker.backends.base import NotePrediction, SuggestedCode
from worker.models import ModelVersion, Note, Prediction, UploadBatch
from worker.predictions.services import predictions_store
from worker.registry.versions import zero_shot_version_ensure

DEFAULT_CODES = ("E1165", "I10", "E119")
NOTE_TEXT = (
    "Known type 2 diabetes mellitus with hyperglycemia.\n"
    "Essential hypertension, on enalapril.\n"
    "Follow-up in three months."
)


@pytest.fixture(autouse=True)
def code_set(django_db_setup: None, django_db_blocker: object) -> None:
    ensure_code_set_loaded(django_db_blocker)


MakeNotes = Callable[..., list[Note]]


def predicted_notes(
    count: int,
    *,
    codes: Sequence[str] = DEFAULT_CODES,
    version: ModelVersion | None = None,
    prefix: str = "n",
    scores: Sequence[float] | None = None,
) -> list[Note]:
    """``count`` notes, each predicted by ``version`` (the active one) with ``codes``."""
    version = version or zero_shot_version_ensure()
    batch = UploadBatch.objects.create(
        source="desk-test",
        file_name="test.jsonl",
        status="done",
        rows_read=count,
        notes_created=count,
    )
    notes = Note.objects.bulk_create(
        Note(
            source="desk-test",
            external_id=f"{prefix}-{i}",
            text=NOTE_TEXT,
            text_sha256=f"{prefix}{i}",
            batch=batch,
        )
        for i in range(count)
    )
    predictions = [
        NotePrediction(
            note_id=note.pk,
            codes=tuple(
                SuggestedCode(
                    code=code,
                    score=(scores[i] if scores else 0.9 - rank * 0.1),
                    evidence=((0, 50),),
                    rationale=f"Suggested because of line {rank + 1}.",
                )
                for rank, code in enumerate(codes)
            ),
            reasoning="The note documents diabetes with hyperglycemia and hypertension.",
            raw_output="{}",
            prompt_version="test-v1",
        )
        for i, note in enumerate(notes)
    ]
    predictions_store(predictions, version=version, job=None)
    return notes


@pytest.fixture
def make_notes(db: None) -> MakeNotes:
    return predicted_notes


def prediction_of(note: Note) -> Prediction:
    return Prediction.objects.get(note=note)
