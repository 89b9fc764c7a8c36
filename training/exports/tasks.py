"""The export's Celery task. Its name matches no route of
``coding_app.celery``, so it goes to the ``default`` queue; it is registered
by ``TrainingConfig.ready``, since Celery only discovers ``training.tasks``."""

from __future__ import annotations

from celery import shared_task


@shared_task
def export_snapshot_write_task(snapshot_id: int) -> None:
    """Safe to run twice: a snapshot already done or failed is left alone."""
    from training.exports.services import export_snapshot_write  # tasks stay adapters

    export_snapshot_write(snapshot_id=snapshot_id)
