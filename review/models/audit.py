"""The audit trail: append-only, in the application and in the database.

The model refuses updates and deletes, and a trigger (migration 0002) refuses
them for any SQL client, so not even a bug or a shell session can rewrite
history. TRUNCATE, which only the database owner may run, is left to tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEventImmutable(Exception):
    pass


class AuditEvent(models.Model):
    class Kind(models.TextChoices):
        NOTE_VIEWED = "note_viewed", "Note viewed"
        DECISION_MADE = "decision_made", "Decision made"
        DECISION_CHANGED = "decision_changed", "Decision changed"
        DECISION_REMOVED = "decision_removed", "Decision removed"
        REVIEW_SUBMITTED = "review_submitted", "Review submitted"
        REVIEW_REOPENED = "review_reopened", "Review reopened"
        LEASE_TAKEN = "lease_taken", "Lease taken"
        LEASE_RELEASED = "lease_released", "Lease released"
        LEASE_EXPIRED = "lease_expired", "Lease expired"
        NOTE_REASSIGNED = "note_reassigned", "Note reassigned"
        # Reading is recorded too: who looked at statistics, notes and exports.
        STATS_VIEWED = "stats_viewed", "Statistics viewed"
        NOTE_OPENED_BY_AUDITOR = "note_opened_by_auditor", "Note opened by auditor"
        AUDIT_EXPORTED = "audit_exported", "Audit trail exported"
        EXPORT_CREATED = "export_created", "Export created"
        EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"
        EXPORT_VIEWED = "export_viewed", "Export viewed"
        TRAINING_RUN_STARTED = "training_run_started", "Training run started"
        TRAINING_RUN_CANCELLED = "training_run_cancelled", "Training run cancelled"
        MODEL_PROMOTED = "model_promoted", "Model version promoted"
        MODEL_ROLLED_BACK = "model_rolled_back", "Model version rolled back"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.ForeignKey(
        "worker.Note", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "review.ReviewTask", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review = models.ForeignKey(
        "review.Review", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The audit trail filtered by action, newest first.
            models.Index(fields=["kind", "-created_at"], name="audit_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditEventImmutable("Audit events are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("Audit events are never deleted.")
