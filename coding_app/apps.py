from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CodingAppConfig(AppConfig):
    name = "coding_app"
    verbose_name = "Coding Desk core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from coding_app.accounts.roles import ensure_role_groups
        from coding_app.audit.kinds import CoreAuditKind, register_kinds

        register_kinds(self.label, CoreAuditKind)

        # Groups are (re)built after every migrate so that a fresh database
        # and an upgraded one end with the same roles and permissions.
        post_migrate.connect(ensure_role_groups, sender=self)
