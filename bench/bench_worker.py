"""A Celery worker of a bench's own, and a prediction job timed on it.

The worker listens on the ``inference`` queue with one process (the solo
pool: the process whose memory is sampled is the one that predicts). A job
is timed from its creation until it is done (chunks through Redis, the
worker, PostgreSQL writes) while a thread samples the worker's resident
memory and the predictions written so far. Django must be set up first.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for real once Django is set up
    import psutil

    from worker.models import ModelVersion, UploadBatch

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 50
SAMPLE_EVERY_S = 0.25


@dataclass(frozen=True)
class PipelineRun:
    """One version's timed job on the bench notes, and its worker's memory (MB)."""

    seconds: float
    rss_after_warm_up_mb: float
    rss_first_half_mb: float  # the most while the first half of the notes was predicted
    rss_end_mb: float
    peak_rss_mb: float

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_end_mb - self.rss_after_warm_up_mb


def no_other_worker() -> None:
    """Exit when another worker listens on the broker: it would take the
    bench's chunks, and the figures would be its, not the bench worker's."""
    from coding_app.celery import app

    replies = app.control.ping(timeout=1.0) or []
    others = [name for reply in replies for name in reply]
    if others:
        raise SystemExit(
            f"Workers already listen on REDIS_URL's broker ({', '.join(sorted(others))}); "
            "point REDIS_URL at a Redis database that no worker uses."
        )


def pipeline_measure(version: ModelVersion, warm: UploadBatch, notes: UploadBatch) -> PipelineRun:
    """``version``'s job on ``notes`` on a fresh worker, warmed up on ``warm``
    first (model and code index loaded, spaCy and the ranker run once)."""
    import psutil

    hostname = f"bench-{uuid.uuid4().hex[:10]}@localhost"
    worker = _worker_start(hostname)
    try:
        _wait_for_worker(worker, hostname)
        job_run(version, warm)
        process = psutil.Process(worker.pid)
        after_warm_up = _rss_mb(process)
        samples: list[tuple[int, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(process, version, samples, stop))
        sampler.start()
        try:
            seconds = job_run(version, notes)
        finally:
            stop.set()
            sampler.join()
        end = _rss_mb(process)
    finally:
        _worker_stop(worker)
    half = [rss for done, rss in samples if done <= warm.notes_created + notes.notes_created // 2]
    peak = max([end, *(rss for _, rss in samples)])
    return PipelineRun(seconds, after_warm_up, max(half or [end]), end, peak)


def job_run(version: ModelVersion, batch: UploadBatch) -> float:
    """Seconds from queuing ``version``'s job on ``batch`` until it is done."""
    from worker.models import PredictionJob
    from worker.predictions.services import prediction_job_create

    started = time.perf_counter()
    job = prediction_job_create(version=version, batch=batch, chunk_size=CHUNK)
    while not job.is_finished:
        time.sleep(0.05)
        job.refresh_from_db()
    seconds = time.perf_counter() - started
    if job.status != PredictionJob.Status.DONE:
        raise SystemExit(f"The bench job of {version.name} ended {job.status}: {job.error}")
    return seconds


def _worker_start(hostname: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "coding_app", "--quiet", "worker"]
    command += ["--queues", "inference", "--pool", "solo", "--concurrency", "1"]
    command += ["--hostname", hostname, "--loglevel", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT)


def _wait_for_worker(worker: subprocess.Popen[bytes], hostname: str) -> None:
    from coding_app.celery import app

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"The bench worker exited with {worker.returncode}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
    raise SystemExit("The bench worker did not answer within 120 s")


def _worker_stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def _sample(
    process: psutil.Process,
    version: ModelVersion,
    samples: list[tuple[int, float]],
    stop: threading.Event,
) -> None:
    from django.db import connection

    from worker.models import Prediction

    try:
        while not stop.is_set():
            done = Prediction.objects.filter(model_version=version).count()
            samples.append((done, _rss_mb(process)))
            stop.wait(SAMPLE_EVERY_S)
    finally:
        connection.close()


def _rss_mb(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / 1e6
