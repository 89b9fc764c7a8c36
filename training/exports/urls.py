"""URLs of training-data exports, under /manage/exports/."""

from django.urls import URLPattern, path

from training.exports import views

app_name = "exports"
urlpatterns: list[URLPattern] = [
    path("", views.exports, name="list"),
    path("<int:snapshot_id>/", views.export_detail, name="detail"),
    path("<int:snapshot_id>/status/", views.export_status, name="status"),
    path("<int:snapshot_id>/files/<str:name>", views.export_download, name="download"),
]
