"""Issue 13, admin 3 and 4: a refused upload keeps the page (and the chosen
file) and says why; a finished upload lists the rows it turned away and
links the notes it created."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest
from playwright.sync_api import FilePayload, Page, expect

from coding_app.celery import app
from tests import admin_browser_support as support
from worker.models import Note, UploadBatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables = support.code_tables
code_set = support.code_set
page = support.page

GOOD = {"id": "n-1", "text": "Essential hypertension, treated with enalapril."}


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """The import runs inside the request that queues it (the live server's
    thread), so the result page finds it done."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def jsonl(*rows: Mapping[str, object]) -> bytes:
    return ("\n".join(json.dumps(row) for row in rows) + "\n").encode()


def choose(page: Page, name: str, content: bytes) -> None:
    file: FilePayload = {"name": name, "mimeType": "application/x-ndjson", "buffer": content}
    page.get_by_label("Notes file").set_input_files(files=[file])


@pytest.mark.usefixtures("eager_tasks")
def test_a_refused_upload_says_why_and_keeps_the_chosen_file(
    page: Page, live_server: object
) -> None:
    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/notes/upload/")
    choose(page, "ward.jsonl", jsonl(GOOD))
    page.get_by_label("Source").fill("ward 7")  # a space is not allowed
    page.get_by_role("button", name="Upload").click()

    problems = page.locator("#upload-problems")
    expect(problems).to_contain_text("Nothing was uploaded.")
    expect(problems).to_contain_text("Your file ward.jsonl is still chosen")
    expect(problems).to_contain_text("Source: Use letters, digits, dots, dashes and underscores.")
    # The header's sign-out form stays in the header, once.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(1)
    expect(page.locator("main form")).to_have_count(1)
    chosen = page.get_by_label("Notes file").evaluate("input => input.files[0]?.name")
    assert chosen == "ward.jsonl"
    support.screenshot(page, "admin-upload-refused")

    page.get_by_label("Source").fill("ward-7")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload of ward.jsonl")).to_be_visible()
    expect(page.locator("#upload-status")).to_contain_text("1 note created")
    assert UploadBatch.objects.get().source == "ward-7"


@pytest.mark.usefixtures("eager_tasks")
def test_the_result_page_lists_rejected_rows_flagged_codes_and_the_notes_created(
    page: Page, live_server: object
) -> None:
    empty = [{"id": f"e-{n}", "text": ""} for n in range(55)]
    flagged = {"id": "n-2", "text": "Fell at home.", "codes": ["I10", "W19.XXX"]}
    content = jsonl(GOOD, *empty, flagged)
    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/notes/upload/")
    choose(page, "mixed.jsonl", content)
    page.get_by_label("Source").fill("ward-7")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload of mixed.jsonl")).to_be_visible()

    rejected = page.locator("#rows-invalid")
    expect(rejected.get_by_role("heading")).to_have_text("Rejected rows (55)")
    expect(rejected).to_contain_text("The first 50 of 55; the CSV has them all.")
    expect(rejected.locator("tbody tr")).to_have_count(50)
    first = rejected.locator("tbody tr").first.locator("td")
    expect(first).to_have_text(["mixed.jsonl", "2", "text", "e-0", "is empty"])
    codes = page.locator("#rows-flagged")
    expect(codes.locator("tbody tr")).to_have_count(1)
    expect(codes).to_contain_text("unknown reference code in ICD-10-CM")
    expect(codes).to_contain_text("W19.XXX")
    created = page.locator("#created-notes")
    expect(created.get_by_role("heading")).to_have_text("Notes created (2)")
    support.screenshot(page, "admin-upload-result")

    created.get_by_role("link", name="n-2").click()
    note = Note.objects.get(external_id="n-2")
    expect(page).to_have_url(f"{live_server}/notes/{note.pk}/")
    flags = page.locator("#reference-code-flags")
    expect(flags).to_contain_text("W19.XXX")
    expect(flags).to_contain_text("left out of training and evaluation")
