"""The admin's prediction pages: start a job, watch it, cancel it, and one
note with what each model version said about it; and the progress of the
machine's code index that the manage and desk homes poll."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coding_app.accounts.roles import Role, role_required
from coding_app.accounts.services import signed_in_user
from coding_app.jobs import poll_response
from coding_app.models import User
from worker.backends.index_status import code_index_status
from worker.models import Note, Prediction, PredictionChunk, PredictionJob, Suggestion
from worker.predictions import selectors
from worker.predictions.evidence import evidence_pieces
from worker.predictions.forms import PredictionJobForm
from worker.predictions.services import (
    NothingToPredict,
    NothingToRetry,
    prediction_chunks_retry,
    prediction_job_cancel,
    prediction_job_create,
)
from worker.registry.versions import active_version


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def jobs(request: HttpRequest) -> HttpResponse:
    active = active_version()
    form = PredictionJobForm(request.POST or None, initial={"model_version": active})
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            job = prediction_job_create(
                version=form.cleaned_data["model_version"],
                batch=form.cleaned_data["batch"],
                chunk_size=form.cleaned_data["chunk_size"],
                created_by=request.user,
            )
        except NothingToPredict as nothing:
            form.add_error("batch", str(nothing))
        else:
            return redirect(reverse("worker:job_detail", args=[job.pk]))
    context = {"form": form, "jobs": selectors.prediction_jobs_recent(), "active": active}
    status = 400 if form.errors else 200
    return render(request, "worker/jobs.html", context, status=status)


def _context(job: PredictionJob) -> dict[str, object]:
    progress = selectors.job_progress(job)
    done, failed = progress.percents(job.notes_total)
    return {
        "job": job,
        "progress": progress,
        "percent": done,
        "failed_percent": failed,
        "waiting": max(job.notes_total - progress.finished_notes, 0),
        "recent": selectors.job_recent_predictions(job),
    }


@require_GET
@role_required(Role.ADMIN)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(PredictionJob.objects.select_related("model_version"), pk=job_id)
    return render(request, "worker/job_detail.html", _context(job))


@require_GET
@role_required(Role.ADMIN)
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(PredictionJob.objects.select_related("model_version"), pk=job_id)
    return poll_response(
        request, "worker/job_detail.html#status", _context(job), finished=job.is_finished
    )


@require_POST
@role_required(Role.ADMIN)
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(PredictionJob, pk=job_id)
    if prediction_job_cancel(job):
        note = "running chunks stop after the batch they are on"
        messages.success(request, f"Job {job.pk} is cancelled; {note}.")
    else:
        messages.info(request, f"Job {job.pk} had already finished.")
    return redirect(reverse("worker:job_detail", args=[job.pk]))


@require_POST
@role_required(Role.ADMIN)
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Requeue one failed chunk (``chunk`` in the form) or every failed one."""
    job = get_object_or_404(PredictionJob, pk=job_id)
    chunk = request.POST.get("chunk", "")
    if chunk and not chunk.isdigit():
        return HttpResponseBadRequest("chunk must be the id of one of the job's chunks")
    try:
        chunks = prediction_chunks_retry(
            job=job, by=signed_in_user(request), chunk_id=int(chunk) if chunk else None
        )
        messages.success(request, _requeued(chunks))
    except NothingToRetry as nothing:
        messages.info(request, str(nothing))
    return redirect(reverse("worker:job_detail", args=[job.pk]))


def _requeued(chunks: list[PredictionChunk]) -> str:
    notes = sum(len(chunk.note_ids) for chunk in chunks)
    return (
        f"{len(chunks)} chunk{pluralize(len(chunks))} of {notes} "
        f"note{pluralize(notes)} sent back to the queue."
    )


@require_GET
@role_required(Role.ADMIN)
def note_detail(request: HttpRequest, note_id: int) -> HttpResponse:
    predictions = Prediction.objects.select_related("model_version").prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.order_by("rank"))
    )
    note = get_object_or_404(
        Note.objects.select_related("batch").prefetch_related(
            Prefetch("predictions", queryset=predictions.order_by("-created_at"))
        ),
        pk=note_id,
    )
    suggestions = [s for p in note.predictions.all() for s in p.suggestions.all()]
    selected = _selected(suggestions, request.GET.get("suggestion", ""))
    context = {
        "note": note,
        "selected": selected,
        "pieces": evidence_pieces(note.text, selected.evidence if selected else []),
    }
    return render(request, "worker/note_detail.html", context)


def _selected(suggestions: list[Suggestion], wanted: str) -> Suggestion | None:
    chosen = next((s for s in suggestions if str(s.pk) == wanted), None)
    return chosen or next((s for s in suggestions if s.evidence), None)


@require_GET
@role_required(Role.ADMIN, Role.CODER)
def code_index_progress(request: HttpRequest) -> HttpResponse:
    status = code_index_status()
    return poll_response(
        request,
        "components/code_index_progress.html",
        {"code_index": status},
        finished=status is None,
    )
