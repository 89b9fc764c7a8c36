"""The upload's Celery task, on the ``default`` queue: ids in, one service call."""

from __future__ import annotations

from celery import shared_task


@shared_task
def import_upload_task(batch_id: int) -> None:
    from worker.uploads.services import upload_batch_run  # tasks stay adapters

    upload_batch_run(batch_id=batch_id, delete_files=True)
