from django.urls import URLPattern, URLResolver, path

from csas.insight import heard_views

app_name = "heard"

urlpatterns: list[URLPattern | URLResolver] = [
    path("what-we-heard/", heard_views.public_latest, name="public_latest"),
    path("what-we-heard/<slug:slug>/", heard_views.public_detail, name="public_detail"),
    path("what-we-heard/<slug:slug>.pdf", heard_views.public_pdf, name="public_pdf"),
    path("manage/insight/heard/", heard_views.staff_list, name="staff_list"),
    path("manage/insight/heard/<int:pk>/", heard_views.staff_detail, name="staff_detail"),
    path("manage/insight/heard/<int:pk>/quotes/", heard_views.staff_quotes, name="staff_quotes"),
    path(
        "manage/insight/heard/<int:pk>/quotes/<int:quote_pk>/remove/",
        heard_views.staff_quote_remove,
        name="staff_quote_remove",
    ),
    path("manage/insight/heard/<int:pk>/publish/", heard_views.staff_publish, name="staff_publish"),
    path(
        "manage/insight/heard/<int:pk>/unpublish/",
        heard_views.staff_unpublish,
        name="staff_unpublish",
    ),
]
