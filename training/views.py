from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, role_required
from coding_app.workers import workers_online
from worker.backends.index_status import code_index_status


@require_GET
@role_required(Role.ADMIN)
def manage_home(request: HttpRequest) -> HttpResponse:
    return render(request, "training/manage_home.html", {"code_index": code_index_status()})


@require_GET
@role_required(Role.ADMIN)
def worker_status(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "training/manage_home.html#worker-status",
        {"workers": workers_online()},
    )
