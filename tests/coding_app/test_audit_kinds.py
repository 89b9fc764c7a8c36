"""Each app declares its own kinds of audit event; the trail takes them all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from coding_app.audit import kinds
from coding_app.audit.services import UnknownAuditKind, audit

# Every kind stored before the kinds moved into their apps (review 0006),
# and those declared since.
STORED_KINDS = {
    "note_viewed",
    "decision_made",
    "decision_changed",
    "decision_removed",
    "evidence_marked",
    "evidence_removed",
    "review_submitted",
    "review_reopened",
    "lease_taken",
    "lease_released",
    "lease_expired",
    "note_reassigned",
    "stats_viewed",
    "note_opened_by_auditor",
    "audit_exported",
    "export_created",
    "export_downloaded",
    "export_viewed",
    "training_run_started",
    "training_run_cancelled",
    "model_promoted",
    "model_rolled_back",
    "prediction_chunk_retried",
}


class UploadKind(models.TextChoices):
    NOTES_UPLOADED = "notes_uploaded", "Notes uploaded"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are forgotten after it."""
    monkeypatch.setattr(kinds, "_REGISTERED", dict(kinds._REGISTERED))


def test_every_stored_kind_is_registered_with_its_label() -> None:
    choices = dict(kinds.kind_choices())
    assert set(choices) == STORED_KINDS
    assert choices["model_promoted"] == "Model version promoted"
    assert choices["note_opened_by_auditor"] == "Note opened by auditor"


@pytest.mark.django_db
@pytest.mark.usefixtures("registry")
def test_an_app_that_registers_its_kinds_can_audit_them() -> None:
    with pytest.raises(UnknownAuditKind):
        audit(UploadKind.NOTES_UPLOADED, actor=None)
    kinds.register_kinds("worker", UploadKind)
    kinds.register_kinds("worker", UploadKind)  # a second ready() is harmless
    event = audit(UploadKind.NOTES_UPLOADED, actor=None, batch=7)
    assert (event.get_kind_display(), event.payload) == ("Notes uploaded", {"batch": 7})
    assert ("notes_uploaded", "Notes uploaded") in kinds.kind_choices()


@pytest.mark.usefixtures("registry")
def test_two_apps_cannot_declare_the_same_kind() -> None:
    class Clash(models.TextChoices):
        LEASE_TAKEN = "lease_taken", "Lease taken"

    with pytest.raises(ImproperlyConfigured, match="review and worker"):
        kinds.register_kinds("worker", Clash)
