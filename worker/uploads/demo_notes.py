"""Demo notes for the embedded mode: real coded case reports, predicted once.

The first start of ``make run`` imports the CodiEsp case reports shipped in
``demo_data/codiesp/`` (CC BY 4.0; see its LICENSE.txt) through the one import
service, exactly as an admin's upload would go: all 750 are imported, and
the codes that the loaded release does not know (CodiEsp's ``S37.29X``
without a 7th character) are flagged on their notes. It then queues a
prediction job with the active embedding model, so that coders find a queue
the first time they open the desk. Later starts find the notes and do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from worker.models import UploadBatch
from worker.predictions.services import NothingToPredict, prediction_job_create
from worker.registry.versions import zero_shot_version_ensure
from worker.uploads.services import upload_batch_create, upload_batch_run
from worker.uploads.summary import upload_summary

DEMO_SOURCE = "codiesp"
# The CodiEsp reports as data (the loop simulation and the benches read them);
# what `make run` imports is ``settings.DEMO_NOTES_FILE``, this file by default.
DEMO_FILE = Path(settings.BASE_DIR) / "demo_data" / "codiesp" / "codiesp-train-dev.jsonl"


@dataclass(frozen=True)
class DemoNotes:
    imported: str  # the upload summary, or why nothing was imported
    job_id: int | None


def demo_notes_ensure(path: Path | None = None) -> DemoNotes:
    """Import the demo notes (``settings.DEMO_NOTES_FILE`` unless ``path``)
    once and queue their predictions."""
    path = path or Path(settings.DEMO_NOTES_FILE)
    done = UploadBatch.objects.filter(source=DEMO_SOURCE, status=UploadBatch.Status.DONE).first()
    if done is not None:
        imported = f"Demo notes already imported ({done.notes_created:,} notes)."
    else:
        batch = upload_batch_create(
            source=DEMO_SOURCE,
            file_name=path.name,
            stored_path=path,
            mode=UploadBatch.Mode.GOOD_ROWS,
            created_by=None,
        )
        imported = upload_summary(upload_batch_run(batch_id=batch.pk, delete_files=False))
    try:
        job = prediction_job_create(version=zero_shot_version_ensure())
    except NothingToPredict:
        return DemoNotes(imported, None)
    return DemoNotes(imported, job.pk)
