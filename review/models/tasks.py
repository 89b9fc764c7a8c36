"""The work queue: one task per note and coding slot, leased to one coder at a time."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReviewTask(models.Model):
    """A note's prediction waiting for (or in) review by one coder.

    A note chosen for blind double coding has two tasks (slots 1 and 2) that
    two different coders take independently. A lease (``leased_by`` until
    ``lease_expires_at``) keeps a task to one coder while the page is open;
    an expired lease is free for the next coder who asks.
    """

    class State(models.TextChoices):
        OPEN = "open", "Waiting"
        LEASED = "leased", "In review"
        DONE = "done", "Reviewed"

    note = models.ForeignKey("worker.Note", on_delete=models.PROTECT, related_name="review_tasks")
    prediction = models.ForeignKey(
        "worker.Prediction", on_delete=models.PROTECT, related_name="review_tasks"
    )
    slot = models.PositiveSmallIntegerField(default=1)
    double_coded = models.BooleanField(default=False)
    priority = models.SmallIntegerField(default=0)
    # The lowest score among the suggestions (null when the model gives
    # none): "least confident first" orders by it.
    confidence = models.FloatField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    leased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "slot"], name="review_task_one_per_slot"),
            models.CheckConstraint(condition=models.Q(slot__in=[1, 2]), name="review_task_slot"),
            models.CheckConstraint(
                condition=~models.Q(state="leased")
                | models.Q(leased_by__isnull=False, lease_expires_at__isnull=False),
                name="review_task_lease_has_holder",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-priority", "created_at"], name="review_task_queue_idx")
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}: note {self.note_id} slot {self.slot} ({self.state})"
