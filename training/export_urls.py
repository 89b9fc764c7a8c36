"""URLs of training-data exports, under /manage/exports/."""

from django.urls import URLPattern, path

from training import export_views

app_name = "exports"
urlpatterns: list[URLPattern] = [
    path("", export_views.exports, name="list"),
    path("<int:snapshot_id>/", export_views.export_detail, name="detail"),
    path("<int:snapshot_id>/status/", export_views.export_status, name="status"),
    path("<int:snapshot_id>/files/<str:name>", export_views.export_download, name="download"),
]
