from django.urls import path

from coding_app.codes import views

app_name = "codes"

urlpatterns = [
    path("", views.code_search, name="search"),
    path("search.json", views.code_search_json, name="search_json"),
    path("check.json", views.code_check_json, name="check_json"),
]
