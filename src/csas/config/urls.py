from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from csas.api.api import api as api_v1

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
]
urlpatterns += i18n_patterns(
    path("", include("csas.portal.urls")),
    path("", include("csas.engagement.urls")),
    path("", include("csas.insight.urls")),
    path("", include("csas.insight.heard_urls")),
    path("", include("csas.insight.opinion_urls")),
    path("", include("csas.safetylab.urls")),
    path("", include("csas.progress.public_urls")),
    path("", include("csas.progress.opendata_urls")),
    path("reports/", include("csas.progress.report_urls")),
    path("accounts/", include("csas.accounts.urls")),
    path("manage/engagement/", include("csas.engagement.staff_urls")),
    path("manage/insight/coding/", include("csas.insight.coding_urls")),
    path("manage/updates/", include("csas.progress.urls")),
    path("manage/", include("csas.strategy.urls")),
    prefix_default_language=False,
)

handler400 = "csas.portal.views.error_400"
handler403 = "csas.portal.views.error_403"
handler404 = "csas.portal.views.error_404"
handler500 = "csas.portal.views.error_500"
