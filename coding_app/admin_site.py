from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class DeskAdminSite(AdminSite):
    site_header = "Coding Desk administration"
    site_title = "Coding Desk admin"

    def has_permission(self, request: HttpRequest) -> bool:
        """Only the admin role enters the Django admin, staff flag or not."""
        # Imported here: this module is loaded before the app registry is.
        from coding_app.roles import Role, user_has_role

        return bool(request.user.is_staff) and user_has_role(request.user, Role.ADMIN)


class DeskAdminConfig(AdminConfig):
    default_site = "coding_app.admin_site.DeskAdminSite"
