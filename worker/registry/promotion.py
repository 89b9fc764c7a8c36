"""Putting a model version to work, and taking it back.

Both are one transaction over the versions of one backend, locked, so two
admins clicking at once still leave exactly one active version (the partial
unique index would refuse a second one anyway). Workers build their backend
from the active version's spec on the next chunk (``backends.loading``),
so nothing restarts. The training app records who did it in the audit
trail; this module only knows the registry.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from coding_app.models import User
from worker.models import ModelVersion


class PromotionRefused(Exception):
    """The promotion or rollback cannot be done; the message says why."""


@transaction.atomic
def model_version_promote(*, version: ModelVersion, by: User | None) -> ModelVersion | None:
    """Make ``version`` the active one of its backend; returns the version it
    replaced (now retired), or None when there was none."""
    versions = list(
        ModelVersion.objects.select_for_update().filter(backend=version.backend).order_by("pk")
    )
    locked = next((v for v in versions if v.pk == version.pk), None)
    if locked is None:
        raise PromotionRefused(f"Model version {version.pk} does not exist any more.")
    if locked.status == ModelVersion.Status.ACTIVE:
        raise PromotionRefused(f"{locked.name} is already the active {locked.backend} model.")
    previous = next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None)
    if previous is not None:
        previous.status = ModelVersion.Status.RETIRED
        previous.save(update_fields=["status"])
    locked.status = ModelVersion.Status.ACTIVE
    locked.promoted_by = by
    locked.promoted_at = timezone.now()
    locked.save(update_fields=["status", "promoted_by", "promoted_at"])
    version.refresh_from_db()
    return previous


@transaction.atomic
def model_version_rollback(*, backend: str) -> tuple[ModelVersion, ModelVersion]:
    """Give the active role back to the version that held it before the
    current one; returns (the version now active, the one retired)."""
    versions = list(ModelVersion.objects.select_for_update().filter(backend=backend))
    current = next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None)
    if current is None:
        raise PromotionRefused(f"No {backend} model is active, so there is nothing to roll back.")
    previous = _previous(current, versions)
    if previous is None:
        raise PromotionRefused(f"{current.name} has no earlier active version to go back to.")
    current.status = ModelVersion.Status.RETIRED
    current.save(update_fields=["status"])
    # Its promotion stays as it was, so a second rollback walks further back
    # along the promotions; who rolled back is the caller's audit record.
    previous.status = ModelVersion.Status.ACTIVE
    previous.save(update_fields=["status"])
    return previous, current


def rollback_target(versions: list[ModelVersion]) -> ModelVersion | None:
    """The version a rollback of these (one backend's) versions would make
    active, or None when there is nothing to roll back to; the versions page
    offers "Roll back" only when there is one."""
    current = next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None)
    return _previous(current, versions) if current is not None else None


def _previous(current: ModelVersion, versions: list[ModelVersion]) -> ModelVersion | None:
    """The retired version promoted last before ``current``; else its parent
    (the zero-shot start was made active without a promotion)."""
    retired = [v for v in versions if v.status == ModelVersion.Status.RETIRED]
    promoted = [
        v
        for v in retired
        if v.promoted_at is not None
        and current.promoted_at is not None
        and v.promoted_at <= current.promoted_at
    ]
    if promoted:
        return max(promoted, key=lambda v: (v.promoted_at, v.pk))
    parent = next((v for v in retired if v.pk == current.parent_id), None)
    return parent
