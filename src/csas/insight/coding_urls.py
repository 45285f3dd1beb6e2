from django.urls import URLPattern, URLResolver

app_name = "coding"

urlpatterns: list[URLPattern | URLResolver] = []
