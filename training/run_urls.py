"""URLs of training runs, evaluations and model versions, under /manage/runs/."""

from django.urls import path

from training import run_views

app_name = "runs"
urlpatterns = [
    path("", run_views.runs, name="list"),
    path("<int:run_id>/", run_views.run_detail, name="detail"),
    path("<int:run_id>/progress/", run_views.run_progress, name="progress"),
    path("<int:run_id>/cancel/", run_views.run_cancel, name="cancel"),
    path("<int:run_id>/evaluation/", run_views.evaluation_detail, name="evaluation"),
    path("versions/", run_views.versions, name="versions"),
    path("versions/<int:version_id>/promote/", run_views.promote, name="promote"),
    path("versions/rollback/<str:backend>/", run_views.rollback, name="rollback"),
    path("schedule/", run_views.schedule, name="schedule"),
]
