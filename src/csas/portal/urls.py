from django.urls import path

from csas.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("goals/<int:number>/", views.goal_detail, name="goal"),
    path("actions/<slug:slug>/", views.action_detail, name="action"),
    path("plan/", views.plan, name="plan"),
    path("partners/", views.partners, name="partners"),
    path("progress/", views.progress, name="progress"),
    path("changes/", views.changes, name="changes"),
    path("neighborhoods/", views.neighborhoods, name="neighborhoods"),
    path("neighborhoods/<slug:layer>.geojson", views.districts_geojson, name="districts_geojson"),
]
