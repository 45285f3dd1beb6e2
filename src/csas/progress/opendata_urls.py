from django.urls import path

from csas.progress import opendata_views

app_name = "opendata"

urlpatterns = [
    path("data/", opendata_views.index, name="index"),
    path("data/csas-datapackage.zip", opendata_views.package, name="package"),
    path("you-said-we-did/", opendata_views.you_said_we_did, name="you_said_we_did"),
]
