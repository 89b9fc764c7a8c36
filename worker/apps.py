from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "worker"
    verbose_name = "Notes and inference"

    def ready(self) -> None:
        from coding_app.audit.kinds import register_kinds
        from worker.events import WorkerAuditKind

        register_kinds(self.label, WorkerAuditKind)
        # Celery discovers ``worker.tasks`` only; each sub-domain keeps its
        # own tasks beside the services that enqueue them.
        import worker.predictions.tasks
        import worker.uploads.tasks  # noqa: F401
