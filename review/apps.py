from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Review desk"

    def ready(self) -> None:
        from coding_app.audit.kinds import register_kinds
        from review.events import ReviewAuditKind

        register_kinds(self.label, ReviewAuditKind)
