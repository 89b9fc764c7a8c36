"""Clinical notes as they arrive from a source, before any model sees them."""

from __future__ import annotations

from django.db import models

MAX_EXTERNAL_ID = 255
MAX_SOURCE = 100


class Note(models.Model):
    """One note; ``external_id`` is the source's own id and unique within it.

    ``text_sha256`` finds the same text under another id (a re-export, a copy
    pasted twice); such a note is imported all the same and marked
    ``text_seen_before`` so that reviewers and dataset exports can tell.
    """

    source = models.CharField(max_length=MAX_SOURCE)
    external_id = models.CharField(max_length=MAX_EXTERNAL_ID)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64, db_index=True)
    text_seen_before = models.BooleanField(default=False)
    # Code keys (upper case, no dot: E1165) that the source assigned, such as
    # MIMIC-IV diagnoses_icd; the gold standard for evaluation, not a review.
    reference_codes = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey("worker.UploadBatch", on_delete=models.PROTECT, related_name="notes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="note_unique_external_id_per_source"
            ),
            models.CheckConstraint(
                condition=~models.Q(external_id=""), name="note_external_id_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
