from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Review desk"

    def ready(self) -> None:
        from coding_app.audit.kinds import register_kinds
        from review.events import ReviewAuditKind

        register_kinds(self.label, ReviewAuditKind)

        from review.desk.queue import review_tasks_on_predictions_stored
        from worker.predictions.signals import predictions_stored

        predictions_stored.connect(
            review_tasks_on_predictions_stored, dispatch_uid="review-tasks-for-predictions"
        )
