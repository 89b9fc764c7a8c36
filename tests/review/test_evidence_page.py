"""The review page shows and takes the coder's evidence (Django's test client)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import User
from review.desk.decisions import DecisionInput, code_add, decide
from review.desk.note_text import note_pieces
from review.desk.queue import lease_next
from review.models import EvidenceSpan, Review

from .conftest import NOTE_TEXT, MakeNotes, prediction_of

LoginAs = Callable[[Role], User]
HYPERTENSION = "Essential hypertension"
AT = NOTE_TEXT.index(HYPERTENSION)


def accepted_i10(make_notes: MakeNotes, coder: User) -> tuple[Review, int]:
    """A leased review with I10 accepted, and I10's suggestion id."""
    make_notes(1)
    review = lease_next(coder)
    assert review is not None
    i10 = prediction_of(review.note).suggestions.get(code="I10").pk
    decide(review_id=review.pk, coder=coder, suggestion_id=i10, choice=DecisionInput("accept"))
    return review, i10


def post_mark(client: Client, review: Review, **fields: object) -> str:
    current = Review.objects.get(pk=review.pk)
    response = client.post(
        reverse("review:evidence_mark", args=[review.pk]),
        {"version": current.version, **fields},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_marked_selection_is_listed_as_the_coder_s_evidence(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review, i10 = accepted_i10(make_notes, coder)
    end = AT + len(HYPERTENSION)
    html = post_mark(
        client, review, suggestion=i10, selected=i10, start=AT, end=end, text=HYPERTENSION
    )
    assert html.lstrip().startswith('<div id="work"')
    assert 'id="work-error"' not in html
    chip = r'<li class="evidence-chip"><q>Essential hypertension</q>'
    assert re.search(r'Your evidence</span>\s*<ul class="plain evidence-chips">' + chip, html)
    assert list(EvidenceSpan.objects.values_list("start", "end", "text")) == [
        (AT, end, HYPERTENSION)
    ]

    # The note, drawn for I10, marks the coder's words apart from the model's.
    note = client.get(
        reverse("review:review", args=[review.pk]) + f"?suggestion={i10}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'<mark class="coder-evidence" title="your evidence">{HYPERTENSION}</mark>' in note
    # The test prediction's evidence is the first 50 characters, for every code.
    assert f"<mark>{NOTE_TEXT[:50]}</mark>" in note


def test_a_refusal_is_drawn_in_the_work_area(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review, i10 = accepted_i10(make_notes, coder)
    html = post_mark(client, review, suggestion=i10, start="", end="", text="")
    assert re.search(
        r'id="work-error">Select the words in the note that support the code, then press v\.<', html
    )
    stale = client.post(
        reverse("review:evidence_mark", args=[review.pk]),
        {"version": 1, "suggestion": i10, "start": AT, "end": AT + 9, "text": "Essential"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "changed in another tab or browser" in stale
    assert not EvidenceSpan.objects.exists()


def test_an_added_code_takes_evidence_and_shows_it_when_in_focus(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review, _ = accepted_i10(make_notes, coder)
    added = code_add(review_id=review.pk, coder=coder, code="I25.10")
    html = post_mark(client, review, decision=added.pk, start=AT, end=AT + 9, text="Essential")
    assert '<li class="evidence-chip"><q>Essential</q>' in html
    page = client.get(
        reverse("review:review", args=[review.pk]) + f"?added={added.pk}"
    ).content.decode()
    assert re.search(
        rf'<li class="added-code"[^>]*id="added-{added.pk}"[^>]*aria-current="true"', page
    )
    assert '<mark class="coder-evidence" title="your evidence">Essential</mark>' in page
    # Only the coder's evidence: the model said nothing about an added code.
    assert "<mark>" not in page


def test_the_cross_on_a_chip_removes_the_span(
    client: Client, login_as: LoginAs, make_notes: MakeNotes
) -> None:
    coder = login_as(Role.CODER)
    review, i10 = accepted_i10(make_notes, coder)
    post_mark(client, review, suggestion=i10, start=AT, end=AT + 9, text="Essential")
    span = EvidenceSpan.objects.get()
    current = Review.objects.get(pk=review.pk)
    html = client.post(
        reverse("review:evidence_remove", args=[review.pk, span.pk]),
        {"version": current.version, "selected": i10},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "evidence-chip" not in html
    assert not EvidenceSpan.objects.exists()


def test_the_note_pieces_cover_the_text_once_with_both_kinds_of_evidence() -> None:
    text = "ab\r\ncdefghij"
    pieces = note_pieces(text, [(0, 5)], [(3, 8), (7, 99)])
    assert [(p.text, p.model, p.coder) for p in pieces] == [
        ("ab\r", True, False),
        ("\nc", True, True),
        ("defghij", False, True),
    ]
    assert "".join(p.text for p in pieces) == text
    # A raw carriage return would reach the browser as a line feed.
    assert pieces[0].markup == "ab&#13;"
    assert [(p.text, p.marked) for p in note_pieces("<b>", [], [])] == [("<b>", False)]
    assert note_pieces("<b>", [], [])[0].markup == "&lt;b&gt;"
