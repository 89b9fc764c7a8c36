"""Bad input to the desk's forms, one test per kind, through Django's test client."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.desk.queue import lease_next
from review.models import Decision, Review, ReviewTask

from .conftest import MakeNotes, prediction_of

LoginAs = Callable[[Role], User]


def leased(make_notes: MakeNotes, coder: User) -> Review:
    make_notes(1)
    review = lease_next(coder)
    assert review is not None
    return review


def test_a_decision_with_a_null_character_is_refused_and_saves_nothing(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    review = leased(make_notes, login_as(Role.CODER))
    suggestion = prediction_of(review.note).suggestions.first()
    assert suggestion is not None
    response = client.post(
        reverse("review:decide", args=[review.pk, suggestion.pk]),
        {"action": "accept", "comment": "fine\x00", "version": review.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_garbled_version_is_not_checked_as_before(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    review = leased(make_notes, login_as(Role.CODER))
    suggestion = prediction_of(review.note).suggestions.first()
    assert suggestion is not None
    for version in ("abc", "-1", "²"):
        response = client.post(
            reverse("review:decide", args=[review.pk, suggestion.pk]),
            {"action": "accept", "version": version},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200, version
    assert Decision.objects.get().action == "accept"


def test_a_heartbeat_with_unreadable_seconds_counts_none(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    review = leased(make_notes, login_as(Role.CODER))
    url = reverse("review:heartbeat", args=[review.pk])
    for seconds in ("abc", "", "inf", "nan"):
        assert client.post(url, {"active_seconds": seconds}).status_code == 204, seconds
    assert client.post(url).status_code == 204
    review.refresh_from_db()
    assert review.seconds_on_task == 0


def test_a_submission_by_htmx_sends_the_browser_to_the_desk(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    review = leased(make_notes, login_as(Role.CODER))
    for suggestion in prediction_of(review.note).suggestions.all():
        Decision.objects.create(
            review=review, suggestion=suggestion, action="accept", code=suggestion.code
        )
    response = client.post(
        reverse("review:submit", args=[review.pk]), {"version": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("review:desk_home")
    assert Review.objects.get(pk=review.pk).status == "submitted"


def test_a_reassignment_names_a_coder_or_is_refused_in_words(
    client: Client, login_as: LoginAs, make_user: Callable[..., User], make_notes: MakeNotes
) -> None:
    first, second = make_user(Role.CODER), make_user(Role.CODER)
    task = leased(make_notes, first).task
    admin = login_as(Role.ADMIN)
    url = reverse("review:queue_reassign", args=[task.pk])
    for given in ("", "abc", str(admin.pk)):
        page = client.post(url, {"coder": given}, follow=True).content.decode()
        assert "Choose a task and a coder to give it to." in page, given
    assert ReviewTask.objects.get(pk=task.pk).leased_by == first
    response = client.post(url, {"coder": second.pk})
    assert response["Location"] == reverse("review:queue_admin")
    assert ReviewTask.objects.get(pk=task.pk).leased_by == second
