"""The model registry: every model that can suggest codes, and which one is live."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelVersion(models.Model):
    """One model a backend can run: a base model plus an optional adapter or head.

    ``adapter_path`` is a LoRA adapter folder for the LLM backends and a
    trained multi-label head file for the embedding backend. For the
    ``openai`` backend ``served_name`` is the name the server knows the model
    or adapter by (vLLM's ``--lora-modules`` name); it defaults to the base.
    Exactly one version per backend is active at a time (a partial unique
    index), and prediction jobs use it unless told otherwise.
    """

    class Backend(models.TextChoices):
        EMBEDDING = "embedding", "Embedding (MiniLM, CPU)"
        TRANSFORMERS = "transformers", "Transformers (in-process LLM)"
        OPENAI = "openai", "OpenAI-compatible server (vLLM)"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=100, unique=True)
    backend = models.CharField(max_length=20, choices=Backend.choices)
    base_model = models.CharField(max_length=500)
    adapter_path = models.CharField(max_length=500, blank=True)
    served_name = models.CharField(max_length=200, blank=True)
    # Backend knobs (top_k, threshold, max_new_tokens, ...); each backend
    # documents the keys it reads and ignores the rest.
    options = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["backend"],
                condition=models.Q(status="active"),
                name="model_version_one_active_per_backend",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.backend}, {self.status})"
