from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "csas.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
