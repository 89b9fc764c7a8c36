from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from coding_app.accounts.models import User


@admin.register(User)
class DeskUserAdmin(UserAdmin[User]):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "last_login")
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
