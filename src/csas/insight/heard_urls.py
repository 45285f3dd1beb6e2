from django.urls import URLPattern, URLResolver

app_name = "heard"

urlpatterns: list[URLPattern | URLResolver] = []
