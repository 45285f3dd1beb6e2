from django.urls import URLPattern, URLResolver, path

from csas.insight import coding_views as views

app_name = "coding"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.codebook, name="codebook"),
    path("sync/", views.sync, name="sync"),
    path("run/", views.run, name="run"),
    path("queue/", views.queue, name="queue"),
    path("items/<int:pk>/review/", views.review, name="review"),
    path("agreement/", views.agreement, name="agreement"),
    path("themes/", views.themes, name="themes"),
    path("themes/promote/", views.theme_promote, name="theme_promote"),
]
