"""Prediction jobs, their chunks, and what a model said about each note."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from coding_app.jobs import Job


class PredictionJob(Job):
    """A run of one model version over a set of notes, split into chunks.

    ``batch`` empty means "every note without a prediction from this version"
    at the moment the job was planned.
    """

    model_version = models.ForeignKey(
        "worker.ModelVersion", on_delete=models.PROTECT, related_name="jobs"
    )
    batch = models.ForeignKey(
        "worker.UploadBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    chunk_size = models.PositiveIntegerField()
    notes_total = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Job {self.pk}: {self.model_version.name} ({self.get_status_display()})"


class PredictionChunk(Job):
    """The notes one Celery task predicts; redone as a whole if a worker dies.

    Redoing is safe: notes that already have a prediction from the version
    are skipped, and a prediction is unique per (note, version).
    """

    job = models.ForeignKey(PredictionJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    note_ids = ArrayField(models.BigIntegerField())
    attempts = models.PositiveIntegerField(default=0)
    # Notes another job had predicted before this chunk reached them.
    skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="prediction_chunk_unique_index")
        ]

    def __str__(self) -> str:
        return f"Job {self.job_id} chunk {self.index} ({self.status})"


class Prediction(models.Model):
    """What one model version said about one note: never two of them."""

    note = models.ForeignKey("worker.Note", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(
        "worker.ModelVersion", on_delete=models.PROTECT, related_name="predictions"
    )
    job = models.ForeignKey(
        PredictionJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    prompt_version = models.CharField(max_length=50, blank=True)
    reasoning = models.TextField(blank=True)
    raw_output = models.TextField(blank=True)
    # Why the output could not be read as codes (empty when it could).
    parse_problem = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["note", "model_version"], name="prediction_one_per_note_and_version"
            )
        ]
        indexes = [models.Index(fields=["job"], name="prediction_job_idx")]

    def __str__(self) -> str:
        return f"Prediction {self.pk} of note {self.note_id} by version {self.model_version_id}"


class Suggestion(models.Model):
    """One code of a prediction, ranked, with its evidence in the note.

    ``evidence`` is a list of ``[start, end]`` character offsets into the
    note's text. An invalid code is kept as the model wrote it with
    ``valid`` false and the reason in ``problem``: reviewers see it refused.
    """

    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="suggestions")
    rank = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    valid = models.BooleanField(default=True)
    problem = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["prediction", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "rank"], name="suggestion_unique_rank")
        ]

    def __str__(self) -> str:
        return f"{self.code} (rank {self.rank})"
