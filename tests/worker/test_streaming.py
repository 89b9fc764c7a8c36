"""A large file is read a chunk at a time: memory does not grow with its size."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from worker.models import Note

from .conftest import ImportPath

NOTE_TEXT = "Patient admitted with chest pain radiating to the left arm. " * 34  # ~2 KB


def write_notes(path: Path, count: int) -> None:
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps({"id": f"n{i}", "text": f"{i} {NOTE_TEXT}"}) + "\n")


def test_memory_stays_flat_as_the_file_grows(import_path: ImportPath, tmp_path: Path) -> None:
    peaks: dict[int, int] = {}
    for count in (4_000, 16_000):  # about 8 MB and 33 MB
        path = tmp_path / f"notes-{count}.jsonl"
        write_notes(path, count)
        tracemalloc.start()
        batch = import_path(path, source=f"size-{count}")
        _, peaks[count] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert batch.notes_created == count
    size = (tmp_path / "notes-16000.jsonl").stat().st_size
    assert size > 30_000_000
    # Four times the notes, about the same peak: chunks, not the file.
    assert peaks[16_000] < peaks[4_000] * 1.5
    assert peaks[16_000] < size / 3
    assert Note.objects.count() == 20_000
