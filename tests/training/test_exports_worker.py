"""An export written by a real Celery worker after the admin's request."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.training.export_support import note_in, review_make
from training.models import ExportSnapshot
from training.splits import Split

# The worker runs in its own process with the storage folder of the
# session's settings, so this test keeps that folder (no ``storage``
# fixture) and removes the snapshot's own folder afterwards.


@pytest.mark.django_db(transaction=True)
def test_a_worker_writes_the_export_queued_by_the_form(
    celery_worker_process: str, make_user: Callable[..., User], client: Client
) -> None:
    note = note_in(Split.TRAIN, prefix="celery")
    review_make(note, make_user(Role.CODER))
    client.force_login(make_user(Role.ADMIN))
    response = client.post(reverse("training:exports:list"), {"kind": "sft"})
    assert response.status_code == 302
    snapshot = ExportSnapshot.objects.get()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not snapshot.is_finished:
        time.sleep(0.2)
        snapshot.refresh_from_db()
    assert snapshot.status == ExportSnapshot.Status.DONE, snapshot.error
    assert snapshot.path is not None
    try:
        (line,) = (snapshot.path / "train.jsonl").read_text().splitlines()
        assert json.loads(line)["metadata"]["note_id"] == note.pk
        assert snapshot.started_at is not None
        assert snapshot.finished_at is not None
        status = client.get(reverse("training:exports:status", args=[snapshot.pk]))
        assert status.status_code == 286
    finally:
        shutil.rmtree(snapshot.path)
