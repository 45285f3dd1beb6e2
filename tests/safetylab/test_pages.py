"""Public safety pages: published analyses only, figures equal to the stored ones."""

from __future__ import annotations

import doctest
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.formats import number_format

from csas.safetylab import charts, selectors
from csas.safetylab.models import SafetyAnalysis, SafetyAreaRate
from csas.safetylab.services import safety_analysis_set_published
from csas.strategy.models import Geography, GeographyKind

OVERVIEW = "/safety/"


def _text(response: Any) -> str:
    """The page's visible text with tags removed and spaces collapsed."""
    content = response.content.decode()
    content = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", content, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


def _area_url(kind: str, code: str) -> str:
    return reverse("safety:area", args=[selectors.SLUG_OF_KIND[kind], code])


# --- drafts are never public ------------------------------------------------------------------


def test_overview_is_not_found_when_no_analysis_is_loaded(client: Client, db: Any) -> None:
    assert client.get(OVERVIEW).status_code == 404


def test_overview_is_not_found_when_only_a_draft_exists(
    client: Client, draft: SafetyAnalysis
) -> None:
    assert client.get(OVERVIEW).status_code == 404


def test_area_page_is_not_found_for_a_draft(client: Client, draft: SafetyAnalysis) -> None:
    assert client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")).status_code == 404


def test_a_taken_back_analysis_is_no_longer_public(
    client: Client, published: SafetyAnalysis
) -> None:
    assert client.get(OVERVIEW).status_code == 200
    safety_analysis_set_published(analysis=published, published=False)
    assert client.get(OVERVIEW).status_code == 404
    assert client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")).status_code == 404


def test_every_page_footer_links_the_safety_pages_only_while_one_is_published(
    client: Client, published: SafetyAnalysis
) -> None:
    link = f'href="{OVERVIEW}"'
    assert link in client.get("/plan/").content.decode()
    assert link in client.get("/indicators/").content.decode()
    safety_analysis_set_published(analysis=published, published=False)
    assert link not in client.get("/plan/").content.decode()


def test_a_newer_draft_does_not_replace_the_published_analysis(
    client: Client, published: SafetyAnalysis, draft: SafetyAnalysis
) -> None:
    text = _text(client.get(OVERVIEW))
    assert "Test analysis" in text
    assert "Draft analysis" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/safety/areas/council-district/99/",
        "/safety/areas/block-group/530530602001/",
        "/safety/areas/county/1/",
        "/safety/areas/police-district/1/",
    ],
)
def test_area_page_is_not_found_for_an_unknown_kind_or_district(
    client: Client, published: SafetyAnalysis, path: str
) -> None:
    assert client.get(path).status_code == 404


