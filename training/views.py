from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, role_required
from coding_app.workers import queues_unserved, workers_online
from training import home
from worker.backends.index_status import code_index_status

# The panel polls every 10 s; a worker busy on a chunk still answers control
# messages from its main process, so a short wait is enough.
WORKER_PING_TIMEOUT_S = 1.0


@require_GET
@role_required(Role.ADMIN)
def manage_home(request: HttpRequest) -> HttpResponse:
    context = {
        "code_index": code_index_status(),
        "stages": home.note_stages(),
        "model": home.active_model(),
        "work": home.work_under_way(),
    }
    return render(request, "training/manage_home.html", context)


@require_GET
@role_required(Role.ADMIN)
def worker_status(request: HttpRequest) -> HttpResponse:
    workers = workers_online(timeout=WORKER_PING_TIMEOUT_S)
    return render(
        request,
        "training/manage_home.html#worker-status",
        {"workers": workers, "unserved": queues_unserved(workers)},
    )
