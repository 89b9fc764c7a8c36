"""The run pages, the retraining schedule and cancelling a run."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse

from coding_app.accounts.roles import Role
from coding_app.models import AuditEvent, User
from tests.training.run_support import coded_notes
from training.events import TrainingAuditKind
from training.models import Evaluation, RetrainSchedule, TrainingRun
from training.runs.schedule import retrain_check
from training.runs.services import training_run_cancel, training_run_create, training_run_execute
from worker.models import ModelVersion

pytestmark = pytest.mark.usefixtures("model_dir")


LoginAs = Callable[[Role], User]
QUICK = {"labels": "reference", "steps": 30}


@pytest.mark.django_db
def test_a_finished_run_shows_its_log_and_evaluation(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion
) -> None:
    admin = login_as(Role.ADMIN)
    coded_notes(40)
    run = training_run_create(
        method="head",
        base_version=zero_shot,
        hyperparameters=QUICK,
        created_by=admin,
        enqueue=False,
    )
    training_run_execute(run_id=run.pk)
    page = client.get(reverse("training:runs:detail", args=[run.pk])).content.decode()
    # A head run has no loss curve: its log says how the fit did.
    assert "on held-out folds precision" in page
    assert "Candidate version embedding-run-" in page
    assert 'hx-trigger="every 2s"' not in page  # finished: nothing to poll
    progress = client.get(reverse("training:runs:progress", args=[run.pk]))
    assert progress.status_code == 286  # htmx: stop polling
    evaluation = client.get(reverse("training:runs:evaluation", args=[run.pk]))
    assert evaluation.status_code == 200
    html = evaluation.content.decode()
    for heading in ("Micro precision", "Micro recall", "Micro F1", "Macro F1", "MAP"):
        assert f"<th>{heading}</th>" in html
    stored = Evaluation.objects.get(run=run).scores["candidate"]["code"]
    assert f"<td>{floatformat(stored['map'], 3)}</td>" in html
    assert "By chapter" in html
    listing = client.get(reverse("training:runs:list")).content.decode()
    assert f"#{run.pk}" in listing


@pytest.mark.django_db
def test_an_admin_cancels_a_queued_run_and_it_never_trains(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion
) -> None:
    admin = login_as(Role.ADMIN)
    run = training_run_create(
        method="head",
        base_version=zero_shot,
        hyperparameters=QUICK,
        created_by=admin,
        enqueue=False,
    )
    client.post(reverse("training:runs:cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    training_run_execute(run_id=run.pk)  # a late delivery of its task
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    assert run.produced_version is None
    assert AuditEvent.objects.filter(kind=TrainingAuditKind.TRAINING_RUN_CANCELLED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_running_run_on_the_training_queue_stops_when_cancelled(
    celery_worker_process: str, zero_shot: ModelVersion, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    coded_notes(20)
    run = training_run_create(
        method="head",
        base_version=zero_shot,
        created_by=admin,
        hyperparameters={"labels": "reference", "steps": 10_000_000},
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.progress.get("step", 0) > 0:
            break
        time.sleep(0.5)
    assert run.status == TrainingRun.Status.RUNNING, run.log
    training_run_cancel(run=run, by=admin)
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.5)
    assert run.status == TrainingRun.Status.CANCELLED, run.error
    assert run.produced_version is None
    assert "was cancelled at step" in run.log
    assert ModelVersion.objects.get(status="active") == zero_shot


@pytest.mark.django_db
def test_the_schedule_starts_a_run_once_enough_reviews_arrived(
    zero_shot: ModelVersion, make_user: Callable[..., User]
) -> None:
    from tests.training.export_support import note_in, review_make
    from training.splits import Split

    assert retrain_check() is None  # no schedule row yet: nothing to do
    RetrainSchedule.objects.create(pk=1, enabled=True, min_new_reviews=2)
    coder = make_user(Role.CODER)
    review_make(note_in(Split.TRAIN, prefix="s1"), coder)
    assert retrain_check() is None  # one review of the two
    review_make(note_in(Split.TRAIN, prefix="s2"), coder)
    run = retrain_check()
    assert run is not None
    assert run.method == "head"
    assert run.created_by is None
    assert retrain_check() is None  # one run waiting is enough
    RetrainSchedule.objects.filter(pk=1).update(enabled=False)
    TrainingRun.objects.update(status=TrainingRun.Status.DONE)
    review_make(note_in(Split.TRAIN, prefix="s3"), coder)
    review_make(note_in(Split.TRAIN, prefix="s4"), coder)
    assert retrain_check() is None
    assert RetrainSchedule.objects.get().last_checked_at is not None


@pytest.mark.django_db
def test_the_schedule_form_saves_for_admins_only(
    client: Client, login_as: LoginAs, zero_shot: ModelVersion
) -> None:

    login_as(Role.AUDITOR)
    url = reverse("training:runs:schedule")
    assert client.post(url, {"enabled": "on", "min_new_reviews": 5}).status_code == 403
    client.logout()
    login_as(Role.ADMIN)
    client.post(url, {"enabled": "on", "min_new_reviews": 5})
    schedule = RetrainSchedule.objects.get()
    assert schedule.enabled
    assert schedule.min_new_reviews == 5
