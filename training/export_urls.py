"""URLs of training-data exports, under /manage/exports/."""

from django.urls import URLPattern

app_name = "exports"
urlpatterns: list[URLPattern] = []
