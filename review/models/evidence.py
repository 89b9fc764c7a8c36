"""The words of a note a coder marked as evidence for one of their codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length


class EvidenceSpan(models.Model):
    """Characters ``start`` to ``end`` of the note, evidence for the
    decision's final code (the accepted, replacing or added one).

    ``text`` is the note's own ``text[start:end]``, copied so an export or a
    lexicon reads the words without the note; the check constraint keeps
    its length equal to the span's.
    """

    decision = models.ForeignKey(
        "review.Decision", on_delete=models.CASCADE, related_name="evidence_spans"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["decision", "start", "end", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "start", "end"], name="evidence_span_once_per_decision"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="evidence_span_not_empty"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")),
                name="evidence_span_text_fits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start}-{self.end} “{self.text[:40]}” for decision {self.decision_id}"
