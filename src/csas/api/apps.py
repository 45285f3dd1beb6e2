from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "csas.api"
    label = "api"
    verbose_name = "Public API"
