"""A failed chunk says why in words, counts apart from progress, and can be
retried by an admin (audited) until its job is done."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from billiard.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from worker.backends.base import (
    BackendConfigError,
    NotePrediction,
    NoteText,
    TransientBackendError,
)
from worker.events import WorkerAuditKind
from worker.models import ModelVersion, PredictionChunk, PredictionJob, UploadBatch
from worker.predictions import services
from worker.predictions.errors import chunk_error_in_words
from worker.predictions.selectors import job_progress
from worker.predictions.services import (
    NothingToRetry,
    prediction_chunk_run,
    prediction_chunks_retry,
    prediction_job_cancel,
    prediction_job_create,
)
from worker.predictions.tasks import predict_chunk_task
from worker.registry.versions import zero_shot_version_ensure

pytestmark = pytest.mark.django_db
MakeBatch = Callable[..., UploadBatch]
LoginAs = Callable[[Role], User]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (SoftTimeLimitExceeded(), "the chunk took longer than the time limit of 90 s"),
        (TimeLimitExceeded(120), "hard time limit of 120 s"),
        (TransientBackendError("HTTP 503"), "the model kept failing (HTTP 503)"),
        (BackendConfigError("no adapter at /x"), "the model cannot be used: no adapter at /x"),
        (OperationalError("server closed the connection\nmore"), "database could not be reached"),
        (MemoryError(), "ran out of memory"),
        (KeyError("rank"), "an unexpected error in the worker (KeyError: 'rank')"),
    ],
)
def test_each_error_a_chunk_meets_is_said_in_words(
    settings: Settings, error: BaseException, words: str
) -> None:
    settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT = 90, 120
    message = chunk_error_in_words(error)
    assert words in message
    assert "()" not in message
    assert "\n" not in message


@pytest.fixture
def version() -> ModelVersion:
    return zero_shot_version_ensure()


class NoCodes:
    """A backend that answers at once: these tests are about the chunks."""

    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        return [NotePrediction(note_id=note.note_id, codes=()) for note in notes]


@pytest.fixture
def quick_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "backend_for", lambda *args, **kwargs: NoCodes())


def failed_job(version: ModelVersion, batch: UploadBatch, *, chunk_size: int) -> PredictionJob:
    """A job whose every chunk hit the soft time limit, as the task records it."""
    job = prediction_job_create(version=version, batch=batch, chunk_size=chunk_size)
    for chunk in job.chunks.all():
        services.prediction_chunk_fail(chunk.pk, chunk_error_in_words(SoftTimeLimitExceeded()))
    job.refresh_from_db()
    return job


def test_the_task_stores_a_time_limit_in_words(
    version: ModelVersion, clinical_batch: MakeBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = prediction_job_create(version=version, batch=clinical_batch(2))

    def too_slow(chunk_id: int) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "prediction_chunk_run", too_slow)
    predict_chunk_task.apply(args=(job.chunks.get().pk,))
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.FAILED
    assert job.error.startswith("the chunk took longer than the time limit of")
    assert "SoftTimeLimitExceeded" not in job.error


def test_failed_notes_are_no_progress(version: ModelVersion, clinical_batch: MakeBatch) -> None:
    job = failed_job(version, clinical_batch(4), chunk_size=2)
    progress = job_progress(job)
    assert (progress.done_notes, progress.failed_notes) == (0, 4)
    assert progress.percents(job.notes_total) == (0, 100)
    assert [chunk.notes for chunk in progress.failed_chunks] == [2, 2]


@pytest.mark.usefixtures("quick_backend")
def test_a_retried_chunk_runs_again_and_the_job_ends_done(
    version: ModelVersion,
    clinical_batch: MakeBatch,
    make_user: Callable[..., User],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = make_user(Role.ADMIN)
    job = failed_job(version, clinical_batch(4), chunk_size=2)
    first, second = job.chunks.order_by("index")
    queued: list[int] = []
    monkeypatch.setattr(services, "_dispatch", queued.extend)
    with django_capture_on_commit_callbacks(execute=True):
        prediction_chunks_retry(job=job, by=admin, chunk_id=first.pk)
    job.refresh_from_db()
    first.refresh_from_db()
    assert queued == [first.pk]
    assert (job.status, job.error, job.finished_at) == (PredictionJob.Status.QUEUED, "", None)
    assert (first.status, first.error) == (PredictionChunk.Status.QUEUED, "")
    event = AuditEvent.objects.get(kind=WorkerAuditKind.PREDICTION_CHUNK_RETRIED)
    assert event.actor == admin
    assert (event.payload["job_id"], event.payload["chunk_index"]) == (job.pk, 0)
    assert "time limit" in event.payload["error"]
    prediction_chunk_run(first.pk)
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.FAILED  # the second chunk still failed
    with django_capture_on_commit_callbacks(execute=True):
        prediction_chunks_retry(job=job, by=admin)  # every failed chunk: the second
    assert queued == [first.pk, second.pk]
    prediction_chunk_run(second.pk)
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.DONE
    assert job_progress(job).percents(job.notes_total) == (100, 0)


def test_nothing_to_retry_is_refused_with_the_reason(
    version: ModelVersion, clinical_batch: MakeBatch, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    job = prediction_job_create(version=version, batch=clinical_batch(2))
    with pytest.raises(NothingToRetry, match="no failed chunk"):
        prediction_chunks_retry(job=job, by=admin)
    prediction_job_cancel(job)
    with pytest.raises(NothingToRetry, match="was cancelled"):
        prediction_chunks_retry(job=job, by=admin)


def test_only_admins_retry_and_only_by_post(
    client: Client, login_as: LoginAs, version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    job = failed_job(version, clinical_batch(2), chunk_size=2)
    url = reverse("worker:job_retry", args=[job.pk])
    login_as(Role.CODER)
    assert client.post(url).status_code == 403
    login_as(Role.ADMIN)
    assert client.get(url).status_code == 405
    assert client.post(url, {"chunk": "first"}).status_code == 400
    assert PredictionChunk.objects.get(job=job).status == PredictionChunk.Status.FAILED
