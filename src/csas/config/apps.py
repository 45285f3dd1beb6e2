from django.contrib.admin.apps import AdminConfig


class CsasAdminConfig(AdminConfig):
    default_site = "csas.config.admin_site.CsasAdminSite"
