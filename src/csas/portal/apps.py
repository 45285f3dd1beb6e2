from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "csas.portal"
    label = "portal"
    verbose_name = "Public site"
