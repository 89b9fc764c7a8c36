"""The audit trail for auditors: filters, pages, the CSV export, the note page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import NamedTuple

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coding_app.accounts.roles import Role
from coding_app.audit.services import audit
from coding_app.models import AuditEvent, User
from review.events import ReviewAuditKind, event_ids
from review.trail.selectors import AuditFilter, audit_events
from tests.review.stats_support import note_with, review_submit
from worker.models import Note


class Trail(NamedTuple):
    alice: User
    bob: User
    first: Note
    formula: Note


@pytest.fixture
def trail(make_user: Callable[..., User]) -> Trail:
    alice = make_user(Role.CODER, email="alice@example.org")
    bob = make_user(Role.CODER, email="bob@example.org")
    first = note_with(["E1165"], prefix="first")
    formula = note_with(["I10"], prefix="=cmd|' /C calc'!A0")
    review = review_submit(first, alice)
    audit(ReviewAuditKind.NOTE_VIEWED, actor=alice, **event_ids(review=review))
    audit(ReviewAuditKind.DECISION_MADE, actor=bob, note_id=formula.pk, decision={"code": "I10"})
    return Trail(alice, bob, first, formula)


def test_filters_by_user_note_kind_and_date(trail: Trail) -> None:
    first, formula = trail.first, trail.formula
    by_alice = audit_events(AuditFilter(user="ALICE"))
    assert [event.actor_id for event in by_alice] == [trail.alice.pk]
    assert audit_events(AuditFilter(note=first.external_id)).count() == 1
    assert audit_events(AuditFilter(note=str(formula.pk))).get().kind == "decision_made"
    assert audit_events(AuditFilter(kind="note_viewed")).count() == 1
    now = timezone.now()
    assert audit_events(AuditFilter(since=now - dt.timedelta(hours=1))).count() == 2
    assert audit_events(AuditFilter(until=now - dt.timedelta(hours=1))).count() == 0


def test_pages_of_fifty_newest_first(
    client: Client, login_as: Callable[[Role], User], trail: Trail
) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=ReviewAuditKind.LEASE_TAKEN, actor=trail.bob, payload={"i": i})
        for i in range(60)
    )
    login_as(Role.AUDITOR)
    first = client.get(reverse("review:audit_events") + "?kind=lease_taken")
    assert first.status_code == 200
    assert len(first.context["page_obj"]) == 50
    second = client.get(reverse("review:audit_events") + "?kind=lease_taken&page=2")
    assert len(second.context["page_obj"]) == 10
    assert first.context["page_obj"][0].pk > second.context["page_obj"][0].pk


def test_the_page_names_each_note_by_its_external_id(
    client: Client, login_as: Callable[[Role], User], trail: Trail
) -> None:
    # The trail keeps note ids only; the page reads the external id beside.
    login_as(Role.AUDITOR)
    response = client.get(reverse("review:audit_events") + "?kind=note_viewed")
    link = reverse("review:audit_note", args=[trail.first.pk])
    assert f'<a href="{link}">{trail.first.external_id}</a>' in response.content.decode()


def test_csv_export_streams_neutralised_cells_and_is_itself_audited(
    client: Client, login_as: Callable[[Role], User], trail: Trail
) -> None:
    auditor = login_as(Role.AUDITOR)
    response = client.get(reverse("review:audit_events_csv") + "?user=bob")
    assert response.status_code == 200
    assert response.streaming
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:3] == ["id", "created_at", "kind"]
    assert len(rows) == 2
    assert rows[1][2:4] == ["decision_made", "bob@example.org"]
    assert rows[1][5] == "'=cmd|' /C calc'!A0-0"
    exported = AuditEvent.objects.get(kind=ReviewAuditKind.AUDIT_EXPORTED)
    assert exported.actor == auditor
    assert exported.payload["filter"]["user"] == "bob"


def test_opening_a_note_is_recorded(
    client: Client, login_as: Callable[[Role], User], trail: Trail
) -> None:
    auditor = login_as(Role.AUDITOR)
    first = trail.first
    response = client.get(reverse("review:audit_note", args=[first.pk]))
    assert response.status_code == 200
    assert b"Known type 2 diabetes" in response.content
    opened = AuditEvent.objects.get(kind=ReviewAuditKind.NOTE_OPENED_BY_AUDITOR)
    assert (opened.actor, opened.note_id) == (auditor, first.pk)


def test_coders_cannot_read_or_export_the_trail(
    client: Client, login_as: Callable[[Role], User], trail: Trail
) -> None:
    login_as(Role.CODER)
    first = trail.first
    assert client.get(reverse("review:audit_events")).status_code == 403
    assert client.get(reverse("review:audit_events_csv")).status_code == 403
    assert client.get(reverse("review:audit_note", args=[first.pk])).status_code == 403
    assert not AuditEvent.objects.filter(kind=ReviewAuditKind.AUDIT_EXPORTED).exists()


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("kind=erase", "kind"),
        ("since=never", "since"),
        ("since=2026-03-09&until=2026-03-01", "until"),
    ],
)
def test_bad_audit_filters_answer_400_naming_the_field(
    client: Client, login_as: Callable[[Role], User], query: str, named: str
) -> None:
    login_as(Role.AUDITOR)
    response = client.get(reverse("review:audit_events") + "?" + query)
    assert response.status_code == 400
    assert named in response.content.decode()
