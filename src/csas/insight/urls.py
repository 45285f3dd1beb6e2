from django.urls import path

from csas.insight import views

app_name = "insight"

urlpatterns = [
    path("surveys/<slug:slug>/results/", views.results_public, name="results"),
    path("manage/insight/surveys/<int:pk>/results/", views.results_staff, name="results_staff"),
    path("manage/insight/surveys/<int:pk>/compare/", views.compare_staff, name="compare"),
]
