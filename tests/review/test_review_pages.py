"""The review page and its htmx endpoints, through Django's test client."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from review.desk.queue import lease_next
from review.models import Decision, Review

from .conftest import MakeNotes, prediction_of

LoginAs = Callable[[Role], User]


def leased(make_notes: MakeNotes, coder: User, **options: object) -> Review:
    make_notes(1, **options)
    review = lease_next(coder)
    assert review is not None
    return review


def test_next_note_leads_to_the_review_page(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    make_notes(1)
    coder = login_as(Role.CODER)
    response = client.post(reverse("review:next_note"))
    review = Review.objects.get(coder=coder)
    assert response["Location"] == reverse("review:review", args=[review.pk])
    html = client.get(response["Location"]).content.decode()
    assert "E11.65" in html
    assert "Type 2 diabetes mellitus with hyperglycemia" in html
    assert "<mark>" in html
    assert AuditEvent.objects.filter(kind="note_viewed", review_id=review.pk).count() == 1


def test_an_empty_queue_says_so(client: Client, login_as: LoginAs) -> None:
    login_as(Role.CODER)
    response = client.post(reverse("review:next_note"), follow=True)
    assert "No note is waiting for review" in response.content.decode()


def test_the_page_costs_the_same_queries_for_three_or_twelve_suggestions(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    small = leased(make_notes, coder, codes=("E1165", "I10", "E119"), prefix="small")
    url = reverse("review:review", args=[small.pk])
    client.get(url)  # warm caches (hierarchy, session)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    codes = (
        "E1165",
        "I10",
        "E119",
        "E1122",
        "N183",
        "I2510",
        "J449",
        "D509",
        "N390",
        "F322",
        "E785",
        "K219",
    )
    big = Review.objects.get(pk=small.pk)
    big_notes = make_notes(1, codes=codes, prefix="big")
    from review.desk.decisions import review_submit  # the small one must be out of the way
    from review.models import ReviewTask

    for row in prediction_of(small.note).suggestions.all():
        Decision.objects.create(review=big, suggestion=row, action="accept", code=row.code)
    review_submit(review_id=big.pk, coder=coder)
    other = lease_next(coder)
    assert other is not None
    assert other.note == big_notes[0]
    assert ReviewTask.objects.get(pk=other.task_id).prediction.suggestions.count() == 12
    big_url = reverse("review:review", args=[other.pk])
    client.get(big_url)
    with CaptureQueriesContext(connection) as many:
        assert client.get(big_url).status_code == 200
    assert len(many) == len(few), [q["sql"][:80] for q in many.captured_queries]


def test_a_decision_redraws_the_work_area_with_the_diff(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review = leased(make_notes, coder)
    suggestion = prediction_of(review.note).suggestions.get(code="E119")
    response = client.post(
        reverse("review:decide", args=[review.pk, suggestion.pk]),
        {"action": "replace", "replacement": "E11.649", "version": review.version},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="work"')
    assert "E11.649" in html
    # E11.9 and E11.649 share only the category; the diff pairs the model's
    # E11.65 with the coder's E11.649 and leaves E11.9 and I10 to the model.
    replaced = "→ E11.649 Type 2 diabetes mellitus with hypoglycemia without coma (same category)"
    assert replaced in html
    assert '<tr class="diff-model"><td>I10 Essential (primary) hypertension</td>' in html
    decision = Decision.objects.get(review=review)
    assert (decision.action, decision.replacement) == ("replace", "E11649")


def test_a_refused_decision_is_drawn_with_its_reason(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review = leased(make_notes, coder)
    suggestion = prediction_of(review.note).suggestions.first()
    assert suggestion is not None
    response = client.post(
        reverse("review:decide", args=[review.pk, suggestion.pk]),
        {"action": "replace", "replacement": "E11", "version": review.version},
        HTTP_HX_REQUEST="true",
    )
    assert "is not billable" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(login_as: LoginAs, make_notes: MakeNotes) -> None:
    strict = Client(enforce_csrf_checks=True)
    coder = login_as(Role.CODER)
    strict.force_login(coder)
    review = leased(make_notes, coder)
    suggestion = prediction_of(review.note).suggestions.first()
    assert suggestion is not None
    response = strict.post(
        reverse("review:decide", args=[review.pk, suggestion.pk]), {"action": "accept"}
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_another_coders_review_is_not_found(
    client: Client, make_user: Callable[..., User], make_notes: MakeNotes
) -> None:
    owner, intruder = make_user(Role.CODER), make_user(Role.CODER)
    review = leased(make_notes, owner)
    suggestion = prediction_of(review.note).suggestions.first()
    assert suggestion is not None
    client.force_login(intruder)
    assert client.get(reverse("review:review", args=[review.pk])).status_code == 404
    response = client.post(
        reverse("review:decide", args=[review.pk, suggestion.pk]),
        {"action": "accept"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert not Decision.objects.exists()


def test_heartbeat_keeps_the_lease_and_counts_time(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review = leased(make_notes, coder)
    url = reverse("review:heartbeat", args=[review.pk])
    assert client.post(url, {"active_seconds": "42"}).status_code == 204
    assert client.post(url, {"active_seconds": "100000"}).status_code == 204
    review.refresh_from_db()
    assert review.seconds_on_task == 42 + 120  # a beat counts at most two intervals
    review.task.__class__.objects.filter(pk=review.task_id).update(
        lease_expires_at="2000-01-01T00:00:00Z"
    )
    expired = client.post(url, {"active_seconds": "1"})
    assert expired.status_code == 409
    assert "expired" in expired.content.decode()


def test_code_options_show_the_relation_to_the_suggested_code(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review = leased(make_notes, coder)
    html = client.get(
        reverse("review:code_options", args=[review.pk]),
        {"replacement": "E11.64", "suggested": "E1165"},
    ).content.decode()
    assert '<option value="E11.649">' in html
    assert "sibling" in html


def test_the_queue_page_is_for_admins(client: Client, login_as: LoginAs) -> None:
    login_as(Role.CODER)
    assert client.get(reverse("review:queue_admin")).status_code == 403
