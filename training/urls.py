from django.urls import include, path

from training import views

app_name = "training"
urlpatterns = [
    path("", views.manage_home, name="manage_home"),
    path("workers/", views.worker_status, name="worker_status"),
    path("exports/", include("training.exports.urls")),
    path("runs/", include("training.runs.urls")),
]
