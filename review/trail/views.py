"""The audit trail for auditors: browse, filter, export, open a note."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, role_required, user_has_role
from coding_app.accounts.services import signed_in_user
from coding_app.audit.kinds import kind_choices
from coding_app.audit.services import audit
from coding_app.csv_safety import csv_lines
from review.events import ReviewAuditKind
from review.stats.filters import StatsFilterError
from review.trail.details import described
from review.trail.selectors import (
    AuditFilter,
    audit_csv_rows,
    audit_events,
    audit_filter_from_query,
    audit_note_context,
)

PAGE_SIZE = 50


@require_GET
@role_required(Role.AUDITOR)
def audit_events_page(request: HttpRequest) -> HttpResponse:
    try:
        chosen = audit_filter_from_query(request.GET)
    except StatsFilterError as error:
        return render(request, "review/stats_error.html", {"error": str(error)}, status=400)
    return render(request, "review/audit_events.html", _events_context(request, chosen))


def _events_context(request: HttpRequest, chosen: AuditFilter) -> dict[str, object]:
    """One page of the trail as sentences, with the count of statistics
    views the default filter hides and the query that shows them."""
    page = Paginator(audit_events(chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    shown_too = query.copy()
    shown_too["stats_views"] = "1"
    hidden = audit_events(chosen, stats_views_only=True).count() if chosen.hides_stats_views else 0
    viewer = signed_in_user(request)
    return {
        "page_obj": page,
        "rows": described(page.object_list, can_manage=user_has_role(viewer, Role.ADMIN)),
        "hidden_stats_views": hidden,
        "show_stats_views_query": shown_too.urlencode(),
        "chosen": chosen,
        "kinds": kind_choices(),
        "query": query.urlencode(),
        "form": request.GET,
    }


@require_GET
@role_required(Role.AUDITOR, refusal="Only auditors and admins export the audit trail.")
def audit_events_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        chosen = audit_filter_from_query(request.GET)
    except StatsFilterError as error:
        return render(request, "review/stats_error.html", {"error": str(error)}, status=400)
    audit(ReviewAuditKind.AUDIT_EXPORTED, actor=signed_in_user(request), filter=chosen.as_dict())
    response = StreamingHttpResponse(
        csv_lines(audit_csv_rows(chosen)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@require_GET
@role_required(Role.AUDITOR)
def audit_note(request: HttpRequest, note_id: int) -> HttpResponse:
    """A note as an auditor reads it: text, predictions, reviews, history."""
    context = audit_note_context(note_id)
    viewer = signed_in_user(request)
    context["event_rows"] = described(
        list(context["events"]), can_manage=user_has_role(viewer, Role.ADMIN)
    )
    audit(ReviewAuditKind.NOTE_OPENED_BY_AUDITOR, actor=signed_in_user(request), note_id=note_id)
    return render(request, "review/audit_note.html", context)
