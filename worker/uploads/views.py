"""The admin's upload pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from coding_app.accounts.roles import Role, role_required, user_has_role
from coding_app.models import User
from worker.models import UploadBatch
from worker.uploads import selectors, services
from worker.uploads.forms import UploadForm


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def upload(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        batch = services.upload_receive(created_by=request.user, **form.cleaned_data)
        url = batch_url(batch)
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"form": form, "batches": selectors.upload_batches_recent()}
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
    response = render(request, "worker/upload_detail.html#status", selectors.upload_context(batch))
    if batch.is_finished:
        # htmx swaps in the result and stops asking (status 286).
        return HttpResponseStopPolling(response.content)
    return response


@require_GET
def rejected_rows_csv(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    # role_required is typed for HttpResponse, which a streaming one is not.
    if not user_has_role(request.user, Role.ADMIN):
        raise PermissionDenied("Only admins see the rows of an upload.")
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    response = StreamingHttpResponse(
        selectors.rejected_rows_csv(batch), content_type="text/csv; charset=utf-8"
    )
    name = f"upload-{batch.pk}-rejected-rows.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
