from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from coding_app.accounts.roles import Role, user_has_role


class DeskAdminSite(AdminSite):
    site_header = "Coding Desk administration"
    site_title = "Coding Desk admin"

    def has_permission(self, request: HttpRequest) -> bool:
        """Only the admin role enters the Django admin, staff flag or not."""
        return bool(request.user.is_staff) and user_has_role(request.user, Role.ADMIN)

    @login_not_required
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Everyone signs in through allauth, so MFA and rate limits always apply."""
        if request.user.is_authenticated:
            raise PermissionDenied("The Django admin is for admins only.")
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), "account_login")
