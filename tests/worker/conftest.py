"""Fixtures for the notes side: run a file through the one import service."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.coding_app.test_codes_support import ensure_code_set_loaded
from worker.models import UploadBatch
from worker.uploads.services import upload_batch_create, upload_batch_run

ImportPath = Callable[..., UploadBatch]
ImportFile = Callable[..., UploadBatch]


@pytest.fixture(autouse=True)
def code_set(django_db_setup: None, django_db_blocker: object) -> None:
    """Reference codes and predictions are checked against the loaded release.

    A transactional test empties every table when it ends; the release is
    then loaded again for the next test that needs it.
    """
    ensure_code_set_loaded(django_db_blocker)


@pytest.fixture
def import_path(db: None) -> ImportPath:
    """Import a file on disk as the command does."""

    def run(
        path: Path,
        *,
        source: str = "test-source",
        mode: UploadBatch.Mode = UploadBatch.Mode.GOOD_ROWS,
        diagnoses_path: Path | None = None,
    ) -> UploadBatch:
        batch = upload_batch_create(
            source=source,
            file_name=path.name,
            stored_path=path,
            mode=mode,
            created_by=None,
            diagnoses_file_name=diagnoses_path.name if diagnoses_path else "",
            stored_diagnoses_path=diagnoses_path,
        )
        return upload_batch_run(batch_id=batch.pk, delete_files=False)

    return run


@pytest.fixture
def import_file(import_path: ImportPath, tmp_path: Path) -> ImportFile:
    """Write ``content`` to a file called ``name`` and import it."""

    def run(
        name: str,
        content: bytes,
        *,
        diagnoses: tuple[str, bytes] | None = None,
        **options: object,
    ) -> UploadBatch:
        path = tmp_path / name
        path.write_bytes(content)
        diagnoses_path = None
        if diagnoses is not None:
            diagnoses_path = tmp_path / diagnoses[0]
            diagnoses_path.write_bytes(diagnoses[1])
        return import_path(path, diagnoses_path=diagnoses_path, **options)

    return run


CLINICAL_LINES = (
    "Known type 2 diabetes mellitus with hyperglycemia, on metformin.",
    "Essential hypertension, treated with enalapril.",
    "Chest pain; troponin rising, diagnosed with acute myocardial infarction.",
    "Community-acquired pneumonia of the right lower lobe on chest x-ray.",
    "Chronic obstructive pulmonary disease with acute exacerbation.",
    "Iron deficiency anemia secondary to chronic blood loss.",
    "Urinary tract infection with Escherichia coli in the urine culture.",
    "Major depressive disorder, single episode, moderate.",
)


def clinical_notes_jsonl(count: int, *, prefix: str = "note") -> bytes:
    """``count`` short notes, each two clinical lines, as a JSONL upload."""
    lines = []
    for number in range(count):
        first = CLINICAL_LINES[number % len(CLINICAL_LINES)]
        second = CLINICAL_LINES[(number * 3 + 1) % len(CLINICAL_LINES)]
        text = f"Visit {number}.\n{first}\n{second}"
        lines.append(json.dumps({"id": f"{prefix}-{number}", "text": text}))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def clinical_batch(import_file: ImportFile) -> Callable[..., UploadBatch]:
    def make(count: int, *, prefix: str = "note") -> UploadBatch:
        batch = import_file(f"{prefix}.jsonl", clinical_notes_jsonl(count, prefix=prefix))
        assert batch.notes_created == count, batch.error
        return batch

    return make
