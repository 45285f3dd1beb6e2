from typing import Any

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic.base import RedirectView

from csas.api.api import api as api_v1


class _FaviconView(RedirectView):
    """Browsers and feed readers ask for /favicon.ico whatever the page says: send them to the
    static icon (its address is looked up per request, as the manifest storage names it)."""

    permanent = False

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("csas/favicon.svg")


urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("favicon.ico", _FaviconView.as_view(), name="favicon"),
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
