"""What a new coder hit on the review page (issue 13, coder items 3, 4, 6, 7):
adding codes in a row, the note scrolling to the evidence, a chart on one
screen, and scores in words."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from review.desk import decisions
from review.models import Decision, Review
from tests.review import test_desk_browser as desk_browser
from tests.review.test_desk_browser import (
    coder,
    expect_current,
    leave,
    requests_in_flight,
    screenshot,
    suggestion,
    take_next_note,
)
from worker.backends.base import NotePrediction, SuggestedCode
from worker.models import Note, UploadBatch
from worker.predictions.services import predictions_store
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# test_desk_browser's fixtures, used here by name (pytest finds them in this module).
code_tables, code_set = desk_browser.code_tables, desk_browser.code_set

__all__ = ["code_set", "code_tables"]  # fixtures, shared with test_desk_browser

# The laptop screen a coder at a hospital desk has.
SCREEN = ViewportSize(width=1366, height=768)
TEN_CODES = ("E1165", "I10", "J45909", "I2510", "E785", "K219", "F411", "R079", "I4891", "D649")


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """A 1366 x 768 page, kept from racing the flush that ends the test."""
    page.set_viewport_size(SCREEN)
    pending = requests_in_flight(page)
    yield page
    leave(page, pending)


def note_predicted(text: str, codes: Sequence[tuple[str, float, str]]) -> Note:
    """A note with ``text``, predicted with ``(code, score, evidence words)``."""
    batch = UploadBatch.objects.create(source="rows-test", file_name="t.jsonl", status="done")
    note = Note.objects.create(
        source="rows-test", external_id="r-1", text=text, text_sha256="r1", batch=batch
    )
    suggested = []
    for rank, (code, score, words) in enumerate(codes):
        start = text.index(words)
        suggested.append(
            SuggestedCode(
                code=code,
                score=score,
                evidence=((start, start + len(words)),),
                rationale=f"Suggested because of line {rank + 1}.",
            )
        )
    prediction = NotePrediction(
        note_id=note.pk,
        codes=tuple(suggested),
        reasoning="Test reasoning.",
        raw_output="{}",
        prompt_version="test-v1",
    )
    predictions_store([prediction], version=zero_shot_version_ensure(), job=None)
    return note


def test_a_coder_adds_three_codes_in_a_row_without_escape(
    page: Page, live_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_predicted(
        "Known type 2 diabetes mellitus with hyperglycemia.\nAsthma, on inhalers.",
        [("E1165", 0.6, "type 2 diabetes mellitus with hyperglycemia")],
    )
    user = coder("adds")
    # A busy server: each add takes a while, so the coder types the next
    # code while the last one is still on its way.
    add = decisions.code_add

    def slow_add(**kwargs: Any) -> Any:
        time.sleep(0.4)
        return add(**kwargs)

    monkeypatch.setattr(decisions, "code_add", slow_add)
    take_next_note(page, str(live_server), user)
    field = page.locator("#add-code")

    for code in ("J45.909", "I25.10", "E78.5"):
        page.keyboard.press("c")
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    added = page.locator("#work li.added-code a.code")
    expect(added).to_have_text(["J45.909", "I25.10", "E78.5"])
    # Back on the list with an empty field: the next c starts a new code.
    expect_current(suggestion(page, "E11.65"))
    expect(field).to_have_value("")

    page.keyboard.press("c")
    expect(field).to_be_focused()
    page.keyboard.type("I10")
    page.keyboard.press("Enter")
    expect(added).to_have_text(["J45.909", "I25.10", "E78.5", "I10"])
    expect(field).to_have_value("")
    expect(field).not_to_be_focused()
    screenshot(page, "review-codes-added-in-a-row")

    review = Review.objects.get(coder=user)
    codes = Decision.objects.filter(review=review, action=Decision.Action.ADD)
    assert list(codes.order_by("pk").values_list("code", flat=True)) == [
        "J45909",
        "I2510",
        "E785",
        "I10",
    ]


def test_a_refused_add_comes_back_into_the_field_to_be_corrected(
    page: Page, live_server: object
) -> None:
    note_predicted("Essential hypertension.", [("I10", 0.6, "Essential hypertension")])
    take_next_note(page, str(live_server), coder("typo"))
    field = page.locator("#add-code")

    page.keyboard.press("c")
    page.keyboard.type("Q99.99X")
    page.keyboard.press("Enter")
    expect(page.locator("#work-error")).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_value("Q99.99X")


# Where the note's first highlight lies, against the note's visible box.
EVIDENCE_IN_VIEW = """() => {
    const note = document.getElementById("note-text");
    const mark = note && note.querySelector("mark");
    if (!mark) return false;
    const box = note.getBoundingClientRect();
    const spot = mark.getBoundingClientRect();
    return spot.top >= box.top && spot.bottom <= box.bottom && spot.bottom <= innerHeight;
}"""


def test_j_and_k_scroll_the_note_to_the_highlighted_evidence(
    page: Page, live_server: object
) -> None:
    filler = "".join(f"Day {day}: afebrile, vitals stable, eating well.\n" for day in range(80))
    text = f"Essential hypertension, on enalapril.\n{filler}Atrial fibrillation, on apixaban.\n"
    note_predicted(
        text,
        [
            ("I10", 0.6, "Essential hypertension"),
            ("I4891", 0.4, "Atrial fibrillation, on apixaban"),
        ],
    )
    take_next_note(page, str(live_server), coder("scroll"))
    expect_current(suggestion(page, "I10"))
    page.wait_for_function(EVIDENCE_IN_VIEW)

    page.keyboard.press("j")
    expect_current(suggestion(page, "I48.91"))
    expect(page.locator("#note-text mark")).to_have_text("Atrial fibrillation, on apixaban")
    page.wait_for_function(EVIDENCE_IN_VIEW)
    # The note scrolled, not the page: the list stays where it was.
    assert page.evaluate("document.getElementById('note-text').scrollTop") > 0
    screenshot(page, "review-note-scrolled-to-evidence")

    page.keyboard.press("k")
    expect_current(suggestion(page, "I10"))
    expect(page.locator("#note-text mark")).to_have_text("Essential hypertension")
    page.wait_for_function(EVIDENCE_IN_VIEW)


def test_a_ten_code_chart_fits_on_one_laptop_screen(page: Page, live_server: object) -> None:
    lines = [f"Line {i}: finding {i} documented." for i in range(len(TEN_CODES))]
    note_predicted(
        "\n".join(lines),
        [(code, 0.6 - i * 0.05, lines[i]) for i, code in enumerate(TEN_CODES)],
    )
    take_next_note(page, str(live_server), coder("compact"))
    rows = page.locator("#work li.suggestion")
    expect(rows).to_have_count(10)
    first, second = rows.nth(0), rows.nth(1)
    expect_current(first)
    screenshot(page, "review-ten-codes-on-one-screen")

    bottoms = [box["y"] + box["height"] for box in _boxes(rows)]
    assert max(bottoms) <= SCREEN["height"], bottoms
    # One line a row; the details only on the row in focus.
    assert all(box["height"] < 40 for box in _boxes(rows)[1:]), _boxes(rows)
    expect(first.get_by_role("button", name="Accept")).to_be_visible()
    expect(second.get_by_role("button", name="Accept")).to_be_hidden()
    expect(first.locator(".rationale")).to_be_visible()

    page.keyboard.press("j")
    expect_current(second)
    expect(second.get_by_role("button", name="Accept")).to_be_visible()
    expect(first.get_by_role("button", name="Accept")).to_be_hidden()
    page.keyboard.press("a")  # the keys act on the row that shows its forms
    expect(second).to_have_class(re.compile(r"\bstate-accept\b"))


def _boxes(rows: Any) -> list[dict[str, float]]:
    return [rows.nth(i).bounding_box() for i in range(rows.count())]


def test_scores_read_likely_possible_unlikely_with_the_number_on_hover(
    page: Page, live_server: object
) -> None:
    note_predicted(
        "Known type 2 diabetes mellitus with hyperglycemia.\n"
        "Essential hypertension, on enalapril.\nAsthma, on inhalers.",
        [
            ("E1165", 0.72, "type 2 diabetes mellitus with hyperglycemia"),
            ("I10", 0.31, "Essential hypertension"),
            ("J45909", 0.0412, "Asthma"),
        ],
    )
    take_next_note(page, str(live_server), coder("scores"))
    bands = page.locator("#work li.suggestion .likelihood")
    expect(bands).to_have_text(["likely", "possible", "unlikely"])
    expect(bands.nth(0)).to_have_attribute(
        "title", "72 % chance the code is right (model score 0.7200)"
    )
    expect(bands.nth(2)).to_have_attribute(
        "title", "4 % chance the code is right (model score 0.0412)"
    )
    shown = page.locator("#work ol.suggestion-list").inner_text()
    assert not re.search(r"0\.\d\d", shown), shown  # the bare number only on hover
