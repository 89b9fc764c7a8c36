"""The auditor's statistics pages and their downloads: read-only, for
auditors and admins; every page view and download is itself audited."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from coding_app.accounts.roles import Role, role_required
from coding_app.accounts.services import signed_in_user
from coding_app.audit.kinds import CoreAuditKind
from coding_app.audit.services import audit
from coding_app.csv_safety import csv_lines
from review.events import ReviewAuditKind
from review.stats import pages
from review.stats.filters import StatsFilter, StatsFilterError, filter_from_query
from review.stats.report import agreement_report_csv_rows, report_for
from review.stats.rollup import stats_refresh_soon
from review.stats.tables import TABLES, table


def _refused(request: HttpRequest, error: StatsFilterError) -> HttpResponse:
    return render(request, "review/stats_error.html", {"error": str(error)}, status=400)


def _page(request: HttpRequest, page: str) -> HttpResponse:
    try:
        chosen = filter_from_query(request.GET)
        context = pages.page_context(page, chosen, request.GET)
    except StatsFilterError as error:
        return _refused(request, error)
    audit(
        ReviewAuditKind.STATS_VIEWED,
        actor=signed_in_user(request),
        page=page,
        filter=chosen.as_dict(),
    )
    return render(request, f"review/{pages.TEMPLATES[page]}", context)


@require_GET
@role_required(Role.AUDITOR)
def audit_home(request: HttpRequest) -> HttpResponse:
    """The auditor's dashboard: the model against the coders."""
    return _page(request, "overview")


@require_GET
@role_required(Role.AUDITOR)
def stats_codes(request: HttpRequest) -> HttpResponse:
    return _page(request, "codes")


@require_GET
@role_required(Role.AUDITOR)
def stats_agreement(request: HttpRequest) -> HttpResponse:
    return _page(request, "agreement")


@require_GET
@role_required(Role.AUDITOR)
def stats_coders(request: HttpRequest) -> HttpResponse:
    return _page(request, "coders")


@require_POST
@role_required(Role.AUDITOR)
def stats_refresh_request(request: HttpRequest) -> HttpResponse:
    stats_refresh_soon()
    messages.info(request, "The figures are being recomputed; reload in a minute.")
    return redirect("review:audit_home")


def _audit_download(request: HttpRequest, what: str, fmt: str, chosen: StatsFilter) -> None:
    audit(
        CoreAuditKind.EXPORT_DOWNLOADED,
        actor=signed_in_user(request),
        export=f"stats-{what}",
        format=fmt,
        filter=chosen.as_dict(),
    )


@require_GET
@role_required(Role.AUDITOR, refusal="Only auditors and admins download statistics.")
def stats_download(request: HttpRequest, name: str, fmt: str) -> HttpResponseBase:
    """One table of a statistics page as CSV (formula-safe) or JSON."""
    if (name not in TABLES and name != "report") or fmt not in ("csv", "json"):
        return HttpResponse(
            f"No download “{name[:30]}.{fmt[:10]}”.", status=404, content_type="text/plain"
        )
    try:
        chosen = filter_from_query(request.GET)
        query = pages.breakdown_query(request.GET) if name == "codes" else None
    except StatsFilterError as error:
        return _refused(request, error)
    _audit_download(request, name, fmt, chosen)
    if name == "report":
        return _report_download(chosen, fmt)
    result = table(name, chosen, query)
    if fmt == "json":
        return _json(result.as_dict() | {"filter": chosen.as_dict()}, f"stats-{name}.json")
    return _csv(result.csv_rows(), f"stats-{name}.csv")


def _report_download(chosen: StatsFilter, fmt: str) -> HttpResponseBase:
    report = report_for(chosen)
    if fmt == "json":
        return _json(report, "agreement-report.json")
    return _csv(agreement_report_csv_rows(report), "agreement-report.csv")


def _json(data: object, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=1, default=str), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv(rows: Iterable[Iterable[object]], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
