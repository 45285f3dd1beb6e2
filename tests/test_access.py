"""Every URL of the site, for every role: who may see or do what.

A new URL fails `test_every_url_is_in_the_access_matrix` until its expected answers are added.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from csas.strategy.models import Action, StrategyVersion

ROLES = ["public", "partner", "department_editor", "strategy_staff", "admin"]

# name -> (how to build the URL's arguments, expected GET status per role in ROLES order)
LOGIN = 302  # anonymous visitors are sent to sign in


def _urls(patterns: list[Any], namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            if ns == "admin":
                continue
            names |= _urls(pattern.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


MATRIX: dict[str, tuple[str, list[int]]] = {
    "portal:home": ("/", [200, 200, 200, 200, 200]),
    "favicon": ("/favicon.ico", [302] * 5),  # to the static icon
    "portal:goal": ("/goals/3/", [200, 200, 200, 200, 200]),
    "portal:action": ("/actions/3-6/", [200, 200, 200, 200, 200]),
    "portal:plan": ("/plan/", [200, 200, 200, 200, 200]),
    "portal:progress": ("/progress/", [200, 200, 200, 200, 200]),
    "portal:changes": ("/changes/", [200, 200, 200, 200, 200]),
    "portal:partners": ("/partners/", [200, 200, 200, 200, 200]),
    "portal:neighborhoods": ("/neighborhoods/", [200, 200, 200, 200, 200]),
    "portal:districts_geojson": (
        "/neighborhoods/council-districts.geojson",
        [200, 200, 200, 200, 200],
    ),
    "accounts:login": ("/accounts/login/", [200, 302, 302, 302, 302]),
    "accounts:logout": ("/accounts/logout/", [405, 405, 405, 405, 405]),  # POST only
    "manage:home": ("/manage/", [LOGIN, 200, 200, 200, 200]),
    "engagement_staff:dashboard": ("/manage/engagement/", [LOGIN, 403, 403, 200, 200]),
    "engagement_staff:moderation": ("/manage/engagement/moderation/", [LOGIN, 403, 403, 200, 200]),
    "engagement_staff:feedback_new": (
        "/manage/engagement/feedback/new/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "engagement_staff:survey_export": (
        "/manage/engagement/surveys/{open_survey_pk}/responses.csv",
        [LOGIN, 403, 403, 200, 200],
    ),
    "engagement_staff:imports": ("/manage/engagement/imports/", [LOGIN, 403, 403, 200, 200]),
    "engagement_staff:import_detail": (
        "/manage/engagement/imports/999999/",
        [LOGIN, 403, 403, 404, 404],
    ),
    # POST only; the POST permissions are tested in tests/engagement/test_staff.py
    "engagement_staff:moderation_decide": ("/manage/engagement/moderation/1/", [405] * 5),
    "engagement_staff:survey_status": ("/manage/engagement/surveys/1/status/", [405] * 5),
    "engagement:map": ("/map/", [200, 200, 200, 200, 200]),
    "engagement:map_geojson": ("/map/comments.geojson", [200, 200, 200, 200, 200]),
    "engagement:draft_review": ("/review/{draft_key}/", [404] * 5),  # not open for comment
    "opinion:conversations": ("/manage/insight/conversations/", [LOGIN, 403, 403, 200, 200]),
    "opinion:conversation": (
        "/manage/insight/conversations/999999/",
        [LOGIN, 403, 403, 404, 404],
    ),
    "opinion:priorities": (
        "/manage/insight/surveys/{open_survey_pk}/priorities/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "coding:codebook": ("/manage/insight/coding/", [LOGIN, 403, 403, 200, 200]),
    "coding:queue": ("/manage/insight/coding/queue/", [LOGIN, 403, 403, 200, 200]),
    "coding:agreement": ("/manage/insight/coding/agreement/", [LOGIN, 403, 403, 200, 200]),
    "coding:themes": ("/manage/insight/coding/themes/", [LOGIN, 403, 403, 200, 200]),
    # POST only; the POST permissions are tested in tests/insight/test_coding_views.py
    "coding:sync": ("/manage/insight/coding/sync/", [405] * 5),
    "coding:run": ("/manage/insight/coding/run/", [405] * 5),
    "coding:review": ("/manage/insight/coding/items/1/review/", [405] * 5),
    "coding:theme_promote": ("/manage/insight/coding/themes/promote/", [405] * 5),
    "heard:public_latest": ("/what-we-heard/", [200] * 5),  # says nothing is published yet
    "heard:public_detail": ("/what-we-heard/no-such-report/", [404] * 5),
    "heard:public_pdf": ("/what-we-heard/no-such-report.pdf", [404] * 5),
    "heard:staff_list": ("/manage/insight/heard/", [LOGIN, 403, 403, 200, 200]),
    "heard:staff_detail": ("/manage/insight/heard/999999/", [LOGIN, 403, 403, 404, 404]),
    "heard:staff_quotes": ("/manage/insight/heard/999999/quotes/", [LOGIN, 403, 403, 404, 404]),
    # POST only; the POST permissions are tested in tests/insight/test_heard.py
    "heard:staff_quote_remove": ("/manage/insight/heard/999999/quotes/1/remove/", [405] * 5),
    "heard:staff_publish": ("/manage/insight/heard/999999/publish/", [405] * 5),
    "heard:staff_unpublish": ("/manage/insight/heard/999999/unpublish/", [405] * 5),
    "safety:overview": ("/safety/", [404] * 5),  # nothing published in this fixture
    "safety:area": ("/safety/areas/council-district/1/", [404] * 5),
    "safety:manage": ("/manage/safety/", [LOGIN, 403, 403, 200, 200]),
    "safety:manage_publish": ("/manage/safety/1/publish/", [405] * 5),  # POST only
    "insight:compare": (
        "/manage/insight/surveys/{open_survey_pk}/compare/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "insight:results": ("/surveys/{survey}/results/", [404] * 5),  # results not published
    "insight:results_staff": (
        "/manage/insight/surveys/{open_survey_pk}/results/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "api-v1:api-root": ("/api/v1/", [404] * 5),  # no index page; the schema is below
    "api-v1:openapi-json": ("/api/v1/openapi.json", [200] * 5),
    "api-v1:strategy": ("/api/v1/strategy", [200] * 5),
    "api-v1:actions": ("/api/v1/actions", [200] * 5),
    "api-v1:updates": ("/api/v1/updates", [200] * 5),
    "api-v1:indicators": ("/api/v1/indicators", [200] * 5),
    "api-v1:observations": ("/api/v1/indicators/none/observations", [404] * 5),
    "api-v1:geographies": ("/api/v1/geographies", [200] * 5),
    "api-v1:safety": ("/api/v1/safety", [404] * 5),  # nothing published in this fixture
    "api-v1:safety_rates": ("/api/v1/safety/rates", [200] * 5),  # an empty list
    "api-v1:safety_response_times": ("/api/v1/safety/response-times", [200] * 5),
    "api-v1:safety_alternative_response": ("/api/v1/safety/alternative-response", [200] * 5),
    "api-v1:safety_hot_spots": ("/api/v1/safety/hot-spots", [200] * 5),
    "api-v1:safety_trends": ("/api/v1/safety/trends", [200] * 5),
    "api-v1:action": ("/api/v1/actions/3-6", [200] * 5),
    "progress:my_updates": ("/manage/updates/", [LOGIN, 200, 200, 200, 200]),
    "progress:update_edit": (
        "/manage/updates/actions/{own_action}/periods/999999/",
        [LOGIN, 404, 404, 404, 404],
    ),
    "progress:update_decide": ("/manage/updates/updates/1/decide/", [405] * 5),  # POST only
    # No reporting period exists in this fixture; with one, editors and staff get 200.
    "progress:sheet_export": (
        "/manage/updates/periods/999999/sheet.csv",
        [LOGIN, 403, 404, 404, 404],
    ),
    "progress:sheet_import": (
        "/manage/updates/periods/999999/sheet/import/",
        [LOGIN, 403, 404, 404, 404],
    ),
    "indicators:list": ("/indicators/", [200] * 5),
    "indicators:detail": ("/indicators/no-such-indicator/", [404] * 5),
    "opendata:index": ("/data/", [200] * 5),
    "opendata:package": ("/data/csas-datapackage.zip", [200] * 5),
    "opendata:you_said_we_did": ("/you-said-we-did/", [200] * 5),
    "reports:index": ("/reports/", [200] * 5),
    # Nothing is published for a missing period or a year without updates.
    "reports:quarterly": ("/reports/999999/", [404] * 5),
    "reports:quarterly_pdf": ("/reports/999999/report.pdf", [404] * 5),
    "reports:annual": ("/reports/annual/2026/", [404] * 5),
    "reports:annual_pdf": ("/reports/annual/2026/report.pdf", [404] * 5),
    "engagement:survey_list": ("/surveys/", [200, 200, 200, 200, 200]),
    "engagement:survey_start": ("/surveys/{survey}/", [200, 200, 200, 200, 200]),
    # The resume link is the respondent's private key to their own unfinished response.
    "engagement:survey_section": ("/surveys/{survey}/r/{token}/1/", [200, 200, 200, 200, 200]),
    "engagement:survey_review": ("/surveys/{survey}/r/{token}/review/", [200] * 5),
    # Only for a submitted response whose author opted in to follow-up.
    "engagement:survey_contact": ("/surveys/{survey}/r/{token}/contact/", [404] * 5),
    "engagement:survey_thanks": ("/surveys/{survey}/thanks/", [200, 200, 200, 200, 200]),
    "manage:action_edit": ("/manage/actions/{own_action}/edit/", [LOGIN, 403, 200, 200, 200]),
    "manage:version_preview": ("/manage/versions/{draft}/preview/", [LOGIN, 404, 404, 200, 200]),
    "manage:version_compare": (
        "/manage/versions/{published}/compare/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "manage:translations": (
        "/manage/versions/{published}/translations/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "manage:translations_edit": (
        "/manage/versions/{published}/translations/es/",
        [LOGIN, 403, 403, 200, 200],
    ),
}

# Further cases of the same URLs: another department's action, the published version, admin.
EXTRA: dict[str, tuple[str, list[int]]] = {
    "edit another department's action": (
        "/manage/actions/{other_action}/edit/",
        [LOGIN, 403, 403, 200, 200],
    ),
    "edit a missing action": ("/manage/actions/999999/edit/", [LOGIN, 404, 404, 404, 404]),
    "preview the published version": (
        "/manage/versions/{published}/preview/",
        [LOGIN, 200, 200, 200, 200],
    ),
    "admin index": ("/admin/", [302, 302, 302, 200, 200]),
    "admin action list": ("/admin/strategy/action/", [302, 302, 302, 200, 200]),
    "admin action history": (
        "/admin/strategy/action/{own_action}/history/",
        [302, 302, 302, 200, 200],
    ),
    "admin version list": ("/admin/strategy/strategyversion/", [302, 302, 302, 200, 200]),
    "admin accounts": ("/admin/accounts/user/", [302, 302, 302, 403, 200]),
    "spanish action page": ("/es/actions/3-6/", [200, 200, 200, 200, 200]),
    "unknown page": ("/no-such-page/", [404, 404, 404, 404, 404]),
    "a draft survey": ("/surveys/{draft_survey}/", [404, 404, 404, 404, 404]),
    "a made-up resume token": ("/surveys/{survey}/r/{fake_token}/1/", [404] * 5),
    "unknown goal": ("/goals/9/", [404, 404, 404, 404, 404]),
    "admin api keys": ("/admin/progress/apikey/", [302, 302, 302, 200, 200]),
    "admin you said, we did": ("/admin/progress/yousaidwedid/", [302, 302, 302, 200, 200]),
    "an unknown sheet format": (
        "/manage/updates/periods/999999/sheet.pdf",
        [LOGIN, 404, 404, 404, 404],
    ),
    "unknown map layer": ("/neighborhoods/parcels.geojson", [404, 404, 404, 404, 404]),
}


def test_every_url_is_in_the_access_matrix() -> None:
    assert _urls(get_resolver().url_patterns) == set(MATRIX)


@pytest.fixture
def url_arguments(
    tpd_action: Action,
    tfd_action: Action,
    draft_version: StrategyVersion,
    published_version: StrategyVersion,
) -> dict[str, Any]:
    from csas.engagement.models import Response
    from csas.engagement.services import survey_load_file, survey_set_status
    from tests.engagement.conftest import SMALL_SURVEY

    strategy = published_version.strategy
    draft_survey = survey_load_file(path=SMALL_SURVEY, strategy=strategy)
    draft_survey.slug = "draft-survey"
    draft_survey.save()
    open_survey = survey_load_file(path=SMALL_SURVEY, strategy=strategy)
    survey_set_status(survey=open_survey, status="open")
    token = Response.objects.create(survey=open_survey, language="en").public_id
    return {
        "own_action": tpd_action.pk,
        "other_action": tfd_action.pk,
        "draft": draft_version.pk,
        "published": published_version.pk,
        "survey": open_survey.slug,
        "open_survey_pk": open_survey.pk,
        "draft_key": draft_version.key,
        "draft_survey": draft_survey.slug,
        "token": token,
        "fake_token": "00000000-0000-0000-0000-000000000000",
    }


@pytest.mark.parametrize("case", [*MATRIX, *EXTRA])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_url_answers_each_role_as_expected(
    case: str, role_index: int, user_for: Any, url_arguments: dict[str, int]
) -> None:
    template, expected = {**MATRIX, **EXTRA}[case]
    client = Client()
    user = user_for(ROLES[role_index])
    if user is not None:
        client.force_login(user)
    response = client.get(template.format(**url_arguments))
    assert response.status_code == expected[role_index], (
        f"{case} as {ROLES[role_index]}: got {response.status_code}"
    )
    if response.status_code == LOGIN and user is None and case.startswith("manage"):
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["public", "partner", "strategy_staff", "admin"])
def test_draft_wording_never_reaches_public_pages(role: str, user_for: Any) -> None:
    client = Client()
    if user_for(role) is not None:
        client.force_login(user_for(role))
    for url in ["/", "/goals/1/", "/goals/3/", "/actions/1-1/", "/plan/", "/es/"]:
        body = client.get(url).content.decode()
        assert "Co-create Healthy PLACES" not in body, url
        if url in {"/", "/goals/1/"}:
            assert "Safe PLACES and Neighborhoods" in body, url
