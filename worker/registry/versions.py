"""The model registry's versions: which one is active, and registering one.

Every app asks here which version is active and registers versions here,
whether an admin brings a model or a training run produces a candidate (with
its parent and metrics, the training lineage). Promotion and rollback are
``worker.registry.promotion``; the training app calls both and records in the
audit trail who did it. How a backend sees a version is
``worker.backends.loading.version_spec``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from worker.models import ModelVersion

ZERO_SHOT_NAME = "minilm-zero-shot"


def active_version(backend: str | None = None) -> ModelVersion | None:
    """The active version of ``backend`` (default: the configured MODEL_BACKEND)."""
    family = backend or settings.MODEL_BACKEND
    return ModelVersion.objects.filter(backend=family, status=ModelVersion.Status.ACTIVE).first()


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
    parent: ModelVersion | None = None,
    metrics: dict[str, object] | None = None,
    activate: bool = False,
) -> ModelVersion:
    """Register a model: one an admin brings (a HF name or path, an adapter,
    a served name) or one a training run made from ``parent``. It is a
    candidate unless ``activate``, which retires the backend's active one."""
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
            parent=parent,
            metrics=metrics or {},
            status=ModelVersion.Status.ACTIVE if activate else ModelVersion.Status.CANDIDATE,
        )
