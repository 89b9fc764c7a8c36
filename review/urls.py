from django.urls import path

from review.desk import views
from review.desk.evidence import views as evidence_views
from review.stats import views as stats_views
from review.trail import views as trail_views

app_name = "review"
urlpatterns = [
    path("", views.desk_home, name="desk_home"),
    path("next/", views.next_note, name="next_note"),
    path("reviews/<int:review_id>/", views.review, name="review"),
    path(
        "reviews/<int:review_id>/suggestions/<int:suggestion_id>/decide/",
        views.decide,
        name="decide",
    ),
    path("reviews/<int:review_id>/add/", views.add_code, name="add_code"),
    path(
        "reviews/<int:review_id>/added/<int:decision_id>/remove/",
        views.remove_code,
        name="remove_code",
    ),
    path("reviews/<int:review_id>/evidence/", evidence_views.evidence_mark, name="evidence_mark"),
    path(
        "reviews/<int:review_id>/evidence/<int:span_id>/remove/",
        evidence_views.evidence_remove,
        name="evidence_remove",
    ),
    path("reviews/<int:review_id>/submit/", views.submit, name="submit"),
    path("reviews/<int:review_id>/reopen/", views.reopen, name="reopen"),
    path("reviews/<int:review_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    path("reviews/<int:review_id>/code-options/", views.code_options, name="code_options"),
    path("queue/", views.queue_admin, name="queue_admin"),
    path("queue/tasks/<int:task_id>/release/", views.queue_release, name="queue_release"),
    path("queue/tasks/<int:task_id>/reassign/", views.queue_reassign, name="queue_reassign"),
    path("audit/", stats_views.audit_home, name="audit_home"),
    path("audit/codes/", stats_views.stats_codes, name="stats_codes"),
    path("audit/agreement/", stats_views.stats_agreement, name="stats_agreement"),
    path("audit/coders/", stats_views.stats_coders, name="stats_coders"),
    path("audit/refresh/", stats_views.stats_refresh_request, name="stats_refresh"),
    path("audit/stats/<slug:name>.<slug:fmt>", stats_views.stats_download, name="stats_download"),
    path("audit/events/", trail_views.audit_events_page, name="audit_events"),
    path("audit/events.csv", trail_views.audit_events_csv, name="audit_events_csv"),
    path("audit/notes/<int:note_id>/", trail_views.audit_note, name="audit_note"),
]
