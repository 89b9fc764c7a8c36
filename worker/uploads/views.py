"""The admin's upload pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from coding_app.accounts.roles import Role, role_required
from coding_app.htmx import HtmxHttpRequest
from coding_app.jobs import poll_response
from coding_app.models import User
from worker.models import UploadBatch
from worker.uploads import selectors, services
from worker.uploads.forms import UploadForm


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def upload(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        batch = services.upload_receive(created_by=request.user, **form.cleaned_data)
        url = batch_url(batch)
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    chosen = request.FILES.get("notes")
    context = {
        "form": form,
        "batches": selectors.upload_batches_recent(),
        "chosen_file": chosen.name if chosen else "",
    }
    # htmx swaps no 4xx answer by default, so it gets the errors with a 200.
    status = 400 if form.errors and not request.htmx else 200
    return render(request, "worker/upload.html", context, status=status)


def batch_url(batch: UploadBatch) -> str:
    return reverse("worker:upload_detail", args=[batch.pk])


@require_GET
@role_required(Role.ADMIN)
def upload_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    return render(request, "worker/upload_detail.html", selectors.upload_context(batch))


@require_GET
@role_required(Role.ADMIN)
def upload_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    return poll_response(
        request,
        "worker/upload_detail.html#status",
        selectors.upload_context(batch),
        finished=batch.is_finished,
    )


@require_GET
@role_required(Role.ADMIN, refusal="Only admins see the rows of an upload.")
def rejected_rows_csv(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    response = StreamingHttpResponse(
        selectors.rejected_rows_csv(batch), content_type="text/csv; charset=utf-8"
    )
    name = f"upload-{batch.pk}-rejected-rows.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
