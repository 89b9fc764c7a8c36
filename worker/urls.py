from django.urls import path

from worker import api
from worker.predictions import views as prediction_views
from worker.uploads import views as upload_views

app_name = "worker"
urlpatterns = [
    path("upload/", upload_views.upload, name="upload"),
    path("uploads/<int:batch_id>/", upload_views.upload_detail, name="upload_detail"),
    path("uploads/<int:batch_id>/progress/", upload_views.upload_progress, name="upload_progress"),
    path(
        "uploads/<int:batch_id>/rejected-rows.csv",
        upload_views.rejected_rows_csv,
        name="rejected_rows_csv",
    ),
    path("<int:note_id>/", prediction_views.note_detail, name="note_detail"),
    path("predictions/", prediction_views.jobs, name="jobs"),
    path("predictions/<int:job_id>/", prediction_views.job_detail, name="job_detail"),
    path("predictions/<int:job_id>/progress/", prediction_views.job_progress, name="job_progress"),
    path("predictions/<int:job_id>/cancel/", prediction_views.job_cancel, name="job_cancel"),
    path("predictions/<int:job_id>/retry/", prediction_views.job_retry, name="job_retry"),
    path(
        "predictions/code-index/",
        prediction_views.code_index_progress,
        name="code_index_progress",
    ),
    path("api/uploads/", api.api_upload_create, name="api_upload_create"),
    path("api/uploads/<int:batch_id>/", api.api_upload_status, name="api_upload"),
]
