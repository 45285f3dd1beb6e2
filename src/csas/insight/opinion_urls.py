from django.urls import URLPattern, URLResolver

app_name = "opinion"

urlpatterns: list[URLPattern | URLResolver] = []
