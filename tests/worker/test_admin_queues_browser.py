"""Issue 13, admin 2: with the workers ``make run`` starts (its own command
lines), an upload is imported while a prediction chunk keeps the inference
worker busy: the ``default`` queue never waits behind inference."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect
from pytest_django import DjangoDbBlocker

from coding_app.celery import app
from coding_app.launcher.run import BASE_DIR, worker_command
from tests import admin_browser_support as support
from tests.conftest import subprocess_environment
from tests.worker.conftest import ImportFile, clinical_notes_jsonl
from worker.models import ModelVersion, PredictionChunk, UploadBatch
from worker.predictions.services import prediction_job_create

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

code_tables = support.code_tables
code_set = support.code_set
page = support.page

# How long the model server keeps the inference worker waiting: longer than
# the whole upload takes, even on a busy machine.
SILENT_SERVER_S = 240


@pytest.fixture
def silent_model_server() -> Iterator[int]:
    """A port that takes connections and never answers: a model stuck on a
    long chunk, as far as the worker can tell."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def clear_broker() -> None:
    """Drop what the killed workers left on this test's Redis database: the
    queued messages and the unacknowledged chunk Redis would hand back."""
    app.control.purge()
    with app.connection_for_write() as connection:
        # kombu types a Channel without ``client``; the Redis transport's has one.
        client = connection.default_channel.client  # type: ignore[attr-defined]
        client.delete("unacked", "unacked_index")


QUEUES = ("default", "inference")


@contextmanager
def other_workers_paused() -> Iterator[None]:
    """Workers already on this broker (the session's worker, started by an
    earlier test) stop taking from the launcher's queues meanwhile: a chunk
    they took would be a second chunk running."""
    others = [name for reply in app.control.ping(timeout=1.0) or [] for name in reply]
    if not others:
        yield
        return
    for queue in QUEUES:
        app.control.cancel_consumer(queue, destination=others, reply=True)
    try:
        yield
    finally:
        for queue in QUEUES:
            app.control.add_consumer(queue, destination=others, reply=True)


@pytest.fixture
def launcher_workers(
    django_db_blocker: DjangoDbBlocker, tmp_path: Path
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """The ``default`` and ``inference`` workers, started as ``make run`` does,
    the only ones taking from those queues."""
    with django_db_blocker.unblock():
        env = subprocess_environment()
    workers: dict[str, subprocess.Popen[bytes]] = {}
    with other_workers_paused(), _started(workers, env, tmp_path):
        yield workers


@contextmanager
def _started(
    workers: dict[str, subprocess.Popen[bytes]], env: dict[str, str], tmp_path: Path
) -> Iterator[None]:
    try:
        for queue in QUEUES:
            with open(tmp_path / f"{queue}.log", "ab") as log:
                workers[queue] = subprocess.Popen(
                    worker_command(queue),
                    env=env,
                    cwd=BASE_DIR,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        wanted = {f"desk-{queue}@{socket.gethostname()}" for queue in workers}
        deadline = time.monotonic() + 120
        answering: set[str] = set()
        while answering != wanted and time.monotonic() < deadline:
            replies = app.control.ping(destination=list(wanted), timeout=1.0) or []
            answering = {name for reply in replies for name in reply}
        assert answering == wanted, (tmp_path / "default.log").read_text()[-2000:]
        yield
    finally:
        for process in workers.values():
            os.killpg(process.pid, signal.SIGKILL)  # the worker and its pool
            process.wait(30)
        clear_broker()


def test_an_upload_is_imported_while_inference_is_busy(
    page: Page,
    live_server: object,
    import_file: ImportFile,
    silent_model_server: int,
    launcher_workers: dict[str, subprocess.Popen[bytes]],
) -> None:
    slow = ModelVersion.objects.create(
        name="stuck-llm",
        backend="openai",
        base_model="tiny",
        options={
            "base_url": f"http://127.0.0.1:{silent_model_server}/v1",
            "timeout_s": SILENT_SERVER_S,
        },
    )
    # More chunks than a worker has processes, as in the issue: with one
    # worker on every queue they took all its processes and the upload waited.
    batch = import_file("waiting.jsonl", clinical_notes_jsonl(3, prefix="w"))
    job = prediction_job_create(version=slow, batch=batch, chunk_size=1)
    running = job.chunks.filter(status=PredictionChunk.Status.RUNNING)
    deadline = time.monotonic() + 90
    while not running.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert running.exists()

    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/notes/upload/")
    rows = [{"id": f"u-{n}", "text": f"Essential hypertension, visit {n}."} for n in range(4)]
    file: FilePayload = {
        "name": "four.jsonl",
        "mimeType": "application/x-ndjson",
        "buffer": "".join(json.dumps(row) + "\n" for row in rows).encode(),
    }
    page.get_by_label("Notes file").set_input_files(files=[file])
    page.get_by_label("Source").fill("ward-4")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload of four.jsonl")).to_be_visible()
    expect(page.locator("#upload-status")).to_contain_text("4 notes created", timeout=90_000)
    assert UploadBatch.objects.get(source="ward-4").status == UploadBatch.Status.DONE
    assert running.count() == 1  # inference is still busy, one chunk at a time
    assert job.chunks.filter(status=PredictionChunk.Status.QUEUED).count() == 2
    support.screenshot(page, "admin-upload-beside-inference")