def test_public_pages_refuse_a_post(client: Client, published: SafetyAnalysis) -> None:
    assert client.post(OVERVIEW).status_code == 405
    assert client.post(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")).status_code == 405


# --- the figures are the stored ones ----------------------------------------------------------


def test_overview_headline_figures_equal_the_stored_summary(
    client: Client, published: SafetyAnalysis
) -> None:
    summary = published.summary
    text = _text(client.get(OVERVIEW))
    calls = number_format(summary["input"]["calls"], force_grouping=True)
    assert f"Calls for service {calls} " in text
    public = summary["eligibility"]["public"]
    low = f"{public['share_after_screening'] * 100:.1f}"  # rounded, as the chart rounds
    high = f"{public['share_by_type'] * 100:.1f}"
    assert f"Between {low}% and {high}% of the calls the public started." in text
    officer = number_format(summary["initiation"]["officer"], force_grouping=True)
    assert f"Started by an officer {officer} " in text
    council = summary["geography"]["council_district"]
    for label, key in (
        ("Outside every council district", "outside_every_area"),
        ("Without a location", "without_location"),
    ):
        value = council[key]
        shown = "fewer than 10" if value is None else number_format(value, force_grouping=True)
        assert f"{label} {shown} " in text


def test_overview_response_times_equal_the_stored_rows(
    client: Client, published: SafetyAnalysis
) -> None:
    text = _text(client.get(OVERVIEW))
    shown = [r for r in summary_rows(published) if r["median"] is not None]
    assert shown
    for row in shown:
        median = f"{row['median']:,.1f}"
        n = number_format(row["n"], force_grouping=True)
        assert f"{row['priority']} {row['interval']} {n} {median} " in text


def summary_rows(analysis: SafetyAnalysis) -> list[dict[str, Any]]:
    return list(analysis.summary["response_times"]["citywide"])


def test_overview_hot_spot_counts_equal_the_stored_summary(
    client: Client, published: SafetyAnalysis
) -> None:
    text = _text(client.get(OVERVIEW))
    found = published.summary["hotspots"]["all_calls"]
    assert f"All calls {found['n_hot']} {found['n_cold']} 169 " in text


def test_district_rate_over_the_period_is_the_sum_of_its_stored_months(
    client: Client, published: SafetyAnalysis
) -> None:
    months = SafetyAreaRate.objects.filter(
        analysis=published, kind=GeographyKind.COUNCIL_DISTRICT, area_code="2"
    )
    assert not any(m.suppressed for m in months)
    calls = sum(m.calls or 0 for m in months)
    rate = sum(m.rate_per_1000 or 0 for m in months)
    response = client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "2"))
    text = _text(response)
    assert f"Calls over the period {number_format(calls, force_grouping=True)} " in text
    assert f"Calls per 1,000 residents over the period {rate:,.1f} " in text
    overview = _text(client.get(OVERVIEW))
    assert f"Council District 2 {number_format(calls, force_grouping=True)} " in overview


def test_withheld_cells_read_fewer_than_10(client: Client, published: SafetyAnalysis) -> None:
    withheld = (
        SafetyAreaRate.objects.filter(analysis=published, suppressed=True)
        .order_by("kind", "area_code", "month")
        .first()
    )
    assert withheld is not None, "the small test year should withhold some district months"
    assert withheld.calls is None
    assert withheld.rate_per_1000 is None
    text = _text(client.get(_area_url(withheld.kind, withheld.area_code)))
    assert f"{withheld.month} fewer than 10 withheld" in text
    overview = _text(client.get(OVERVIEW))
    assert "fewer than 10" in overview


