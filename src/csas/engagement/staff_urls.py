from django.urls import path

from csas.engagement import staff_views

app_name = "engagement_staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("moderation/", staff_views.moderation_queue, name="moderation"),
    path("moderation/<int:pk>/", staff_views.moderation_decide, name="moderation_decide"),
    path("feedback/new/", staff_views.feedback_new, name="feedback_new"),
    path("surveys/<int:pk>/status/", staff_views.survey_status, name="survey_status"),
    path("surveys/<int:pk>/responses.csv", staff_views.survey_export, name="survey_export"),
    path("imports/", staff_views.import_list, name="imports"),
    path("imports/<int:pk>/", staff_views.import_detail, name="import_detail"),
]
