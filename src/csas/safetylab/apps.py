from typing import Any

from django.apps import AppConfig


def _forget_published_flag(**_kwargs: Any) -> None:
    from django.core.cache import cache

    from csas.safetylab.selectors import PUBLISHED_FLAG_KEY

    cache.delete(PUBLISHED_FLAG_KEY)


class SafetylabConfig(AppConfig):
    name = "csas.safetylab"
    label = "safetylab"
    verbose_name = "Safety data lab"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from csas.safetylab.models import SafetyAnalysis

        # Publishing, taking back, replacing or deleting an analysis changes the site's link.
        for signal in (post_save, post_delete):
            signal.connect(
                _forget_published_flag, sender=SafetyAnalysis, dispatch_uid=f"safety-flag-{signal}"
            )
