"""Scripts upload with a token; the answer is JSON they can poll."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.celery import app
from worker.models import ApiToken
from worker.uploads.services import api_token_create


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def upload(client: Client, key: str | None, **data: object):
    headers = {"Authorization": f"Token {key}"} if key else {}
    notes = SimpleUploadedFile("n.jsonl", b'{"id": "1", "text": "Rash."}\n')
    body = {"source": "api", "mode": "all_or_nothing", "notes": notes, **data}
    return client.post(reverse("worker:api_upload_create"), body, headers=headers)


def test_no_token_or_a_wrong_one_is_401(client: Client, db) -> None:
    assert upload(client, None).status_code == 401
    assert upload(client, "not-a-token").status_code == 401


def test_a_coders_token_is_403(client: Client, make_user) -> None:
    _, key = api_token_create(user=make_user(Role.CODER), name="script")
    assert upload(client, key).status_code == 403


@pytest.mark.usefixtures("eager_tasks")
def test_an_admin_token_uploads_and_polls(
    client: Client, make_user, django_capture_on_commit_callbacks
) -> None:
    token, key = api_token_create(user=make_user(Role.ADMIN), name="script")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, key)
    assert response.status_code == 202
    status = client.get(response.json()["status_url"], headers={"Authorization": f"Token {key}"})
    assert status.json()["status"] == "done"
    assert status.json()["notes_created"] == 1
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.digest != key  # only a hash is kept


def test_a_revoked_token_no_longer_works(client: Client, make_user) -> None:
    token, key = api_token_create(user=make_user(Role.ADMIN), name="script")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00Z")
    assert upload(client, key).status_code == 401


def test_a_bad_upload_request_is_400_with_the_field(client: Client, make_user) -> None:
    _, key = api_token_create(user=make_user(Role.ADMIN), name="script")
    response = upload(client, key, mode="sometimes")
    assert response.status_code == 400
    assert "mode" in response.json()["errors"]


def test_the_command_prints_a_key_that_authenticates(client: Client, make_user) -> None:
    admin = make_user(Role.ADMIN)
    out = io.StringIO()
    call_command("create_api_token", admin.email, stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert upload(client, key).status_code == 202
