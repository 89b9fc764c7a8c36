from django.urls import path

from review import views

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
    path("reviews/<int:review_id>/submit/", views.submit, name="submit"),
    path("reviews/<int:review_id>/reopen/", views.reopen, name="reopen"),
    path("reviews/<int:review_id>/heartbeat/", views.heartbeat, name="heartbeat"),
    path("reviews/<int:review_id>/code-options/", views.code_options, name="code_options"),
    path("queue/", views.queue_admin, name="queue_admin"),
    path("queue/tasks/<int:task_id>/release/", views.queue_release, name="queue_release"),
    path("queue/tasks/<int:task_id>/reassign/", views.queue_reassign, name="queue_reassign"),
    path("audit/", views.audit_home, name="audit_home"),
]
