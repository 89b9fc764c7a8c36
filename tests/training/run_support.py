"""Notes with reference codes and versions for the run tests (no tests here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.coding_app.test_codes_support import ensure_code_set_loaded
from tests.training.test_head_training import synthetic_notes
from training.splits import Split, note_split
from worker.models import ModelVersion, Note, UploadBatch
from worker.versions import zero_shot_version_ensure


@pytest.fixture(autouse=True)
def code_set(django_db_setup: None, django_db_blocker: object) -> None:
    ensure_code_set_loaded(django_db_blocker)


@pytest.fixture(autouse=True)
def model_dir(settings: Any, tmp_path: Path) -> Path:
    """Runs write under MODEL_DIR/runs; the code-index cache stays shared."""
    shared_cache = Path(settings.MODEL_DIR) / "cache"
    # On a fresh clone the shared cache does not exist yet: a link to nothing
    # cannot be written through, and every run test would embed the codes anew.
    shared_cache.mkdir(parents=True, exist_ok=True)
    settings.MODEL_DIR = tmp_path / "models"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cache").symlink_to(shared_cache.resolve(), target_is_directory=True)
    return tmp_path / "models"


def coded_notes(count: int, *, seed: int = 1, phrasings: tuple[int, ...] = (0, 1, 2)) -> list[Note]:
    """``count`` synthetic notes with their reference codes (the gold sets)."""
    batch = UploadBatch.objects.create(source="run-test", file_name="t.jsonl", status="done")
    made = synthetic_notes(count, phrasings, seed=seed)
    return Note.objects.bulk_create(
        Note(
            source="run-test", external_id=f"s{seed}-{i}", text=note.text,
            text_sha256=f"s{seed}-{i}", reference_codes=sorted(note.codes), batch=batch,
        )
        for i, note in enumerate(made)
    )  # fmt: skip


def with_holdout(count: int) -> list[Note]:
    """Notes enough that some of them fall on the held-out side."""
    notes = coded_notes(count)
    assert any(note_split(n.pk) == Split.HOLDOUT for n in notes)
    return notes


@pytest.fixture
def zero_shot(db: None) -> ModelVersion:
    return zero_shot_version_ensure()
