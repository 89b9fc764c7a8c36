"""The model registry's reads and the writes that inference needs.

Promotion, rollback and the training lineage belong to the training app
(issue 7), which calls into here; this module only knows which version is
active and how to describe a version to a backend.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from worker.backends.base import BackendSpec
from worker.models import ModelVersion

ZERO_SHOT_NAME = "minilm-zero-shot"


def active_version(backend: str | None = None) -> ModelVersion | None:
    """The active version of ``backend`` (default: the configured MODEL_BACKEND)."""
    family = backend or settings.MODEL_BACKEND
    return ModelVersion.objects.filter(backend=family, status=ModelVersion.Status.ACTIVE).first()


def version_spec(version: ModelVersion) -> BackendSpec:
    return BackendSpec(
        name=version.name,
        backend=version.backend,
        base_model=version.base_model,
        adapter_path=version.adapter_path,
        served_name=version.served_name,
        options=dict(version.options),
    )


@transaction.atomic
def zero_shot_version_ensure() -> ModelVersion:
    """The embedded default model, registered (and made active) on first use.

    The desk needs one model that works offline on any machine; with no
    active embedding version this registers the MiniLM encoder with no head.
    """
    current = active_version(ModelVersion.Backend.EMBEDDING)
    if current is not None:
        return current
    version, _ = ModelVersion.objects.get_or_create(
        name=ZERO_SHOT_NAME,
        defaults={
            "backend": ModelVersion.Backend.EMBEDDING,
            "base_model": settings.EMBEDDING_MODEL,
        },
    )
    if version.status != ModelVersion.Status.ACTIVE:
        version.status = ModelVersion.Status.ACTIVE
        version.save(update_fields=["status"])
    return version


def model_version_register(
    *,
    name: str,
    backend: str,
    base_model: str,
    adapter_path: str = "",
    served_name: str = "",
    options: dict[str, object] | None = None,
    activate: bool = False,
) -> ModelVersion:
    """Register a model an admin brings (a HF name or path, an adapter, a served name)."""
    with transaction.atomic():
        if activate:
            ModelVersion.objects.filter(backend=backend, status=ModelVersion.Status.ACTIVE).update(
                status=ModelVersion.Status.RETIRED
            )
        return ModelVersion.objects.create(
            name=name,
            backend=backend,
            base_model=base_model,
            adapter_path=adapter_path,
            served_name=served_name,
            options=options or {},
            status=ModelVersion.Status.ACTIVE if activate else ModelVersion.Status.CANDIDATE,
        )
