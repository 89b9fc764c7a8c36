from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding_app.roles import Role, role_required


@require_GET
@role_required(Role.CODER)
def desk_home(request: HttpRequest) -> HttpResponse:
    return render(request, "review/desk_home.html")


@require_GET
@role_required(Role.AUDITOR)
def audit_home(request: HttpRequest) -> HttpResponse:
    return render(request, "review/audit_home.html")
