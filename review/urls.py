from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("", views.desk_home, name="desk_home"),
    path("audit/", views.audit_home, name="audit_home"),
]
