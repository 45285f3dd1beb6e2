from django.urls import URLPattern, URLResolver, path

from csas.safetylab import staff_views, views

app_name = "safety"

urlpatterns: list[URLPattern | URLResolver] = [
    path("safety/", views.overview, name="overview"),
    path("safety/areas/<slug:kind>/<str:code>/", views.area, name="area"),
    path("manage/safety/", staff_views.manage, name="manage"),
    path("manage/safety/<int:pk>/publish/", staff_views.manage_publish, name="manage_publish"),
]
