"""URLs of training runs, evaluations and model versions, under /manage/runs/."""

from django.urls import URLPattern

app_name = "runs"
urlpatterns: list[URLPattern] = []
