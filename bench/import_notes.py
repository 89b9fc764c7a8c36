"""Import 10,000 notes of about 2 KB through the import service and time it.

Run from the repository root with DATABASE_URL and REDIS_URL set, after
``manage.py migrate``. Uses a throwaway source and deletes what it made.
The last line printed is one JSON object: {"notes": 10000, "seconds": ...}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

NOTES = 10_000
SENTENCE = "Patient seen for follow-up of type 2 diabetes with hyperglycemia; "


def write_file(path: Path) -> int:
    with path.open("w") as out:
        for i in range(NOTES):
            text = f"Note {i}. " + SENTENCE * 30  # about 2 KB
            out.write(json.dumps({"id": f"bench-{i}", "text": text, "codes": ["E11.65"]}) + "\n")
    return path.stat().st_size


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    import django

    django.setup()
    from worker.models import Note, UploadBatch
    from worker.uploads.services import upload_batch_create, upload_batch_run

    source = f"bench-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        size = write_file(path)
        batch = upload_batch_create(
            source=source,
            file_name=path.name,
            stored_path=path,
            mode=UploadBatch.Mode.ALL_OR_NOTHING,
            created_by=None,
        )
        started = time.perf_counter()
        batch = upload_batch_run(batch_id=batch.pk, delete_files=False)
        seconds = time.perf_counter() - started
    try:
        assert batch.notes_created == NOTES, batch.error
        rows = [
            ("notes", f"{batch.notes_created:,}"),
            ("file size", f"{size / 1e6:.1f} MB"),
            ("seconds", f"{seconds:.2f}"),
            ("notes per second", f"{NOTES / seconds:,.0f}"),
        ]
        for label, value in rows:
            print(f"{label:<18}{value:>12}")
    finally:
        Note.objects.filter(source=source).delete()
        UploadBatch.objects.filter(pk=batch.pk).delete()
    print(json.dumps({"notes": NOTES, "seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
