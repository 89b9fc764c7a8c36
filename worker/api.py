"""The REST endpoint for scripts: ``Authorization: Token <key>``, JSON out.

Token requests carry no session and no CSRF cookie, so the session login and
CSRF checks do not apply; the token stands in for both.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from coding_app.accounts.roles import Role, user_has_role
from coding_app.models import User
from worker.models import UploadBatch
from worker.uploads import selectors, services
from worker.uploads.forms import UploadForm

TokenView = Callable[..., HttpResponse]


def token_required(view: TokenView) -> TokenView:
    """Answer 401 without a valid token and 403 for a user who is not an admin."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        user = selectors.api_token_user(key.strip()) if scheme == "Token" and key else None
        if user is None:
            response = JsonResponse(
                {"error": "a valid 'Authorization: Token …' is needed"}, status=401
            )
            response["WWW-Authenticate"] = "Token"
            return response
        if not user_has_role(user, Role.ADMIN):
            return JsonResponse({"error": "only admins upload notes"}, status=403)
        return view(request, user, *args, **kwargs)

    return login_not_required(csrf_exempt(wrapped))


BATCH_FIELDS = [
    "source",
    "file_name",
    "mode",
    "status",
    "rows_read",
    "notes_created",
    "duplicates",
    "rejected",
    "codes_flagged",
    "text_repeats",
    "icd9_skipped",
    "error",
]


def batch_json(request: HttpRequest, batch: UploadBatch) -> dict[str, object]:
    data: dict[str, object] = {"id": batch.pk, **{n: getattr(batch, n) for n in BATCH_FIELDS}}
    data["status_url"] = request.build_absolute_uri(reverse("worker:api_upload", args=[batch.pk]))
    data["rejected_rows_url"] = request.build_absolute_uri(
        reverse("worker:rejected_rows_csv", args=[batch.pk])
    )
    return data


@require_POST
@token_required
def api_upload_create(request: HttpRequest, user: User) -> JsonResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    batch = services.upload_receive(created_by=user, **form.cleaned_data)
    return JsonResponse(batch_json(request, batch), status=202)


@require_GET
@token_required
def api_upload_status(request: HttpRequest, user: User, batch_id: int) -> JsonResponse:
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    return JsonResponse(batch_json(request, batch))
