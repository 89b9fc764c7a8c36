"""The audit trail: append-only, in the application and in the database.

The model refuses updates and deletes, and a trigger (created by review
migration 0002, renamed with the table by review 0007) refuses them for any
SQL client, so not even a bug or a shell session can rewrite history.
TRUNCATE, which only the database owner may run, is left to tests.

Notes, tasks and reviews are referred to by id without a foreign key: the
trail must outlive what it describes, and the core knows no other app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from coding_app.audit.kinds import kind_choices


class AuditEventImmutable(Exception):
    pass


class AuditEvent(models.Model):
    # A callable: each app registers its own kinds at start-up (kinds.py),
    # and adding one needs no migration.
    kind = models.CharField(max_length=30, choices=kind_choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    task_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    review_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The audit trail filtered by action, newest first.
            models.Index(fields=["kind", "-created_at"], name="audit_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditEventImmutable("Audit events are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("Audit events are never deleted.")
