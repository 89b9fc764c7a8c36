"""Training runs, their evaluations and the periodic retraining schedule.

The lineage lives here, on the training side: a ``TrainingRun`` points at
the version it started from and the version it produced, so the worker's
registry never needs to know that training exists.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from coding_app.jobs import Job


class TrainingRun(Job):
    """One training job: what it trains from, how far it got, what it made.

    ``progress`` holds ``step``, ``total`` and a ``history`` list of
    ``{"step", "loss", "lr", "reward"}`` points for the loss curve; ``log``
    the lines the run wrote, kept when it fails.
    """

    class Method(models.TextChoices):
        HEAD = "head", "Head (embedding model, CPU)"
        SFT = "sft", "SFT (LLM, LoRA)"
        DPO = "dpo", "DPO (LLM, LoRA)"
        KTO = "kto", "KTO (LLM, LoRA)"
        GRPO = "grpo", "GRPO (LLM, LoRA, code-system reward)"

    method = models.CharField(max_length=10, choices=Method.choices)
    base_version = models.ForeignKey(
        "worker.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    # Empty: the run builds its training data from all reviews when it starts.
    snapshot = models.ForeignKey(
        "training.ExportSnapshot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_runs",
    )
    hyperparameters = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    progress = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    produced_version = models.OneToOneField(
        "worker.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="produced_by_run",
    )
    # Reviews submitted up to this moment are the run's training data; the
    # retraining schedule counts new reviews from the last run's cut-off.
    reviews_until = models.DateTimeField(null=True, blank=True)
    training_notes = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.method}, {self.status})"

    @property
    def percent(self) -> int:
        total = int(self.progress.get("total") or 0)
        step = int(self.progress.get("step") or 0)
        return min(100, round(100 * step / total)) if total else 0


class Evaluation(models.Model):
    """A candidate against the active version on the frozen held-out notes.

    ``scores`` maps ``candidate`` and ``active`` to the levels (chapter,
    category, code) and each level to its micro and macro F1, precision and
    recall; ``chapters`` maps each chapter to both versions' F1 and the
    change; ``disagreements`` lists the held-out notes where the two
    versions' code sets differ (note id, both sets, the gold set).
    """

    class Decision(models.TextChoices):
        PROMOTED = "promoted", "Promoted automatically"
        KEPT = "kept", "Not promoted"

    run = models.OneToOneField(TrainingRun, on_delete=models.CASCADE, related_name="evaluation")
    candidate = models.ForeignKey("worker.ModelVersion", on_delete=models.PROTECT, related_name="+")
    active = models.ForeignKey(
        "worker.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.PositiveIntegerField(default=0)
    scores = models.JSONField(default=dict)
    chapters = models.JSONField(default=dict)
    disagreements = models.JSONField(default=list)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # The rule as it was applied, in words and numbers (margin, drop limit,
    # the figures compared), so the page shows why.
    rule = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Evaluation of run {self.run_id} ({self.decision})"

    def level(self, side: str, level: str) -> dict[str, Any]:
        value: dict[str, Any] = self.scores.get(side, {}).get(level, {})
        return value


class RetrainSchedule(models.Model):
    """The one periodic retraining setting, edited by admins.

    A beat task looks at it every few minutes and starts a run of
    ``method`` when ``min_new_reviews`` reviews were submitted since the
    last run's cut-off and no run is waiting or running.
    """

    enabled = models.BooleanField(default=False)
    min_new_reviews = models.PositiveIntegerField(default=200)
    method = models.CharField(
        max_length=10, choices=TrainingRun.Method.choices, default=TrainingRun.Method.HEAD
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="retrain_schedule_single_row")
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"Retraining {state}: {self.method} after {self.min_new_reviews} reviews"
