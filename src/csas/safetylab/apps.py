from django.apps import AppConfig


class SafetylabConfig(AppConfig):
    name = "csas.safetylab"
    label = "safetylab"
    verbose_name = "Safety data lab"
