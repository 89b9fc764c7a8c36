"""Admin and auditor pages as the issue 13 screenshots showed them, fixed:
an export says its filters (or that it has none) apart from its status, an
upload counts the notes it lists, the runs form shows the chosen method's
fields, and auditors find code search in the navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from coding_app.jobs import JobStatus
from tests import admin_browser_support as support
from tests.conftest import PASSWORD
from tests.test_browser_base import sign_in
from training.models import ExportSnapshot
from worker.models import Note, UploadBatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables = support.code_tables
code_set = support.code_set
page = support.page

HEAD_ONLY = ("Folds", "Min support", "Neighbours")
LLM_ONLY = ("LoRA rank", "LoRA alpha", "Epochs", "Export snapshot (LLM methods)")


def test_an_export_says_its_filters_apart_from_its_status(page: Page, live_server: object) -> None:
    admin = support.admin_signed_in(page, str(live_server))
    bare = ExportSnapshot.objects.create(
        kind=ExportSnapshot.Kind.SFT, filters={}, created_by=admin, status=JobStatus.QUEUED
    )
    chosen = ExportSnapshot.objects.create(
        kind=ExportSnapshot.Kind.SFT,
        filters={"date_from": "2026-01-01", "chapters": ["4", "9"], "agreement_only": False},
        created_by=admin,
        status=JobStatus.QUEUED,
    )
    page.goto(f"{live_server}/manage/exports/{bare.pk}/")
    expect(page.locator(".export-filters")).to_have_text("None: every submitted review is read.")
    expect(page.get_by_role("heading", name="Status")).to_be_visible()
    support.screenshot(page, "admin-export-without-filters")

    page.goto(f"{live_server}/manage/exports/{chosen.pk}/")
    filters = page.locator("dl.export-filters")
    expect(filters.locator("dt")).to_have_text(["Submitted from", "Chapters"])
    expect(filters.locator("dd")).to_have_text(["2026-01-01", "4, 9"])


def test_an_upload_counts_the_notes_it_lists(page: Page, live_server: object) -> None:
    support.admin_signed_in(page, str(live_server))
    batch = UploadBatch.objects.create(source="ward", file_name="w.jsonl", status="done")
    for n in range(2):
        Note.objects.create(
            source="ward", external_id=f"w-{n}", text="Pain.", text_sha256=f"w{n}", batch=batch
        )
    page.goto(f"{live_server}/notes/uploads/{batch.pk}/")
    created = page.locator("#created-notes")
    expect(created.get_by_role("heading")).to_have_text("Notes created (2)")
    expect(created.get_by_role("link")).to_have_count(2)


def _expect_fields(page: Page, shown: tuple[str, ...], hidden: tuple[str, ...]) -> None:
    for label in shown:
        expect(page.get_by_label(f"{label}:", exact=True)).to_be_visible()
    for label in hidden:
        expect(page.get_by_label(f"{label}:", exact=True)).to_be_hidden()


def test_the_runs_form_shows_the_chosen_methods_fields(
    page: Page, browser: Browser, live_server: object
) -> None:
    admin = support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/manage/runs/")
    method = page.get_by_label("Method:", exact=True)
    expect(method).to_have_value("head")
    _expect_fields(page, (*HEAD_ONLY, "Learning rate"), LLM_ONLY)
    method.select_option("sft")
    _expect_fields(page, (*LLM_ONLY, "Learning rate"), HEAD_ONLY)
    support.screenshot(page, "admin-runs-sft-fields")

    # Without JavaScript nothing hides a field.
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, str(live_server), admin)
        expect(plain.get_by_role("heading", name="Manage the desk")).to_be_visible()
        plain.goto(f"{live_server}/manage/runs/")
        _expect_fields(plain, (*HEAD_ONLY, *LLM_ONLY), ())
    finally:
        context.close()


def test_an_auditor_finds_code_search_in_the_navigation(page: Page, live_server: object) -> None:
    auditor = user_create(email="audra@example.org", password=PASSWORD, roles=[Role.AUDITOR])
    sign_in(page, str(live_server), auditor)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Code search").click()
    expect(page.get_by_role("searchbox")).to_be_visible()
    expect(nav.locator("[aria-current=page]")).to_have_text(["Code search"])
