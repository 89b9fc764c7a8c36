"""Admins upload from the browser, follow progress, and download rejected rows."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.celery import app
from coding_app.models import User
from worker.models import Note, UploadBatch

NOTES = b'{"id": "1", "text": "Chest pain."}\n{"id": "2", "text": ""}\n'


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def post_upload(client: Client, **extra: object):
    data = {
        "source": "ward-7",
        "mode": "good_rows",
        "notes": SimpleUploadedFile("notes.jsonl", NOTES),
        **extra,
    }
    return client.post(reverse("worker:upload"), data)


def test_only_admins_reach_the_upload_page(login_as: Callable[[Role], User], client: Client):
    login_as(Role.CODER)
    assert client.get(reverse("worker:upload")).status_code == 403
    login_as(Role.ADMIN)
    assert client.get(reverse("worker:upload")).status_code == 200


@pytest.mark.usefixtures("eager_tasks")
def test_an_upload_ends_on_a_result_page_with_its_rejected_rows(
    login_as, client, django_capture_on_commit_callbacks
):
    admin = login_as(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client)
    batch = UploadBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("worker:upload_detail", args=[batch.pk])
    assert (batch.status, batch.created_by, batch.notes_created) == ("done", admin, 1)
    assert not batch.stored_path  # the kept file is gone once imported
    page = client.get(response.url).content.decode()
    assert "1 note created" in page
    assert "1 row rejected" in page
    download = client.get(reverse("worker:rejected_rows_csv", args=[batch.pk]))
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[0] == "kind,file,row,field,id,reason"
    assert lines[1] == "invalid,notes.jsonl,2,text,2,is empty"


@pytest.mark.usefixtures("eager_tasks")
def test_a_bad_reference_code_is_flagged_on_the_result_page_and_in_the_csv(
    login_as, client, django_capture_on_commit_callbacks
):
    login_as(Role.ADMIN)
    notes = b'{"id": "1", "text": "Fell at home.", "codes": ["I10", "W19.XXX"]}\n'
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, notes=SimpleUploadedFile("notes.jsonl", notes))
    batch = UploadBatch.objects.get()
    assert (batch.notes_created, batch.rejected, batch.codes_flagged) == (1, 0, 1)
    page = client.get(response.url).content.decode()
    assert "1 note created" in page
    assert "0 rows rejected; 1 reference code flagged" in page
    assert "left out of training and evaluation" in page
    download = client.get(reverse("worker:rejected_rows_csv", args=[batch.pk]))
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[1].startswith('flagged,notes.jsonl,1,codes,1,"unknown reference code in ICD-10-CM')
    assert "The nearest code that exists is W19" in lines[1]
    note = Note.objects.get(source="ward-7")
    assert note.reference_codes == ["I10", "W19.XXX"]
    note_page = client.get(reverse("worker:note_detail", args=[note.pk])).content.decode()
    flags = note_page.split('id="reference-code-flags"', 1)[1].split("</ul>", 1)[0]
    # The code is drawn as a code label (markup around it), the words follow.
    assert re.search(r"W19\.XXX(<[^>]+>)*\s*is left out of training and evaluation", flags)


def test_progress_is_polled_until_the_upload_finishes(
    login_as, client, django_capture_on_commit_callbacks
):
    login_as(Role.ADMIN)
    post_upload(client)  # queued: the on-commit enqueue never runs here
    batch = UploadBatch.objects.get()
    url = reverse("worker:upload_progress", args=[batch.pk])
    waiting = client.get(url, headers={"HX-Request": "true"})
    assert waiting.status_code == 200
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    UploadBatch.objects.filter(pk=batch.pk).update(status="done")
    finished = client.get(url, headers={"HX-Request": "true"})
    assert finished.status_code == 286  # htmx stops polling
    assert "every 2s" not in finished.content.decode()


def test_an_htmx_upload_is_sent_to_its_page(login_as, client):
    login_as(Role.ADMIN)
    data = {
        "source": "ward-7",
        "mode": "good_rows",
        "notes": SimpleUploadedFile("notes.jsonl", NOTES),
    }
    response = client.post(reverse("worker:upload"), data, headers={"HX-Request": "true"})
    batch = UploadBatch.objects.get()
    assert response["HX-Redirect"] == reverse("worker:upload_detail", args=[batch.pk])


def test_an_upload_without_a_file_or_with_a_bad_source_is_refused(login_as, client):
    login_as(Role.ADMIN)
    response = client.post(reverse("worker:upload"), {"source": "no spaces", "mode": "good_rows"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert "Use letters, digits" in response.content.decode()
    assert not UploadBatch.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_imported_by_a_worker_after_the_request(
    celery_worker_process: str, make_user, client: Client
) -> None:
    client.force_login(make_user(Role.ADMIN))
    post_upload(client)
    batch = UploadBatch.objects.get()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.is_finished:
            break
        time.sleep(0.2)
    assert (batch.status, batch.notes_created, batch.rejected) == ("done", 1, 1)
    assert Note.objects.filter(source="ward-7").count() == 1
