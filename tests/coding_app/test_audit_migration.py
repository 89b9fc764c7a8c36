"""The audit trail's move into the core keeps every event, its id and the trigger.

A database that holds events from before the move (review 0006, the table
``review_auditevent`` with foreign keys to notes, tasks and reviews) is
migrated to the latest migrations and back, and must lose or change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from coding_app.audit.services import audit
from coding_app.models import AuditEvent
from review.events import ReviewAuditKind

pytestmark = pytest.mark.django_db(transaction=True)

# The worker app goes back too: its later columns have no database default,
# so the old models could not insert rows under them.
BEFORE_THE_MOVE = [
    ("coding_app", "0003_code_search_order"),
    ("review", "0006_audit_export_viewed"),
    ("worker", "0003_shared_job_status"),
]
COLUMNS = "id, kind, actor_id, note_id, task_id, review_id, payload, created_at"

Row = tuple[Any, ...]


def migrate(targets: list[tuple[str, str]] | None = None) -> Apps:
    """Migrate to ``targets`` (the latest migrations when None) and return
    the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def rows(table: str) -> list[Row]:
    """Every event of ``table`` by id, the payload parsed (Django reads jsonb
    as text on a raw cursor)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM {table} ORDER BY id")
        return [(*row[:6], json.loads(row[6]), row[7]) for row in cursor.fetchall()]


def foreign_keys(table: str) -> list[str]:
    """The tables that ``table``'s foreign keys point to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def assert_append_only(table: str, event_id: int) -> None:
    for verb in (f"UPDATE {table} SET kind = 'forged'", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"{verb} WHERE id = %s", [event_id])


def events_before_the_move(apps: Apps) -> list[int]:
    """Three events in the old table, written by the historical models: one
    about a review (with its task and note), one about a note, one by the
    system with a nested payload."""
    actor = apps.get_model("coding_app", "User").objects.create(email="old@example.org")
    batch = apps.get_model("worker", "UploadBatch").objects.create(
        source="migration-test", file_name="notes.jsonl"
    )
    note = apps.get_model("worker", "Note").objects.create(
        batch=batch,
        source="migration-test",
        external_id="m-1",
        text="Hypertension.",
        text_sha256="m-1",
    )
    version = apps.get_model("worker", "ModelVersion").objects.create(
        name="migration-test", backend="embedding", base_model="test"
    )
    prediction = apps.get_model("worker", "Prediction").objects.create(
        note=note, model_version=version
    )
    task = apps.get_model("review", "ReviewTask").objects.create(note=note, prediction=prediction)
    review = apps.get_model("review", "Review").objects.create(
        task=task, coder=actor, note=note, prediction=prediction, model_version=version
    )
    events = apps.get_model("review", "AuditEvent").objects
    return [
        events.create(
            kind="review_submitted",
            actor=actor,
            note=note,
            task=task,
            review=review,
            payload={"final_codes": ["I10"], "amendment": False},
        ).pk,
        events.create(kind="note_opened_by_auditor", actor=actor, note=note).pk,
        events.create(
            kind="lease_expired",
            actor=None,
            task=task,
            note=note,
            payload={"previous_holder": actor.pk, "note": "Ärztin „quoted“"},
        ).pk,
    ]


@pytest.fixture
def old_trail() -> Iterator[list[Row]]:
    """The events written before the move; the database ends at the latest
    migrations whatever the test did."""
    try:
        ids = events_before_the_move(migrate(BEFORE_THE_MOVE))
        old = rows("review_auditevent")
        assert [row[0] for row in old] == ids
        yield old
    finally:
        migrate()


def test_moving_the_trail_keeps_every_event_and_its_id(old_trail: list[Row]) -> None:
    migrate()
    assert rows("coding_app_auditevent") == old_trail
    assert list(AuditEvent.objects.order_by("pk").values_list(*COLUMNS.split(", "))) == old_trail
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('review_auditevent')")
        assert cursor.fetchone() == (None,)


def test_after_the_move_ids_go_on_and_the_trigger_still_refuses(old_trail: list[Row]) -> None:
    migrate()
    newest = audit(ReviewAuditKind.NOTE_VIEWED, actor=None, note_id=old_trail[0][3])
    assert newest.pk > max(row[0] for row in old_trail)
    assert_append_only("coding_app_auditevent", old_trail[0][0])
    # Only the core's own foreign key is left: notes, tasks and reviews are ids.
    assert foreign_keys("coding_app_auditevent") == ["coding_app_user"]


def test_the_move_migrates_back_with_its_rows(old_trail: list[Row]) -> None:
    migrate()
    newest = audit(ReviewAuditKind.NOTE_VIEWED, actor=None, note_id=old_trail[0][3])
    migrate(BEFORE_THE_MOVE)
    back = rows("review_auditevent")
    assert back[:-1] == old_trail
    assert back[-1][:2] == (newest.pk, "note_viewed")
    assert_append_only("review_auditevent", old_trail[0][0])
    assert foreign_keys("review_auditevent") == [
        "coding_app_user",
        "review_review",
        "review_reviewtask",
        "worker_note",
    ]
