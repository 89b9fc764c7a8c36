"""Prediction jobs run in-process: planning, idempotent chunks, cancelling, progress.

These call the chunk function the Celery task calls; the tests that go
through real workers (and kill one) are in test_prediction_workers.py.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from worker.backends.base import NoteText
from worker.backends.loading import backend_for
from worker.models import (
    ModelVersion,
    Note,
    Prediction,
    PredictionChunk,
    PredictionJob,
    UploadBatch,
)
from worker.predictions.selectors import job_progress
from worker.predictions.services import (
    NothingToPredict,
    prediction_chunk_run,
    prediction_job_cancel,
    prediction_job_create,
    predictions_store,
)
from worker.predictions.tasks import predict_chunk_task
from worker.registry.versions import zero_shot_version_ensure

MakeBatch = Callable[..., UploadBatch]


@pytest.fixture
def version(db: None) -> ModelVersion:
    return zero_shot_version_ensure()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def run_all(job: PredictionJob) -> None:
    for chunk in job.chunks.order_by("index"):
        prediction_chunk_run(chunk.pk)
    job.refresh_from_db()


def test_a_job_is_planned_as_chunks_of_the_notes_without_a_prediction(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    batch = clinical_batch(7)
    job = prediction_job_create(version=version, batch=batch, chunk_size=3)
    chunks = list(job.chunks.order_by("index"))
    assert (job.notes_total, job.chunks_total) == (7, 3)
    assert [len(chunk.note_ids) for chunk in chunks] == [3, 3, 1]
    assert sorted(pk for chunk in chunks for pk in chunk.note_ids) == sorted(
        batch.notes.values_list("pk", flat=True)
    )


def test_every_note_gets_one_prediction_with_ranked_suggestions_and_evidence(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    batch = clinical_batch(5)
    job = prediction_job_create(version=version, batch=batch, chunk_size=2)
    run_all(job)
    assert job.status == PredictionJob.Status.DONE
    assert job.finished_at is not None
    predictions = Prediction.objects.filter(job=job).prefetch_related("suggestions", "note")
    assert predictions.count() == 5
    for prediction in predictions:
        suggestions = list(prediction.suggestions.all())
        assert suggestions, prediction.raw_output
        assert [s.rank for s in suggestions] == list(range(1, len(suggestions) + 1))
        scores = [s.score or 0.0 for s in suggestions]
        assert None not in [s.score for s in suggestions]
        assert scores == sorted(scores, reverse=True)
        for start, end in suggestions[0].evidence:
            assert 0 <= start < end <= len(prediction.note.text)
    diabetic = Prediction.objects.get(job=job, note__external_id="note-0")
    assert any(s.code.startswith("E11") for s in diabetic.suggestions.all())
    progress = job_progress(job)
    assert (progress.predicted, progress.skipped, progress.failed_notes) == (5, 0, 0)
    assert progress.fraction(job.notes_total) == 1.0


def test_running_a_chunk_again_writes_nothing_twice(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    job = prediction_job_create(version=version, batch=clinical_batch(4), chunk_size=4)
    chunk = job.chunks.get()
    prediction_chunk_run(chunk.pk)
    first = list(Prediction.objects.filter(job=job).values_list("pk", "note_id"))
    # A late redelivery of the same task: the chunk is done and stays done.
    prediction_chunk_run(chunk.pk)
    assert list(Prediction.objects.filter(job=job).values_list("pk", "note_id")) == first
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (PredictionChunk.Status.DONE, 1)


def test_a_chunk_redone_after_its_worker_died_keeps_finished_notes_and_fills_the_rest(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    job = prediction_job_create(version=version, batch=clinical_batch(6), chunk_size=6)
    chunk = job.chunks.get()
    # What a worker left when it was killed: the chunk running, two notes stored.
    PredictionChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1)
    notes = [
        NoteText(pk, text)
        for pk, text in Note.objects.filter(pk__in=chunk.note_ids[:2]).values_list("pk", "text")
    ]
    predictions_store(backend_for(version).predict(notes), version=version, job=job)
    kept = set(Prediction.objects.filter(job=job).values_list("pk", flat=True))
    assert len(kept) == 2

    prediction_chunk_run(chunk.pk)

    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (PredictionChunk.Status.DONE, 2)
    stored = Prediction.objects.filter(job=job)
    assert stored.count() == 6
    assert kept <= set(stored.values_list("pk", flat=True))
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.DONE


def test_notes_another_job_predicted_meanwhile_are_skipped_and_counted(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    batch = clinical_batch(4)
    first = prediction_job_create(version=version, batch=batch, chunk_size=4)
    second = prediction_job_create(version=version, chunk_size=4)
    run_all(first)
    run_all(second)
    assert Prediction.objects.filter(model_version=version).count() == 4
    assert job_progress(second).skipped == 4
    assert second.status == PredictionJob.Status.DONE


def test_a_job_with_nothing_left_to_predict_is_refused(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    batch = clinical_batch(2)
    run_all(prediction_job_create(version=version, batch=batch))
    with pytest.raises(NothingToPredict, match=f"upload #{batch.pk}"):
        prediction_job_create(version=version, batch=batch)
    assert PredictionJob.objects.count() == 1


def test_a_cancelled_job_runs_no_more_chunks(
    version: ModelVersion, clinical_batch: MakeBatch
) -> None:
    job = prediction_job_create(version=version, batch=clinical_batch(4), chunk_size=2)
    first, second = job.chunks.order_by("index")
    prediction_chunk_run(first.pk)
    assert prediction_job_cancel(job)
    prediction_chunk_run(second.pk)
    job.refresh_from_db()
    second.refresh_from_db()
    assert job.status == PredictionJob.Status.CANCELLED
    assert second.status == PredictionChunk.Status.CANCELLED
    assert Prediction.objects.filter(job=job).count() == 2
    assert not prediction_job_cancel(job)


def test_a_model_that_cannot_load_fails_the_job_with_the_reason(
    clinical_batch: MakeBatch, tmp_path
) -> None:
    broken = ModelVersion.objects.create(
        name="missing-llm", backend="transformers", base_model=str(tmp_path / "no-such-model")
    )
    job = prediction_job_create(version=broken, batch=clinical_batch(2))
    predict_chunk_task.apply(args=(job.chunks.get().pk,))
    job.refresh_from_db()
    assert job.status == PredictionJob.Status.FAILED
    assert "no-such-model" in job.error
    progress = job_progress(job)
    assert (progress.failed_notes, progress.chunks_failed) == (2, 1)


def test_a_server_that_never_answers_is_retried_then_reported(
    clinical_batch: MakeBatch,
) -> None:
    offline = ModelVersion.objects.create(
        name="offline-server",
        backend="openai",
        base_model="tiny",
        options={"base_url": f"http://127.0.0.1:{closed_port()}/v1", "timeout_s": 2},
    )
    job = prediction_job_create(version=offline, batch=clinical_batch(1))
    # Eager apply runs the retries at once instead of after their backoff.
    predict_chunk_task.apply(args=(job.chunks.get().pk,))
    job.refresh_from_db()
    chunk = job.chunks.get()
    assert job.status == PredictionJob.Status.FAILED
    assert "kept failing" in chunk.error
    assert chunk.attempts == 6
