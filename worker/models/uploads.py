"""An upload of a file of notes, its counts and the rows it turned away."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from coding_app.jobs import Job


class UploadBatch(Job):
    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "Reject the whole file on the first error"
        GOOD_ROWS = "good_rows", "Import the good rows, report the bad ones"

    source = models.CharField(max_length=100)
    file_name = models.CharField(max_length=255)
    diagnoses_file_name = models.CharField(max_length=255, blank=True)
    # Where the uploaded file waits for the worker; emptied once imported.
    stored_path = models.CharField(max_length=500, blank=True)
    stored_diagnoses_path = models.CharField(max_length=500, blank=True)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.GOOD_ROWS)
    rows_read = models.PositiveIntegerField(default=0)
    notes_created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # Reference codes the release does not accept, on notes that were imported.
    codes_flagged = models.PositiveIntegerField(default=0)
    text_repeats = models.PositiveIntegerField(default=0)
    icd9_skipped = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "upload batches"

    def __str__(self) -> str:
        return f"{self.file_name} → {self.source} ({self.get_status_display()})"


class RejectedRow(models.Model):
    """A row that was not imported, and why, in words the uploader can act on.

    Duplicates are listed too (kind DUPLICATE) so the uploader sees which ids
    were already there; they are not counted as rejected. So is each flagged
    reference code (kind FLAGGED): its note was imported, the code is kept on
    it and left out of training and evaluation.
    """

    class Kind(models.TextChoices):
        INVALID = "invalid", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"
        FLAGGED = "flagged", "Code flagged"

    batch = models.ForeignKey(UploadBatch, on_delete=models.CASCADE, related_name="rejected_rows")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INVALID)
    file_name = models.CharField(max_length=255)
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=100)
    external_id = models.CharField(max_length=255, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["batch", "pk"]

    def __str__(self) -> str:
        return f"{self.file_name} row {self.row_number}, {self.field}: {self.reason}"
