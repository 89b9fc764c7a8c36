"""Export snapshots: one reproducible, auditable training-data file set.

A snapshot is written once, by a Celery task, into its own folder under
``settings.STORAGE_DIR / "exports"``; see ``training.exports`` for the
formats, the files in the folder and the rules that choose the rows.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from coding_app.jobs import Job


class ExportSnapshot(Job):
    """What was exported, from which filters, and the files it produced.

    ``files`` maps each file name in the folder to its ``rows``, ``bytes``
    and ``sha256``; ``sha256`` is the digest of the folder's ``SHA256SUMS``
    file, which lists every file with its own digest (so one value pins the
    whole snapshot, and ``sha256sum -c SHA256SUMS`` checks it on disk).
    ``manifest.txt`` in the folder holds the decision ids the snapshot was
    built from, one per line in the order of the rows: a file rather than a
    column, so a million ids cost nothing to the row.
    """

    class Kind(models.TextChoices):
        SFT = "sft", "SFT (messages)"
        DPO = "dpo", "Preference pairs (DPO)"
        KTO = "kto", "KTO (completion, label)"
        GRPO = "grpo", "GRPO prompts (gold codes)"
        AGREEMENT = "agreement", "Agreement report (CSV and JSON)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    filters = models.JSONField(default=dict, blank=True)
    code_release = models.ForeignKey(
        "coding_app.CodeRelease",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="export_snapshots",
    )
    row_counts = models.JSONField(default=dict, blank=True)
    decision_count = models.PositiveIntegerField(default=0)
    note_count = models.PositiveIntegerField(default=0)
    files = models.JSONField(default=dict, blank=True)
    directory = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_snapshots"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(sha256=""),
                name="export_done_has_sha256",
            )
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.kind}, {self.status})"

    @property
    def path(self) -> Path | None:
        """The snapshot's folder on disk, once written."""
        if not self.directory:
            return None
        return Path(settings.STORAGE_DIR) / self.directory
