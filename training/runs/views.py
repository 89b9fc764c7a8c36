"""The admin's training pages: runs, evaluations, model versions, schedule."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coding_app.accounts.roles import Role, role_required
from coding_app.accounts.services import signed_in_user
from coding_app.jobs import poll_response
from training.models import Evaluation, TrainingRun
from training.runs import selectors
from training.runs.forms import RetrainScheduleForm, TrainingRunForm
from training.runs.schedule import retrain_schedule
from training.runs.services import (
    RunRefused,
    promotion_rule,
    training_run_cancel,
    training_run_create,
    version_promote,
    version_rollback,
)
from worker.models import ModelVersion
from worker.registry.adapters import AdapterLoadError
from worker.registry.promotion import PromotionRefused
from worker.registry.versions import active_version


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def runs(request: HttpRequest) -> HttpResponse:
    initial = {"base_version": active_version("embedding")}
    form = TrainingRunForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            run = training_run_create(
                method=form.cleaned_data["method"],
                base_version=form.cleaned_data["base_version"],
                snapshot=form.cleaned_data["snapshot"],
                hyperparameters=form.hyperparameters(),
                created_by=signed_in_user(request),
            )
        except (RunRefused, ValueError) as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(reverse("training:runs:detail", args=[run.pk]))
    context = selectors.runs_page() | {"form": form}
    context["schedule_form"] = RetrainScheduleForm(instance=context["schedule"])
    return render(request, "training/runs.html", context, status=400 if form.errors else 200)


def _detail_context(run: TrainingRun) -> dict[str, object]:
    return {"run": run, "curve": selectors.loss_curve(run)}


def _run(run_id: int) -> TrainingRun:
    try:
        return selectors.run_for_page(run_id)
    except TrainingRun.DoesNotExist:
        raise Http404("No such run") from None


@require_GET
@role_required(Role.ADMIN)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    return render(request, "training/run_detail.html", _detail_context(_run(run_id)))


@require_GET
@role_required(Role.ADMIN)
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(run_id)
    return poll_response(
        request,
        "training/run_detail.html#progress",
        _detail_context(run),
        finished=run.is_finished,
    )


@require_POST
@role_required(Role.ADMIN)
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun, pk=run_id)
    try:
        training_run_cancel(run=run, by=signed_in_user(request))
        messages.success(
            request, f"Run {run.pk} is cancelled; a running one stops at its next step."
        )
    except RunRefused as refused:
        messages.info(request, str(refused))
    return redirect(reverse("training:runs:detail", args=[run.pk]))


@require_GET
@role_required(Role.ADMIN)
def evaluation_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    evaluation = get_object_or_404(
        Evaluation.objects.select_related("run", "candidate", "active"), run_id=run_id
    )
    return render(request, "training/evaluation.html", selectors.evaluation_context(evaluation))


@require_GET
@role_required(Role.ADMIN)
def versions(request: HttpRequest) -> HttpResponse:
    context = {"groups": selectors.versions_by_backend(), "rule": promotion_rule()}
    return render(request, "training/versions.html", context)


@require_POST
@role_required(Role.ADMIN)
def promote(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        version_promote(version=version, by=signed_in_user(request))
        messages.success(request, f"{version.name} is now the active {version.backend} model.")
    except (PromotionRefused, AdapterLoadError) as refused:
        messages.error(request, str(refused))
    return redirect(reverse("training:runs:versions"))


@require_POST
@role_required(Role.ADMIN)
def rollback(request: HttpRequest, backend: str) -> HttpResponse:
    if backend not in ModelVersion.Backend.values:
        raise Http404("No such backend")
    try:
        restored = version_rollback(backend=backend, by=signed_in_user(request))
        messages.success(request, f"Rolled back: {restored.name} is active again.")
    except PromotionRefused as refused:
        messages.error(request, str(refused))
    return redirect(reverse("training:runs:versions"))


@require_POST
@role_required(Role.ADMIN)
def schedule(request: HttpRequest) -> HttpResponse:
    form = RetrainScheduleForm(request.POST, instance=retrain_schedule())
    if form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = signed_in_user(request)
        saved.save()
        messages.success(request, "Retraining schedule saved.")
    else:
        messages.error(request, f"Schedule not saved: {form.errors.as_text()}")
    return redirect(reverse("training:runs:list"))
