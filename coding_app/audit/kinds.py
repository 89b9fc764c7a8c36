"""The kinds of audit event, declared by the app whose events they are.

The trail is the core's, what happens is each app's business: an app
declares its kinds as ``TextChoices`` and registers them in its
``AppConfig.ready``. The model's ``kind`` offers every registered kind, so
the auditor's filter lists them all and no app names another's events.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import models


class CoreAuditKind(models.TextChoices):
    # A file leaving the desk is recorded the same way whichever app serves
    # it (statistics downloads, export snapshots; uploads later).
    EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"


# Value -> (declaring app label, label), in registration order: the order
# of INSTALLED_APPS, then of each app's declaration.
_REGISTERED: dict[str, tuple[str, str]] = {}


def register_kinds(app_label: str, kinds: type[models.TextChoices]) -> None:
    """Declare ``kinds`` as ``app_label``'s; registering again is harmless,
    a value another app already declared is a configuration error."""
    for value, label in kinds.choices:
        owner = _REGISTERED.get(value, (app_label, ""))[0]
        if owner != app_label:
            raise ImproperlyConfigured(
                f"Audit kind {value!r} is declared by both {owner} and {app_label}."
            )
        _REGISTERED[value] = (app_label, str(label))


def kind_choices() -> list[tuple[str, str]]:
    """Every registered kind as (value, label); the model's ``choices``."""
    return [(value, label) for value, (_app, label) in _REGISTERED.items()]


def is_kind(value: str) -> bool:
    return value in _REGISTERED
