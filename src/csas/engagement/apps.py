from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "csas.engagement"
    label = "engagement"
    verbose_name = "Engagement"
