from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "csas.insight"
    label = "insight"
    verbose_name = "Insight"
