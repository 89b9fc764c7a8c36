"""Issue 13, admin 5: the manage home shows where the notes are, the model at
work and the work under way; one nav link is current; "Roll back" only when
there is a version to go back to; the user list shows roles."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings

from coding_app.accounts.roles import Role
from coding_app.accounts.services import user_create
from review.desk.queue import lease_next, review_tasks_materialize
from review.models import ReviewTask
from tests import admin_browser_support as support
from tests.conftest import PASSWORD
from tests.review.conftest import predicted_notes
from tests.training.export_support import review_make
from training.models import Evaluation, TrainingRun
from worker.models import ModelVersion, Note, UploadBatch
from worker.predictions import services
from worker.registry.versions import zero_shot_version_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

code_tables = support.code_tables
code_set = support.code_set
page = support.page


def desk_with_work(monkeypatch: pytest.MonkeyPatch) -> ModelVersion:
    """5 predicted notes (1 leased, 1 reviewed, 3 waiting), a job of 4 notes
    queued, a head run running, and an evaluation of the active version."""
    version = zero_shot_version_ensure()
    notes = predicted_notes(5)
    review_tasks_materialize(version)
    coder = user_create(email="coder@example.org", password=PASSWORD, roles=[Role.CODER])
    lease_next(coder)
    reviewer = user_create(email="coder2@example.org", password=PASSWORD, roles=[Role.CODER])
    reviewed = review_make(notes[-1], reviewer)
    ReviewTask.objects.filter(pk=reviewed.task_id).update(state=ReviewTask.State.DONE)

    batch = UploadBatch.objects.create(source="later", file_name="later.jsonl", status="done")
    Note.objects.bulk_create(
        Note(
            source="later",
            external_id=f"l-{n}",
            text="Chest pain.",
            text_sha256=f"l{n}",
            batch=batch,
        )
        for n in range(4)
    )
    monkeypatch.setattr(services, "_dispatch", lambda chunk_ids: None)  # no worker here
    services.prediction_job_create(version=version, batch=batch, chunk_size=2)
    TrainingRun.objects.create(method="head", base_version=version, status="running")
    done = TrainingRun.objects.create(method="head", base_version=version, status="done")
    scores = {"candidate": {"category": {"f1_micro": 0.532}}}
    Evaluation.objects.create(
        run=done, candidate=version, active=None, notes=25, scores=scores, decision="promoted"
    )
    return version


def test_the_manage_home_shows_the_state_of_the_desk(
    page: Page, live_server: object, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REVIEW_DOUBLE_CODING_PER_MILLE = 0  # one task per note, to count them
    desk_with_work(monkeypatch)
    support.admin_signed_in(page, str(live_server))

    stages = page.locator("#note-stages")
    expect(stages.locator("dd")).to_have_text(["4", "3", "1", "1"])
    expect(stages).to_contain_text("Being predicted")
    expect(stages).not_to_contain_text("Held")
    model = page.locator("#active-model")
    expect(model).to_contain_text("minilm-zero-shot")
    expect(model).to_contain_text("category F1 0.532")
    under_way = page.locator("#work-under-way")
    expect(under_way).to_contain_text(
        re.compile(r"Prediction job #\d+ \(minilm-zero-shot, 4 notes\): queued")
    )
    expect(under_way).to_contain_text(re.compile(r"Training run #\d+ .*: running"))
    expect(page.locator("#worker-status")).to_contain_text(
        re.compile(r"default, inference, training|No worker answers")
    )
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("[aria-current=page]")).to_have_text(["Manage"])
    support.screenshot(page, "admin-manage-home")

    page.goto(f"{live_server}/manage/exports/")
    expect(nav.locator("[aria-current=page]")).to_have_text(["Exports"])
    page.goto(f"{live_server}/notes/predictions/")
    expect(nav.locator("[aria-current=page]")).to_have_text(["Manage"])


def test_roll_back_is_offered_only_with_a_version_to_go_back_to(
    page: Page, live_server: object
) -> None:
    first = zero_shot_version_ensure()
    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/manage/runs/versions/")
    expect(page.get_by_role("button", name=re.compile("^Roll back"))).to_have_count(0)
    expect(page.get_by_text("No earlier active version to roll back to.")).to_be_visible()

    ModelVersion.objects.create(
        name="head-2", backend="embedding", base_model=first.base_model, parent=first
    )
    page.reload()
    page.get_by_role("row", name=re.compile("head-2")).get_by_role("button", name="Promote").click()
    expect(page.get_by_role("status")).to_contain_text("head-2 is now the active embedding model")
    page.get_by_role("button", name="Roll back to minilm-zero-shot").click()
    expect(page.get_by_role("status")).to_contain_text("minilm-zero-shot is active again")
    support.screenshot(page, "admin-versions")


def test_the_user_list_has_a_roles_column(page: Page, live_server: object) -> None:
    user_create(email="both@example.org", password=PASSWORD, roles=[Role.CODER, Role.AUDITOR])
    support.admin_signed_in(page, str(live_server))
    page.goto(f"{live_server}/admin/coding_app/user/")
    expect(page.get_by_role("columnheader", name="Roles")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("both@example.org"))
    expect(row).to_contain_text("Auditor, Coder")
    expect(page.get_by_role("row", name=re.compile("admin@example.org"))).to_contain_text("Admin")
    support.screenshot(page, "admin-user-list")
