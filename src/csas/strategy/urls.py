from django.urls import path

from csas.strategy import views

app_name = "manage"

urlpatterns = [
    path("", views.home, name="home"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("versions/<int:pk>/preview/", views.version_preview, name="version_preview"),
    path("versions/<int:pk>/compare/", views.version_compare, name="version_compare"),
    path("versions/<int:pk>/translations/", views.translations, name="translations"),
    path(
        "versions/<int:pk>/translations/<str:language>/",
        views.translations_edit,
        name="translations_edit",
    ),
]
