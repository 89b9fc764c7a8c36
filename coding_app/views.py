from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from coding_app.accounts.roles import Role, user_roles

ROLE_HOME = {
    Role.CODER: "review:desk_home",
    Role.ADMIN: "training:manage_home",
    Role.AUDITOR: "review:audit_home",
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the home page of their first role."""
    roles = user_roles(request.user)
    for role, url_name in ROLE_HOME.items():
        if role in roles:
            return redirect(url_name)
    return render(request, "coding_app/no_role.html", status=403)


@require_GET
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and the run command: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
