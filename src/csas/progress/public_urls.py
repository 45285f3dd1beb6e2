from django.urls import path

from csas.progress import public_views

app_name = "indicators"

urlpatterns = [
    path("indicators/", public_views.indicator_list, name="list"),
    path("indicators/<slug:slug>/", public_views.indicator_detail, name="detail"),
]
