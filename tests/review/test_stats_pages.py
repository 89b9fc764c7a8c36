"""The statistics pages and downloads: who may read them, what they record."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.audit.kinds import CoreAuditKind
from coding_app.models import AuditEvent, User
from review.events import ReviewAuditKind
from review.stats.rollup import stats_refresh
from tests.review.stats_support import note_with, review_submit

PAGES = ["review:audit_home", "review:stats_codes", "review:stats_agreement", "review:stats_coders"]
DOWNLOADS = [
    ("codes", "csv"),
    ("levels", "json"),
    ("kappa", "csv"),
    ("coders", "json"),
    ("report", "csv"),
]


@pytest.fixture
def reviewed(make_user: Callable[..., User]) -> None:
    """Two coders on one double-coded note; the model wrote a formula as a code."""
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    note = note_with(["E1165", '=HYPERLINK("http://x")'], prefix="page")
    review_submit(note, first, {'=HYPERLINK("http://x")': "reject"}, slot=1)
    review_submit(note, second, {'=HYPERLINK("http://x")': "reject"}, slot=2, added=["I10"])
    stats_refresh()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_and_admins_read_every_page_and_each_view_is_audited(
    client: Client, login_as: Callable[[Role], User], reviewed: None, role: Role
) -> None:
    reader = login_as(role)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        if name != "review:stats_codes":  # a table only; the others have charts
            assert b"<svg" in response.content, name
    viewed = AuditEvent.objects.filter(kind=ReviewAuditKind.STATS_VIEWED, actor=reader)
    assert sorted(e.payload["page"] for e in viewed) == ["agreement", "coders", "codes", "overview"]


def test_coders_get_403_on_pages_and_downloads(
    client: Client, login_as: Callable[[Role], User], reviewed: None
) -> None:
    login_as(Role.CODER)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    for table, fmt in DOWNLOADS:
        url = reverse("review:stats_download", args=[table, fmt])
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("review:stats_refresh")).status_code == 403
    assert not AuditEvent.objects.filter(kind=CoreAuditKind.EXPORT_DOWNLOADED).exists()


def test_csv_download_neutralises_formulas_and_is_audited(
    client: Client, login_as: Callable[[Role], User], reviewed: None
) -> None:
    auditor = login_as(Role.AUDITOR)
    response = client.get(reverse("review:stats_download", args=["codes", "csv"]))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["group", "description", "suggested"]
    groups = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in groups
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    event = AuditEvent.objects.get(kind=CoreAuditKind.EXPORT_DOWNLOADED, actor=auditor)
    assert (event.payload["export"], event.payload["format"]) == ("stats-codes", "csv")


def test_json_download_holds_the_table_shown_on_the_page(
    client: Client, login_as: Callable[[Role], User], reviewed: None
) -> None:
    login_as(Role.AUDITOR)
    response = client.get(reverse("review:stats_download", args=["agreement", "json"]))
    data = json.loads(response.content)
    assert data["table"] == "agreement"
    code = next(row for row in data["rows"] if row["level"] == "code")
    assert code["notes"] == 1
    report = json.loads(
        client.get(reverse("review:stats_download", args=["report", "json"])).content
    )
    assert report["coder_agreement"]["notes"] == 1


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("since=soon", "since"),
        ("model_version=x", "model_version"),
        ("level=word", "level"),
        ("sort=evil", "sort"),
        ("min=-1", "min"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(
    client: Client, login_as: Callable[[Role], User], query: str, named: str
) -> None:
    login_as(Role.AUDITOR)
    page = "review:stats_codes" if named in ("sort", "min") else "review:audit_home"
    response = client.get(f"{reverse(page)}?{query}")
    assert response.status_code == 400
    assert named in response.content.decode()
