from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "csas.engagement"
    label = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from csas.engagement import signals  # noqa: F401 (connects the receivers)
