from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training and promotion"

    def ready(self) -> None:
        from coding_app.audit.kinds import register_kinds
        from training.events import TrainingAuditKind

        register_kinds(self.label, TrainingAuditKind)
        # Celery discovers ``training.tasks`` only; the export task lives
        # with the exports and registers here.
        import training.exports.tasks  # noqa: F401
