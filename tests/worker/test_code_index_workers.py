"""Two real Celery workers on a cold cache folder build the code index once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from coding_app.celery import app
from tests.conftest import celery_worker_start, subprocess_environment
from tests.worker.test_prediction_workers import finished, wait_for
from worker.backends.embedding.index_progress import ProgressState, progress_read
from worker.models import Prediction, PredictionJob, UploadBatch
from worker.predictions.services import prediction_job_create
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_two_workers_on_a_cold_cache_build_the_code_index_once(
    clinical_batch: Callable[..., UploadBatch], tmp_path: Path
) -> None:
    # A session worker, if one runs, must not take a chunk: its cache is warm.
    app.control.cancel_consumer("inference", reply=True, timeout=2)
    env = subprocess_environment()
    env["MODEL_DIR"] = str(tmp_path / "models")
    env["EMBEDDING_CODE_CHAPTERS"] = "4,10"  # 1,331 codes: seconds, not minutes
    logs = [tmp_path / "first-worker.log", tmp_path / "second-worker.log"]
    batch = clinical_batch(6)
    version = zero_shot_version_ensure()
    workers = []
    try:
        for number, log in enumerate(logs):
            hostname = f"cold-{number}-{os.getpid()}@localhost"
            workers.append(celery_worker_start(env, hostname, queues="inference", log_path=log))
        job = prediction_job_create(version=version, batch=batch, chunk_size=3)
        wait_for(finished(job), 280, "the job to finish")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(30)
        app.control.add_consumer("inference", reply=True, timeout=2)

    assert job.status == PredictionJob.Status.DONE, job.error
    assert Prediction.objects.filter(job=job).count() == 6
    (progress_file,) = (tmp_path / "models" / "cache").glob("*.progress.json")
    progress = progress_read(progress_file)
    assert progress is not None
    assert progress.state == ProgressState.READY
    assert (progress.builds, progress.resumes) == (1, 0)
    assert int(progress.builder.rsplit(":", 1)[1]) in {worker.pid for worker in workers}

    texts = [log.read_text() for log in logs]
    assert sum(text.count("Building the code index") for text in texts) == 1, texts
    assert not any("Resuming the code index" in text for text in texts)
    # Each worker took a chunk, and both chunks started before the index was
    # published: the second worker waited for the first one's build.
    assert all(text.count("predict_chunk_task") >= 1 for text in texts), texts
    started = [chunk.started_at for chunk in job.chunks.all()]
    assert len(started) == 2
    assert all(at is not None and at.timestamp() < progress.updated_at for at in started)
