"""A coder's review of one prediction, and a decision per suggested or added code."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from coding_app.codes.hierarchy import Relation
from review.final_codes import decision_final_code


class Review(models.Model):
    """One coder's work on one task: a draft while it lasts, then submitted.

    ``version`` goes up with every change; a write that carries an older
    version than the stored one was made from a stale page and is refused.
    ``seconds_on_task`` adds up the time the page was open and active, as
    reported by its heartbeat, so a tab left overnight does not count.
    ``no_codable_diagnosis`` is the coder's confirmation, asked for when a
    review is submitted without a final code, that the note documents no
    codable diagnosis: an empty code list on purpose, not by a slip.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    task = models.ForeignKey("review.ReviewTask", on_delete=models.PROTECT, related_name="reviews")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    note = models.ForeignKey("worker.Note", on_delete=models.PROTECT, related_name="reviews")
    prediction = models.ForeignKey(
        "worker.Prediction", on_delete=models.PROTECT, related_name="reviews"
    )
    model_version = models.ForeignKey(
        "worker.ModelVersion", on_delete=models.PROTECT, related_name="reviews"
    )
    prompt_version = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    comment = models.TextField(blank=True)
    no_codable_diagnosis = models.BooleanField(default=False)
    seconds_on_task = models.FloatField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["task", "coder"], name="review_one_per_task_and_coder")
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="review_submitted_idx")]

    def __str__(self) -> str:
        return f"Review {self.pk} of note {self.note_id} by {self.coder_id} ({self.status})"


class Decision(models.Model):
    """What the coder did with one suggestion, or a code the coder added.

    ``code`` is the suggestion's code (or the added code); ``replacement``
    the code put in its place, with ``relation`` saying how it stands to the
    suggested one in the hierarchy (more specific, sibling, ...).
    """

    class Action(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"
        REPLACE = "replace", "Replace"
        ADD = "add", "Add"

    class Reason(models.TextChoices):
        NOT_DOCUMENTED = "not_documented", "Not documented"
        WRONG_SPECIFICITY = "wrong_specificity", "Wrong specificity"
        WRONG_CODE_IN_FAMILY = "wrong_code_in_family", "Wrong code in family"
        RULED_OUT = "ruled_out", "Ruled out"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    suggestion = models.ForeignKey(
        "worker.Suggestion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    code = models.CharField(max_length=40)
    replacement = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    relation = models.CharField(max_length=20, choices=Relation.choices, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "suggestion"],
                condition=models.Q(suggestion__isnull=False),
                name="decision_one_per_suggestion",
            ),
            models.UniqueConstraint(
                fields=["review", "code"],
                condition=models.Q(action="add"),
                name="decision_add_once",
            ),
            models.CheckConstraint(
                condition=models.Q(action="add", suggestion__isnull=True)
                | (~models.Q(action="add") & models.Q(suggestion__isnull=False)),
                name="decision_add_has_no_suggestion",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="replace") | ~models.Q(replacement=""),
                name="decision_replace_has_replacement",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="reject") | ~models.Q(reason=""),
                name="decision_reject_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.code}{' → ' + self.replacement if self.replacement else ''}"

    @property
    def final_code(self) -> str | None:
        """The code this decision puts in the coder's final set, if any
        (the rule: ``review.final_codes``)."""
        return decision_final_code(action=self.action, code=self.code, replacement=self.replacement)
