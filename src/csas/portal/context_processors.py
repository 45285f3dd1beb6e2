from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url


def site(request: HttpRequest) -> dict[str, Any]:
    """Site name and the current page's address in each public language."""
    languages = [
        {"code": code, "name": name, "url": translate_url(request.get_full_path(), code)}
        for code, name in settings.LANGUAGES
    ]
    return {
        "site_name": settings.CSAS_SITE_NAME,
        "language_links": languages,
        "map_tile_url": settings.MAP_TILE_URL,
    }
