"""The audit trail for auditors: browse, filter, export, open a note."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, role_required, user_has_role
from coding_app.accounts.services import signed_in_user
from coding_app.csv_safety import csv_lines
from review.audit import audit
from review.audit_trail import audit_csv_rows, audit_events, audit_filter_from_query
from review.models import AuditEvent, Decision, Review
from review.stats.filters import StatsFilterError
from worker.models import Note, Prediction, Suggestion

PAGE_SIZE = 50


@require_GET
@role_required(Role.AUDITOR)
def audit_events_page(request: HttpRequest) -> HttpResponse:
    try:
        chosen = audit_filter_from_query(request.GET)
    except StatsFilterError as error:
        return render(request, "review/stats_error.html", {"error": str(error)}, status=400)
    page = Paginator(audit_events(chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_obj": page, "chosen": chosen, "kinds": AuditEvent.Kind.choices,
        "query": query.urlencode(), "form": request.GET,
    }  # fmt: skip
    return render(request, "review/audit_events.html", context)


@require_GET
def audit_events_csv(request: HttpRequest) -> HttpResponseBase:
    # role_required is typed for HttpResponse, which a streaming one is not.
    if not user_has_role(request.user, Role.AUDITOR):
        raise PermissionDenied("Only auditors and admins export the audit trail.")
    try:
        chosen = audit_filter_from_query(request.GET)
    except StatsFilterError as error:
        return render(request, "review/stats_error.html", {"error": str(error)}, status=400)
    audit(AuditEvent.Kind.AUDIT_EXPORTED, actor=signed_in_user(request), filter=chosen.as_dict())
    response = StreamingHttpResponse(
        csv_lines(audit_csv_rows(chosen)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@require_GET
@role_required(Role.AUDITOR)
def audit_note(request: HttpRequest, note_id: int) -> HttpResponse:
    """A note as an auditor reads it: text, predictions, reviews, history."""
    predictions = Prediction.objects.select_related("model_version").prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.order_by("rank"))
    )
    note = get_object_or_404(
        Note.objects.prefetch_related(Prefetch("predictions", queryset=predictions)), pk=note_id
    )
    reviews = (
        Review.objects.filter(note=note).select_related("coder", "task", "model_version")
        .prefetch_related(Prefetch("decisions", queryset=Decision.objects.order_by("pk")))
        .order_by("task__slot", "pk")
    )  # fmt: skip
    events = AuditEvent.objects.filter(note=note).select_related("actor").order_by("-pk")[:200]
    audit(AuditEvent.Kind.NOTE_OPENED_BY_AUDITOR, actor=signed_in_user(request), note_id=note.pk)
    context = {"note": note, "reviews": reviews, "events": events}
    return render(request, "review/audit_note.html", context)
