from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "csas.strategy"
    label = "strategy"
    verbose_name = "Strategy"
