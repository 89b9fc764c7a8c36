from django.contrib import admin
from django.urls import include, path

from coding_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("codes/", include("coding_app.codes.urls")),
    path("desk/", include("review.urls")),
    path("manage/", include("training.urls")),
    path("notes/", include("worker.urls")),
]
