from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from coding_app.accounts.models import User
from coding_app.accounts.roles import Role

ROLE_LABELS = {role.value: str(role.label) for role in Role}


@admin.register(User)
class DeskUserAdmin(UserAdmin[User]):
    ordering = ("email",)
    list_display = ("email", "roles", "first_name", "last_name", "is_active", "last_login")
    list_filter = ("groups", "is_active", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Roles", {"fields": ("is_active", "is_staff", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2", "groups")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # The roles column reads each user's groups: one query for the page.
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        """The role groups a user is in (a superuser holds every role)."""
        names = [ROLE_LABELS.get(group.name, group.name) for group in user.groups.all()]
        if user.is_superuser:
            names.append("every role (superuser)")
        return ", ".join(sorted(names)) or "none"
