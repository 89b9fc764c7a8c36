"""What the worker app writes into the core's audit trail: its kinds of
event, registered in ``WorkerConfig.ready``."""

from __future__ import annotations

from django.db import models


class WorkerAuditKind(models.TextChoices):
    # An admin sent a failed prediction chunk back to the queue.
    PREDICTION_CHUNK_RETRIED = "prediction_chunk_retried", "Prediction chunk retried"
