"""Export pages: admins create snapshots; auditors and admins read and
download them. Every download is written to the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from coding_app.accounts.roles import Role, role_required, user_has_role
from coding_app.accounts.services import signed_in_user
from coding_app.audit.services import audit
from coding_app.jobs import poll_response
from training.events import TrainingAuditKind
from training.exports.filters import ExportFilterError, filters_in_words
from training.exports.forms import ExportForm
from training.exports.selectors import ExportFileMissing, export_file
from training.exports.services import export_download_record, export_snapshot_create
from training.models import ExportSnapshot

RECENT = 50


def _snapshots() -> QuerySet[ExportSnapshot]:
    return ExportSnapshot.objects.select_related("created_by", "code_release")


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN, Role.AUDITOR)
def exports(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    can_create = user_has_role(user, Role.ADMIN)
    form = ExportForm(request.POST or None) if can_create else None
    if request.method == "POST":
        if form is None:
            return HttpResponse("Only admins create exports.", status=403)
        if form.is_valid():
            try:
                snapshot = export_snapshot_create(
                    kind=form.cleaned_data["kind"], filters=form.filters(), created_by=user
                )
            except ExportFilterError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, str(error))
            else:
                return redirect(reverse("training:exports:detail", args=[snapshot.pk]))
    context = {"form": form, "snapshots": _snapshots()[:RECENT]}
    status = 400 if form is not None and form.errors else 200
    return render(request, "training/exports.html", context, status=status)


@require_GET
@role_required(Role.ADMIN, Role.AUDITOR)
def export_detail(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = get_object_or_404(_snapshots(), pk=snapshot_id)
    # Reading what an export holds is part of the audit trail, as a download
    # is; the status fragment it polls is not (it would add a row every 2 s).
    audit(
        TrainingAuditKind.EXPORT_VIEWED,
        actor=signed_in_user(request),
        snapshot_id=snapshot.pk,
        export_kind=snapshot.kind,
    )
    context = {"snapshot": snapshot, "filters": filters_in_words(snapshot.filters)}
    return render(request, "training/export_detail.html", context)


@require_GET
@role_required(Role.ADMIN, Role.AUDITOR)
def export_status(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = get_object_or_404(_snapshots(), pk=snapshot_id)
    return poll_response(
        request,
        "training/export_detail.html#status",
        {"snapshot": snapshot},
        finished=snapshot.is_finished,
    )


@require_GET
@role_required(Role.ADMIN, Role.AUDITOR, refusal="Only admins and auditors download exports.")
def export_download(request: HttpRequest, snapshot_id: int, name: str) -> FileResponse:
    snapshot = get_object_or_404(ExportSnapshot, pk=snapshot_id, status="done")
    try:
        path = export_file(snapshot, name)
    except ExportFileMissing as missing:
        raise Http404(str(missing)) from None
    export_download_record(snapshot=snapshot, name=name, by=signed_in_user(request))
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"export-{snapshot.pk}-{name}"
    )
