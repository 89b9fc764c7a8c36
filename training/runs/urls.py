"""URLs of training runs, evaluations and model versions, under /manage/runs/."""

from django.urls import path

from training.runs import views

app_name = "runs"
urlpatterns = [
    path("", views.runs, name="list"),
    path("<int:run_id>/", views.run_detail, name="detail"),
    path("<int:run_id>/progress/", views.run_progress, name="progress"),
    path("<int:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("<int:run_id>/evaluation/", views.evaluation_detail, name="evaluation"),
    path("versions/", views.versions, name="versions"),
    path("versions/<int:version_id>/promote/", views.promote, name="promote"),
    path("versions/rollback/<str:backend>/", views.rollback, name="rollback"),
    path("schedule/", views.schedule, name="schedule"),
]
