"""Notes with reference codes and versions for the run tests (no tests here)."""

from __future__ import annotations

from tests.worker.synthetic_corpus import synthetic_notes
from training.splits import Split, note_split
from worker.models import Note, UploadBatch


def coded_notes(count: int, *, seed: int = 1, phrasings: tuple[int, ...] = (0, 1, 2)) -> list[Note]:
    """``count`` synthetic notes with their reference codes (the gold sets)."""
    batch = UploadBatch.objects.create(source="run-test", file_name="t.jsonl", status="done")
    made = synthetic_notes(count, phrasings, seed=seed)
    return Note.objects.bulk_create(
        Note(
            source="run-test",
            external_id=f"s{seed}-{i}",
            text=note.text,
            text_sha256=f"s{seed}-{i}",
            reference_codes=sorted(note.codes),
            batch=batch,
        )
        for i, note in enumerate(made)
    )


def with_holdout(count: int) -> list[Note]:
    """Notes enough that some of them fall on the held-out side."""
    notes = coded_notes(count)
    assert any(note_split(n.pk) == Split.HOLDOUT for n in notes)
    return notes
