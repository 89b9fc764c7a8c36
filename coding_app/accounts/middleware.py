from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from coding_app.accounts.roles import Role, user_has_role

# Paths an admin without MFA may still open: sign-in, the MFA set-up itself,
# logout, static files and the health check.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz")


class AdminMfaRequiredMiddleware:
    """With ``MFA_REQUIRED_FOR_ADMINS``, send admins without TOTP to set it up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.MFA_REQUIRED_FOR_ADMINS
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and user_has_role(request.user, Role.ADMIN)
            and not Authenticator.objects.filter(
                user_id=request.user.pk, type=Authenticator.Type.TOTP
            ).exists()
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
