from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "csas.progress"
    label = "progress"
    verbose_name = "Implementation and accountability"
