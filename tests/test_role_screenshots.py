"""Every page of every role, in Chromium, on a small seeded desk (issue 13).

A coder, an admin and an auditor sign in and open each page their role
reaches; each must answer 200 without a server error, and a full-page
screenshot of each is saved under ``tests/artifacts/screenshots/<role>/``
for a person to look at (the folder is ignored by git).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from coding_app.accounts.roles import Role
from coding_app.codes.store import current_hierarchy
from coding_app.jobs import JobStatus
from review.desk.decisions import DecisionInput
from review.stats.rollup import stats_refresh
from tests.review import audit_new_user_support as support
from tests.review import test_desk_browser as desk
from tests.review.conftest import predicted_notes
from tests.review.stats_support import note_with, review_submit
from tests.test_browser_base import sign_in
from training.models import Evaluation, ExportSnapshot, TrainingRun
from training.runs.evaluation import compare_versions, promotion_verdict
from training.runs.services import promotion_rule
from worker.models import ModelVersion, Note, PredictionJob
from worker.registry.versions import model_version_register, zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"
SERVER_ERRORS = ("Server Error", "Traceback", "Internal Server Error", "Page not found")

code_tables, code_set, page = support.code_tables, support.code_set, support.page


@dataclass(frozen=True)
class Seeded:
    note: Note
    batch_id: int
    job_id: int
    run_id: int
    export_id: int


def _seed() -> Seeded:
    """Notes waiting, a review through the desk, a double-coded note, a job,
    a finished run with its evaluation and an export: a little of everything."""
    active = zero_shot_version_ensure()
    notes = predicted_notes(4, codes=("E1165", "I10", "E119"), prefix="shot")
    ann, bob = support.person("ann", Role.CODER), support.person("bob", Role.CODER)
    support.desk_review(
        ann, choices={"E119": DecisionInput(action="reject", reason="not_documented")}
    )
    double = note_with(["E1165", "I10"], prefix="double")
    review_submit(double, ann, {"I10": "reject"}, slot=1)
    review_submit(double, bob, slot=2, added=["E785"])
    stats_refresh()
    admin = support.person("ada", Role.ADMIN)
    batch_id = notes[0].batch_id
    assert batch_id is not None
    job = PredictionJob.objects.create(
        model_version=active,
        batch_id=batch_id,
        chunk_size=50,
        notes_total=4,
        chunks_total=1,
        status=JobStatus.DONE,
        created_by=admin,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    candidate = model_version_register(
        name="embedding-run-1", backend=ModelVersion.Backend.EMBEDDING, base_model="", parent=active
    )
    run = TrainingRun.objects.create(
        method=TrainingRun.Method.HEAD,
        base_version=active,
        produced_version=candidate,
        status=JobStatus.DONE,
        log="Fitted on 4 notes.",
        created_by=admin,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    gold = [{"E1165", "I10"}, {"E1165"}, {"I10", "E785"}]
    comparison = compare_versions(
        note_ids=[n.pk for n in notes[:3]],
        # The candidate does worse, so "kept" is the verdict the rule gives.
        candidate=[["E1165", "E119"], ["E119"], ["I10"]],
        active=[["E1165", "I10"], ["E1165"], ["I10"]],
        gold=gold,
        hierarchy=current_hierarchy(),
    )
    promote, figures = promotion_verdict(comparison, promotion_rule())
    assert not promote
    Evaluation.objects.create(
        run=run,
        candidate=candidate,
        active=active,
        notes=comparison.notes,
        scores=comparison.scores,
        chapters=comparison.chapters,
        disagreements=comparison.disagreements,
        rule=figures,
        decision=Evaluation.Decision.KEPT,
    )
    export = ExportSnapshot.objects.create(
        kind=ExportSnapshot.Kind.SFT, filters={}, created_by=admin, status=JobStatus.QUEUED
    )
    return Seeded(notes[0], batch_id, job.pk, run.pk, export.pk)


def _visit(page: Page, base: str, role: str, name: str, path: str) -> None:
    response = page.goto(f"{base}{path}")
    assert response is not None, path
    _check(page, role, name, response.status, path)


def _check(page: Page, role: str, name: str, status: int, path: str) -> None:
    assert status == 200, f"{role} {name}: {path} answered {status}"
    page.wait_for_load_state("networkidle")
    body = page.locator("body").inner_text()
    for error in SERVER_ERRORS:
        assert error not in body, f"{role} {name}: {path} shows {error!r}"
    folder = SHOTS / role
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def _signed_in(page: Page, base: str, user_name: str, role: Role) -> None:
    page.context.clear_cookies()
    sign_in(page, base, support.person(user_name, role))
    expect(page.locator("h1").first).to_be_visible()


@pytest.fixture
def seeded(code_set: None) -> Seeded:
    return _seed()


def test_every_page_of_every_role_answers_and_is_photographed(
    page: Page, live_server: object, seeded: Seeded
) -> None:
    base = str(live_server)
    note_id = seeded.note.pk

    _signed_in(page, base, "carol", Role.CODER)
    _visit(page, base, "coder", "desk-home", "/desk/")
    page.keyboard.press("N")
    expect(page.get_by_role("heading", name=desk.NOTE_HEADING)).to_be_visible()
    review_path = page.url.removeprefix(base)
    _visit(page, base, "coder", "review", review_path)
    page.keyboard.press("?")
    page.wait_for_timeout(300)
    page.screenshot(path=SHOTS / "coder" / "review-help.png", full_page=True)
    page.keyboard.press("Escape")
    _visit(page, base, "coder", "code-search", "/codes/?q=diabetes")

    _signed_in(page, base, "ada2", Role.ADMIN)
    for name, path in (
        ("manage-home", "/manage/"),
        ("upload", "/notes/upload/"),
        ("upload-detail", f"/notes/uploads/{seeded.batch_id}/"),
        ("jobs", "/notes/predictions/"),
        ("job-detail", f"/notes/predictions/{seeded.job_id}/"),
        ("note-detail", f"/notes/{note_id}/"),
        ("queue", "/desk/queue/"),
        ("runs", "/manage/runs/"),
        ("run-detail", f"/manage/runs/{seeded.run_id}/"),
        ("evaluation", f"/manage/runs/{seeded.run_id}/evaluation/"),
        ("versions", "/manage/runs/versions/"),
        ("exports", "/manage/exports/"),
        ("export-detail", f"/manage/exports/{seeded.export_id}/"),
        ("statistics", "/desk/audit/"),
        ("users", "/admin/coding_app/user/"),
        ("code-search", "/codes/?q=hypertension"),
    ):
        _visit(page, base, "admin", name, path)

    _signed_in(page, base, "audrey", Role.AUDITOR)
    for name, path in (
        ("audit-home", "/desk/audit/"),
        ("stats-codes", "/desk/audit/codes/"),
        ("stats-agreement", "/desk/audit/agreement/"),
        ("stats-coders", "/desk/audit/coders/"),
        ("audit-events", "/desk/audit/events/"),
        ("audit-events-all", "/desk/audit/events/?stats_views=1"),
        ("audit-note", f"/desk/audit/notes/{note_id}/"),
        ("exports", "/manage/exports/"),
        ("export-detail", f"/manage/exports/{seeded.export_id}/"),
        ("code-search", "/codes/?q=E11.6"),
    ):
        _visit(page, base, "auditor", name, path)
