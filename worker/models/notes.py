"""Clinical notes as they arrive from a source, before any model sees them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from django.db import models

MAX_EXTERNAL_ID = 255
MAX_SOURCE = 100


class ReferenceCodeFlag(TypedDict):
    """A reference code the release does not accept, kept on its note."""

    code: str  # as the source wrote it (trimmed)
    reason: str  # the import's message, naming the release
    nearest: str | None  # key of the nearest code of the release, if any


def reference_codes_valid(codes: Iterable[str], flags: Iterable[ReferenceCodeFlag]) -> list[str]:
    """The reference codes that are codes of the release: the flagged ones left out."""
    flagged = {flag["code"] for flag in flags}
    return [code for code in codes if code not in flagged]


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
    # The codes the source assigned, such as MIMIC-IV diagnoses_icd; the gold
    # standard for evaluation, not a review. Codes of the release are stored
    # as keys (upper case, no dot: E1165); any other code is kept as written
    # and also listed in reference_code_flags (why, and the nearest code), so
    # that training and evaluation read valid_reference_codes.
    reference_codes = models.JSONField(default=list, blank=True)
    reference_code_flags = models.JSONField(default=list, blank=True)
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

    @property
    def valid_reference_codes(self) -> list[str]:
        return reference_codes_valid(self.reference_codes, self.reference_code_flags)
