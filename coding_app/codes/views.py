"""Code search and code checks for the desk: an htmx page and JSON endpoints.

Every signed-in role may use them (auditors read codes too); anonymous users
never get here (the login-required middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, role_required
from coding_app.codes.normalize import CodeCheck, check_code
from coding_app.codes.search import DEFAULT_LIMIT, MAX_LIMIT, search_codes
from coding_app.codes.store import CodeSetNotLoaded, current_hierarchy
from coding_app.htmx import HtmxHttpRequest

ANY_ROLE = (Role.CODER, Role.AUDITOR, Role.ADMIN)


@require_GET
@role_required(*ANY_ROLE)
def code_search(request: HtmxHttpRequest) -> HttpResponse:
    """The search page; htmx asks for its results fragment alone."""
    query = request.GET.get("q", "")
    context = {"query": query, "hits": search_codes(query)}
    if request.htmx:
        return render(request, "coding_app/code_search.html#results", context)
    return render(request, "coding_app/code_search.html", context)


@require_GET
@role_required(*ANY_ROLE)
def code_search_json(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "")
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return JsonResponse(
            {"error": f"limit must be a whole number up to {MAX_LIMIT}"}, status=400
        )
    if not 1 <= limit <= MAX_LIMIT:
        return JsonResponse({"error": f"limit must be between 1 and {MAX_LIMIT}"}, status=400)
    hits = search_codes(query, limit)
    return JsonResponse({"query": query, "results": [hit.as_dict() for hit in hits]})


@require_GET
@role_required(*ANY_ROLE)
def code_check_json(request: HttpRequest) -> JsonResponse:
    """Whether a written code is billable in the active release, and if not why."""
    try:
        hierarchy = current_hierarchy()
    except CodeSetNotLoaded as error:
        return JsonResponse({"error": str(error)}, status=503)
    return JsonResponse(_check_answer(check_code(request.GET.get("code", ""), hierarchy)))


def _check_answer(check: CodeCheck) -> dict[str, object]:
    entry = check.entry
    return {
        "ok": check.ok,
        "code": entry.code if entry else None,
        "dotted": entry.dotted if entry else None,
        "description": entry.description if entry else None,
        "refusal": check.refusal.value if check.refusal else None,
        "message": check.message,
        "suggestions": [
            {"code": s.code, "dotted": s.dotted, "description": s.description}
            for s in check.suggestions
        ],
    }
