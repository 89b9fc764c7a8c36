"""What the training app writes into the core's audit trail: its kinds of
event, registered in ``TrainingConfig.ready``. Downloads use the core's
``CoreAuditKind.EXPORT_DOWNLOADED``, shared by every app that serves files."""

from __future__ import annotations

from django.db import models


class TrainingAuditKind(models.TextChoices):
    EXPORT_CREATED = "export_created", "Export created"
    EXPORT_VIEWED = "export_viewed", "Export viewed"
    TRAINING_RUN_STARTED = "training_run_started", "Training run started"
    TRAINING_RUN_CANCELLED = "training_run_cancelled", "Training run cancelled"
    MODEL_PROMOTED = "model_promoted", "Model version promoted"
    MODEL_ROLLED_BACK = "model_rolled_back", "Model version rolled back"
