"""Prediction jobs through real Celery workers on Redis, one of them killed."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from coding_app.celery import app
from tests.conftest import celery_worker_start, subprocess_environment
from worker.models import ModelVersion, Prediction, PredictionChunk, PredictionJob, UploadBatch
from worker.predictions.services import prediction_job_create
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MakeBatch = Callable[..., UploadBatch]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def finished(job: PredictionJob) -> Callable[[], bool]:
    def check() -> bool:
        job.refresh_from_db()
        return job.is_finished

    return check


def test_an_embedding_job_runs_on_a_real_worker(
    celery_worker_process: str, clinical_batch: MakeBatch
) -> None:
    batch = clinical_batch(7)
    job = prediction_job_create(version=zero_shot_version_ensure(), batch=batch, chunk_size=3)
    wait_for(finished(job), 180, "the job to finish")
    assert job.status == PredictionJob.Status.DONE, job.error
    assert Prediction.objects.filter(job=job).count() == 7
    assert set(job.chunks.values_list("status", flat=True)) == {PredictionChunk.Status.DONE}


def llm_job_check(job: PredictionJob, notes: int) -> None:
    from worker.backends.llm.prompts import PROMPT_VERSION

    wait_for(finished(job), 240, "the job to finish")
    assert job.status == PredictionJob.Status.DONE, job.error
    predictions = Prediction.objects.filter(job=job)
    assert predictions.count() == notes
    for prediction in predictions:
        assert prediction.prompt_version == PROMPT_VERSION
        assert prediction.raw_output.strip()
        # Whatever the tiny model wrote is either read as codes or kept with
        # the reason it could not be.
        assert prediction.suggestions.exists() or prediction.parse_problem


def test_a_transformers_job_runs_on_a_real_worker(
    celery_worker_process: str, clinical_batch: MakeBatch, tiny_llm_dir: Path
) -> None:
    version = ModelVersion.objects.create(
        name="tiny-llm",
        backend="transformers",
        base_model=str(tiny_llm_dir),
        options={"max_new_tokens": 48, "batch_size": 2},
    )
    job = prediction_job_create(version=version, batch=clinical_batch(3), chunk_size=2)
    llm_job_check(job, 3)


def test_an_openai_job_runs_on_a_real_worker_against_transformers_serve(
    celery_worker_process: str, clinical_batch: MakeBatch, tiny_llm_dir: Path, openai_server: str
) -> None:
    version = ModelVersion.objects.create(
        name="tiny-served",
        backend="openai",
        base_model=str(tiny_llm_dir),
        options={"base_url": openai_server, "max_new_tokens": 48, "concurrency": 2},
    )
    job = prediction_job_create(version=version, batch=clinical_batch(3), chunk_size=3)
    llm_job_check(job, 3)


def test_a_worker_killed_mid_job_loses_nothing_and_a_new_worker_finishes_without_duplicates(
    clinical_batch: MakeBatch,
) -> None:
    # A session worker, if one runs, must not rescue the job: it stops
    # taking inference tasks for the time of this test.
    app.control.cancel_consumer("inference", reply=True, timeout=2)
    env = subprocess_environment()
    # Redis hands an unacknowledged task to another worker after this long.
    env["CELERY_VISIBILITY_TIMEOUT"] = "4"
    version = zero_shot_version_ensure()
    version.options = {"job_batch_size": 4}  # commit every four notes
    version.save()
    batch = clinical_batch(300)
    workers = []
    try:
        doomed = celery_worker_start(env, f"doomed-{os.getpid()}@localhost", queues="inference")
        workers.append(doomed)
        job = prediction_job_create(version=version, batch=batch, chunk_size=100)
        stored = Prediction.objects.filter(job=job)
        wait_for(lambda: stored.exists(), 180, "the first predictions")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
        at_kill = set(stored.values_list("pk", "note_id"))
        assert 0 < len(at_kill) < 300, "the worker must die in the middle of the job"
        job.refresh_from_db()
        assert not job.is_finished

        rescuer = celery_worker_start(env, f"rescuer-{os.getpid()}@localhost", queues="inference")
        workers.append(rescuer)
        wait_for(finished(job), 240, "the new worker to finish the job")

        assert job.status == PredictionJob.Status.DONE, job.error
        final = set(stored.values_list("pk", "note_id"))
        assert at_kill <= final, "predictions stored before the kill were lost or rewritten"
        assert len(final) == 300
        assert len({note_id for _, note_id in final}) == 300
        assert Prediction.objects.filter(model_version=version).count() == 300
        redone = job.chunks.filter(attempts__gte=2)
        assert redone.exists(), "the chunk of the killed worker was not redone"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)
        app.control.add_consumer("inference", reply=True, timeout=2)
