"""The job shape every background job shares, and the poll that ends with it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.jobs import FINISHED_STATUSES, Job, JobStatus
from coding_app.models import User
from training.models import ExportSnapshot, TrainingRun
from worker.models import PredictionChunk, PredictionJob, UploadBatch

JOB_MODELS: list[type[Job]] = [
    UploadBatch,
    PredictionJob,
    PredictionChunk,
    ExportSnapshot,
    TrainingRun,
]
FINISHED = {"done", "failed", "cancelled"}


def test_the_job_statuses_keep_their_values_and_labels() -> None:
    assert JobStatus.choices == [
        ("queued", "Queued"),
        ("running", "Running"),
        ("done", "Done"),
        ("failed", "Failed"),
        ("cancelled", "Cancelled"),
    ]
    assert set(FINISHED_STATUSES) == FINISHED


@pytest.mark.parametrize("model", JOB_MODELS, ids=lambda model: model.__name__)
def test_every_job_model_shares_one_status_type(model: type[Job]) -> None:
    assert model.Status is JobStatus
    field = model._meta.get_field("status")
    assert field.choices == JobStatus.choices
    assert field.default == JobStatus.QUEUED
    assert model().status == "queued"


@pytest.mark.parametrize("status", JobStatus.values)
@pytest.mark.parametrize("model", JOB_MODELS, ids=lambda model: model.__name__)
def test_a_job_is_finished_exactly_when_done_failed_or_cancelled(
    model: type[Job], status: str
) -> None:
    assert model(status=status).is_finished is (status in FINISHED)


@pytest.mark.parametrize("status", JobStatus.values)
def test_the_progress_poll_stops_exactly_when_the_job_is_finished(
    login_as: Callable[[Role], User], client: Client, status: str
) -> None:
    login_as(Role.ADMIN)
    batch = UploadBatch.objects.create(source="ward-7", file_name="notes.jsonl", status=status)
    url = reverse("worker:upload_progress", args=[batch.pk])
    response = client.get(url, headers={"HX-Request": "true"})
    # 286 is htmx's "stop polling": the fragment is swapped in, then no more
    # requests; anything else keeps the page asking every 2 s.
    assert response.status_code == (286 if status in FINISHED else 200)
    assert 'id="upload-status"' in response.content.decode()
    assert ("every 2s" in response.content.decode()) is (status not in FINISHED)