def test_synthetic_analysis_carries_the_banner_on_every_page(
    client: Client, published: SafetyAnalysis
) -> None:
    banner = "Synthetic data: not real Tacoma calls."
    assert banner in _text(client.get(OVERVIEW))
    assert banner in _text(client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")))


def test_real_analysis_has_no_synthetic_banner(client: Client, published: SafetyAnalysis) -> None:
    SafetyAnalysis.objects.filter(pk=published.pk).update(is_synthetic=False)
    assert "Synthetic data" not in _text(client.get(OVERVIEW))


def test_every_chart_and_map_has_a_table_beside_it(
    client: Client, published: SafetyAnalysis
) -> None:
    content = client.get(OVERVIEW).content.decode()
    assert content.count('role="img"') == 5  # hours, two maps, two ratio charts
    assert content.count("<table") >= 9
    area = client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")).content.decode()
    assert area.count('role="img"') == 1
    assert 'id="months-table"' in area


def test_non_council_district_page_says_response_times_are_by_council_district(
    client: Client, published: SafetyAnalysis
) -> None:
    text = _text(client.get(_area_url(GeographyKind.NEIGHBORHOOD_COUNCIL_DISTRICT, "West End")))
    assert "Response times are published by council district only" in text


# --- query counts -----------------------------------------------------------------------------


def test_overview_query_count_is_fixed(
    client: Client, published: SafetyAnalysis, django_assert_num_queries: Any
) -> None:
    # strategy, version, analysis, districts, rates, district eligibility, response times,
    # time profile, hot spots
    with django_assert_num_queries(9):
        assert client.get(OVERVIEW).status_code == 200


def test_area_page_query_count_is_fixed(
    client: Client, published: SafetyAnalysis, django_assert_num_queries: Any
) -> None:
    # strategy, version, analysis, months, name, response times, district eligibility
    with django_assert_num_queries(7):
        assert client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1")).status_code == 200
    # no response times outside council districts
    with django_assert_num_queries(6):
        url = _area_url(GeographyKind.POLICE_DISTRICT, "2-4")
        assert client.get(url).status_code == 200


# --- charts -----------------------------------------------------------------------------------


def test_chart_and_selector_examples_hold() -> None:
    assert doctest.testmod(charts).failed == 0
    assert doctest.testmod(selectors).failed == 0


def test_map_hatches_a_withheld_district_and_describes_it() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    svg = charts.choropleth_svg(
        [charts.MapArea("North", square, 12.5), charts.MapArea("South <b>", square, None)],
        title="Calls",
        unit="per 1,000",
    )
    assert "North: 12.5 per 1,000; South &lt;b&gt;: withheld." in svg
    assert "-hatch)" in svg
    assert "<b>" not in svg


def test_ratio_chart_draws_no_dot_for_a_withheld_row() -> None:
    svg = charts.ratio_chart_svg(
        [charts.RatioRow("A", 1.1, 1.0, 1.2), charts.RatioRow("B", None, None, None)],
        title="Ratios",
        reference_label="City = 1",
    )
    assert svg.count("<circle") == 1
    assert "B: withheld" in svg


# --- the link for the neighbourhoods page -----------------------------------------------------


def _render_link(strategy: Any) -> str:
    from django.template import Context, Template

    return Template("{% load safetylab %}{% safety_link strategy %}").render(
        Context({"strategy": strategy})
    )


def test_safety_link_shows_only_while_an_analysis_is_published(draft: SafetyAnalysis) -> None:
    assert _render_link(draft.strategy).strip() == ""
    safety_analysis_set_published(analysis=draft, published=True)
    assert 'href="/safety/"' in _render_link(draft.strategy)
    assert _render_link(None).strip() == ""


def test_pages_are_served_in_another_language(client: Client, published: SafetyAnalysis) -> None:
    assert client.get("/es" + OVERVIEW).status_code == 200
    assert client.get("/es/safety/areas/council-district/1/").status_code == 200


def test_a_district_page_shows_its_own_eligible_share_beside_the_citys(
    client: Client, published: SafetyAnalysis
) -> None:
    from csas.safetylab.models import SafetyAreaEligibility

    row = SafetyAreaEligibility.objects.get(
        analysis=published, kind=GeographyKind.COUNCIL_DISTRICT, area_code="1"
    )
    response = client.get(_area_url(GeographyKind.COUNCIL_DISTRICT, "1"))
    assert response.context["area_eligibility"] == row
    page = response.content.decode()
    assert 'id="area-eligibility"' in page
    assert "Citywide" in page
    if row.share_by_type is not None and row.share_after_screening is not None:
        assert 'id="area-eligible-range"' in page


def test_overview_trend_table_equals_the_stored_summary(
    client: Client, published: SafetyAnalysis
) -> None:
    trends = published.summary["trends"]
    assert trends["current"] is not None  # a whole year: the last quarter against the one before
    body = client.get("/safety/").content.decode()
    table = body[
        body.index('id="trends-table"') : body.index("</table>", body.index("trends-table"))
    ]
    city = trends["city"]
    assert f"<td>{city['previous']:,}</td><td>{city['current']:,}</td>" in table
    assert f"<td>{city['ratio']:.2f}</td>" in table
    names = dict(
        Geography.objects.filter(kind=GeographyKind.COUNCIL_DISTRICT).values_list("code", "name")
    )
    for row in trends["areas"]["council_district"]:
        assert f'<th scope="row">{names[row["area"]]}</th>' in table
    assert f"from {trends['current']['from']} to {trends['current']['to']}" in body
    spanish = client.get("/es/safety/").content.decode()
    assert "Llamadas ahora y tres meses antes" in spanish
    assert "intervalo del 95%" in spanish
    assert "%(" not in spanish
