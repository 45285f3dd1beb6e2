"""Public open data pages: the bulk download and "You said, we did".

Both read only published content, through `version_get_published` and the selectors.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from csas.progress.datapackage import (
    DATA_LICENSE,
    FORMAT_VERSION,
    datapackage_contents,
    datapackage_summary,
    datapackage_zip_cached,
)
from csas.progress.you_said_selectors import you_said_list_public
from csas.strategy import selectors
from csas.strategy.i18n import localized

YOU_SAID_FIELDS = ("theme", "what_we_heard", "what_we_did")


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """What the data package holds, its licence, and where the API schema is."""
    version = selectors.version_get_published()
    contents = datapackage_contents(version)
    resources = datapackage_summary(contents)
    return render(
        request,
        "progress/opendata.html",
        {
            "version": version,
            "strategy": version.strategy,
            "resources": resources,
            "tables": [r for r in resources if r.format == "csv"],
            "layers": [r for r in resources if r.format == "geojson"],
            "geo_sources": sorted({s for layer in contents.layers for s in layer.sources}),
            "license": DATA_LICENSE,
            "format_version": FORMAT_VERSION,
            "filename": contents.filename,
            "openapi_url": reverse("api-v1:openapi-json"),
        },
    )


@require_safe
def package(request: HttpRequest) -> HttpResponse:
    """The data package as a zip: built once for the same data (`datapackage_zip_cached`),
    with its data's fingerprint as the ETag, so a client that has it gets a 304."""
    version = selectors.version_get_published()
    built = datapackage_zip_cached(version)
    etag = quote_etag(built.fingerprint)
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        built.data, content_type="application/zip"
    )
    if response.status_code == 200:
        response["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response["ETag"] = etag
    # Let browsers and proxies reuse it for a while without asking.
    patch_cache_control(response, public=True, max_age=300)
    return response


@require_safe
def you_said_we_did(request: HttpRequest) -> HttpResponse:
    """Engagement themes, what the City heard and did, and the actions that answer them."""
    version = selectors.version_get_published()
    themes = you_said_list_public(version)
    language = (get_language() or "en").split("-")[0]
    fallback = language != "en" and (
        any(
            localized(item.theme, field, language).is_fallback
            for item in themes
            for field in YOU_SAID_FIELDS
        )
        or any(
            localized(action, "title", language).is_fallback
            for item in themes
            for action in item.actions
        )
    )
    return render(
        request,
        "progress/you_said_we_did.html",
        {
            "version": version,
            "strategy": version.strategy,
            "themes": themes,
            "content_fallback": fallback,
        },
    )
