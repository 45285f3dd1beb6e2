"""csas's URLs plus one benchmark-only view: the bare baseline of bench_survey_submit.py.

The bare view is the floor a Django app on this server and database cannot beat: one POST
that inserts one row with raw SQL through Django's connection and answers 200. It runs
behind csas's full middleware stack; only the CSRF check is skipped (there is no form).
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from csas.config import urls as csas_urls

# Created and dropped by bench_survey_submit.py, in its own database.
BARE_TABLE_SQL = (
    "CREATE TABLE bench_bare_insert ("
    "id bigserial PRIMARY KEY, token text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


@csrf_exempt  # a baseline with no form: nothing to forge
@require_POST
def bare_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_bare_insert (token) VALUES (%s)", [request.POST.get("token", "")]
        )
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/bare-insert/", bare_insert, name="bench_bare_insert"),
    *csas_urls.urlpatterns,
]

handler400 = csas_urls.handler400
handler403 = csas_urls.handler403
handler404 = csas_urls.handler404
handler500 = csas_urls.handler500
