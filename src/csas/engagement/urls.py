from django.urls import path

from csas.engagement import views

app_name = "engagement"

urlpatterns = [
    path("map/", views.map_comments, name="map"),
    path("review/<slug:key>/", views.draft_review, name="draft_review"),
    path("map/comments.geojson", views.map_comments_geojson, name="map_geojson"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<slug:slug>/", views.survey_start, name="survey_start"),
    path(
        "surveys/<slug:slug>/r/<str:token>/<int:page>/", views.survey_section, name="survey_section"
    ),
    path("surveys/<slug:slug>/r/<str:token>/review/", views.survey_review, name="survey_review"),
    path("surveys/<slug:slug>/r/<str:token>/contact/", views.survey_contact, name="survey_contact"),
    path("surveys/<slug:slug>/thanks/", views.survey_thanks, name="survey_thanks"),
]
