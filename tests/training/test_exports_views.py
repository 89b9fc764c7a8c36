"""Export pages: who may list, create and download, and what is audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import FileResponse
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.audit.kinds import CoreAuditKind
from coding_app.models import AuditEvent, User
from tests.training.export_support import (
    note_in,
    review_make,
)
from training.events import TrainingAuditKind
from training.exports.services import export_snapshot_create, export_snapshot_write
from training.models import ExportSnapshot
from training.splits import Split

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("storage")]


@pytest.fixture
def done(make_user: Callable[..., User]) -> ExportSnapshot:
    admin = make_user(Role.ADMIN)
    review_make(note_in(Split.TRAIN, prefix="view"), make_user(Role.CODER))
    snapshot = export_snapshot_create(kind="sft", filters={}, created_by=admin)
    return export_snapshot_write(snapshot_id=snapshot.pk)


def urls(snapshot: ExportSnapshot) -> list[str]:
    return [
        reverse("training:exports:list"),
        reverse("training:exports:detail", args=[snapshot.pk]),
        reverse("training:exports:status", args=[snapshot.pk]),
        reverse("training:exports:download", args=[snapshot.pk, "train.jsonl"]),
    ]


def test_a_coder_can_neither_list_nor_download_exports(
    client: Client, login_as: Callable[[Role], User], done: ExportSnapshot
) -> None:
    login_as(Role.CODER)
    for url in urls(done):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("training:exports:list"), {"kind": "sft"}).status_code == 403
    assert not AuditEvent.objects.filter(kind=CoreAuditKind.EXPORT_DOWNLOADED).exists()


def test_an_auditor_reads_and_downloads_and_the_download_is_audited(
    client: Client, login_as: Callable[[Role], User], done: ExportSnapshot
) -> None:
    auditor = login_as(Role.AUDITOR)
    page = client.get(reverse("training:exports:list"))
    assert page.status_code == 200
    assert b"Create the export" not in page.content
    assert f"#{done.pk}".encode() in page.content
    detail = client.get(reverse("training:exports:detail", args=[done.pk]))
    assert done.sha256.encode() in detail.content
    viewed = AuditEvent.objects.get(kind=TrainingAuditKind.EXPORT_VIEWED)
    assert (viewed.actor, viewed.payload["snapshot_id"]) == (auditor, done.pk)
    response = client.get(reverse("training:exports:download", args=[done.pk, "train.jsonl"]))
    assert response.status_code == 200
    assert done.path is not None
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == (done.path / "train.jsonl").read_bytes()
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(kind=CoreAuditKind.EXPORT_DOWNLOADED)
    assert event.actor == auditor
    assert event.payload["snapshot_id"] == done.pk
    assert event.payload["file"] == "train.jsonl"
    assert event.payload["sha256"] == done.files["train.jsonl"]["sha256"]


def test_an_auditor_cannot_create_an_export(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.AUDITOR)
    response = client.post(reverse("training:exports:list"), {"kind": "sft"})
    assert response.status_code == 403
    assert not ExportSnapshot.objects.exists()


def test_an_admin_creates_an_export_and_sees_it_queued(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    admin = login_as(Role.ADMIN)
    response = client.post(reverse("training:exports:list"), {"kind": "grpo", "chapters": "4, 9"})
    snapshot = ExportSnapshot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("training:exports:detail", args=[snapshot.pk])
    assert (snapshot.kind, snapshot.created_by, snapshot.filters["chapters"]) == (
        "grpo",
        admin,
        ["4", "9"],
    )
    created = AuditEvent.objects.get(kind=TrainingAuditKind.EXPORT_CREATED)
    assert created.payload["snapshot_id"] == snapshot.pk
    page = client.get(response["Location"])
    assert b"every 2s" in page.content  # still queued: the page polls


def test_a_bad_filter_in_the_form_is_shown_on_its_field(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.ADMIN)
    response = client.post(reverse("training:exports:list"), {"kind": "sft", "chapters": "99"})
    assert response.status_code == 400
    assert b"filters.chapters: 99 is not a chapter of release" in response.content
    assert not ExportSnapshot.objects.exists()


def test_the_status_of_a_finished_export_stops_the_polling(
    client: Client, login_as: Callable[[Role], User], done: ExportSnapshot
) -> None:
    login_as(Role.ADMIN)
    response = client.get(reverse("training:exports:status", args=[done.pk]))
    assert response.status_code == 286
    assert b"train.jsonl" in response.content


def test_only_the_snapshot_files_can_be_downloaded(
    client: Client, login_as: Callable[[Role], User], done: ExportSnapshot
) -> None:
    login_as(Role.ADMIN)
    for name in ("settings.py", "..", "SHA256SUMS.bak"):
        url = reverse("training:exports:download", args=[done.pk, name])
        assert client.get(url).status_code == 404, name
    sums = client.get(reverse("training:exports:download", args=[done.pk, "SHA256SUMS"]))
    assert sums.status_code == 200


def test_the_manage_home_links_to_the_exports(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.ADMIN)
    page = client.get(reverse("training:manage_home"))
    assert reverse("training:exports:list").encode() in page.content


def test_an_auditor_finds_the_exports_in_the_navigation(
    client: Client, login_as: Callable[[Role], User]
) -> None:
    login_as(Role.AUDITOR)
    page = client.get(reverse("training:exports:list"))
    assert f'href="{reverse("training:exports:list")}"'.encode() in page.content
    assert b">Exports<" in page.content
