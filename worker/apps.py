from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "worker"
    verbose_name = "Notes and inference"

    def ready(self) -> None:
        # Celery discovers ``worker.tasks`` only; each sub-domain keeps its
        # own tasks beside the services that enqueue them.
        import worker.predictions.tasks
        import worker.uploads.tasks  # noqa: F401
