"""Public indicator pages: list, detail with chart and data tables, and the action partial."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client

from csas.progress.indicator_selectors import (
    ObservationRow,
    indicator_course,
    indicator_get_public,
    indicator_list_public,
    indicators_for_action,
    period_label,
)
from csas.progress.models import Indicator, Observation
from csas.strategy.models import Action, StrategyVersion

# The number of queries each page makes, however many indicators and observations there
# are: the site's strategy, its published version, the indicators (with the id of each one's
# latest published value) and those observations (on the detail page: the indicator, its
# observations, the linked actions and the source surveys).
LIST_QUERIES = 4
DETAIL_QUERIES = 6


def _observation(indicator: Indicator, year: int, value: float | None, **fields: Any) -> None:
    Observation.objects.create(
        indicator=indicator,
        period_start=dt.date(year, 3, 1),
        period_end=dt.date(year, 4, 30),
        value=value,
        **fields,
    )


@pytest.fixture
def feel_safe(published_version: StrategyVersion, tpd_action: Action) -> Indicator:
    """A survey-fed population indicator: 2022 and 2026 published, 2024 suppressed (with a
    value an integration sent anyway), and a 2026 breakdown by district."""
    indicator = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="feel-safe-day",
        name="Residents who feel safe by day",
        description="Share of survey respondents who feel very or somewhat safe.",
        kind="population",
        unit="percent",
        direction="increase",
        baseline_value=52.0,
        baseline_year=2022,
        target_value=70.0,
        target_year=2030,
        source="Community Safety Survey",
        feed="survey",
        feed_config={"survey": "community-safety-survey", "question": "q", "values": ["x"]},
    )
    indicator.actions.add(tpd_action)
    _observation(indicator, 2022, 52.0, n=640, margin_of_error=3.9, wave="2022")
    _observation(indicator, 2024, 98.7, n=7, suppressed=True, wave="2024")
    _observation(indicator, 2026, 58.24, n=412, margin_of_error=4.76, wave="2026")
    _observation(
        indicator,
        2026,
        61.5,
        n=200,
        margin_of_error=6.7,
        dimension="council_district",
        group="Council District 1",
    )
    _observation(
        indicator,
        2026,
        97.3,
        n=4,
        suppressed=True,
        dimension="council_district",
        group="Council District 3",
    )
    return indicator


@pytest.fixture
def alternative_calls(published_version: StrategyVersion) -> Indicator:
    indicator = Indicator.objects.create(
        strategy=published_version.strategy,
        slug="alternative-calls",
        name="Calls answered by alternative responders",
        kind="performance",
        unit="calls",
        direction="increase",
        feed="safety",
    )
    for month in (1, 2, 3):
        Observation.objects.create(
            indicator=indicator,
            period_start=dt.date(2025, month, 1),
            period_end=dt.date(2025, month, 28 if month == 2 else 31),
            value=100.0 * month,
        )
    return indicator


@pytest.fixture
def hidden(published_version: StrategyVersion) -> Indicator:
    return Indicator.objects.create(
        strategy=published_version.strategy,
        slug="internal-only",
        name="Internal only measure",
        kind="performance",
        unit="calls",
        direction="decrease",
        is_public=False,
    )


def _more(published_version: StrategyVersion, count: int) -> None:
    """More indicators and observations, to show the query count does not grow."""
    for index in range(count):
        indicator = Indicator.objects.create(
            strategy=published_version.strategy,
            slug=f"extra-{index}",
            name=f"Extra {index}",
            kind="performance",
            unit="calls",
            direction="decrease",
        )
        for year in range(2020, 2026):
            _observation(indicator, year, float(year - 2000))


def test_the_list_shows_each_public_indicator_with_latest_value_baseline_and_target(
    feel_safe: Indicator, alternative_calls: Indicator, hidden: Indicator
) -> None:
    page = Client().get("/indicators/").content.decode()
    assert "Residents who feel safe by day" in page
    assert "/indicators/feel-safe-day/" in page
    assert "58.2 percent" in page  # the latest published value, not the suppressed 2024 one
    assert "n = 412, margin of error ± 4.8" in page
    assert "52 percent (2022)" in page
    assert "Raise to 70 percent" in page
    assert "by 2030" in page
    assert "Higher is better" in page
    assert "Population indicator" in page
    assert "Performance measure" in page
    assert "300 calls" in page
    assert "Internal only measure" not in page


def test_the_list_shows_the_latest_published_overall_value_only(
    feel_safe: Indicator,
) -> None:
    # Later than the 2026 figure: a suppressed overall value, an overall period with no value
    # and a breakdown; none of them is the latest published value.
    _observation(feel_safe, 2027, 99.9, n=3, suppressed=True)
    _observation(feel_safe, 2028, None)
    _observation(feel_safe, 2029, 77.7, n=50, dimension="council_district", group="District 2")
    page = Client().get("/indicators/").content.decode()
    assert "58.2 percent" in page
    assert "(2026-03-01 – 2026-04-30)" in page
    assert "99.9" not in page
    assert "77.7" not in page


def test_an_indicator_without_a_published_value_says_so_in_the_list(
    feel_safe: Indicator,
) -> None:
    Observation.objects.filter(indicator=feel_safe, dimension="").exclude(suppressed=True).delete()
    page = Client().get("/indicators/").content.decode()
    assert "No published value yet" in page
    assert "<td>Not yet known</td>" in page
    assert "98.7" not in page


def test_the_list_agrees_with_the_detail_page_on_latest_value_and_course(
    published_version: StrategyVersion, feel_safe: Indicator, alternative_calls: Indicator
) -> None:
    _more(published_version, 3)
    Indicator.objects.filter(slug="extra-1").update(
        baseline_value=20.0, baseline_year=2020, target_value=30.0, target_year=2030
    )
    _observation(Indicator.objects.get(slug="extra-2"), 2026, 5.0, suppressed=True)
    listed = indicator_list_public(published_version)
    assert [item.indicator.slug for item in listed] == [
        "alternative-calls",
        "extra-0",
        "extra-1",
        "extra-2",
        "feel-safe-day",
    ]
    for item in listed:
        summary = indicator_get_public(published_version, item.indicator.slug).summary
        assert item.latest == summary.latest, item.indicator.slug
        assert item.course == summary.course, item.indicator.slug


def test_the_list_reads_one_observation_per_indicator_in_two_queries(
    published_version: StrategyVersion,
    feel_safe: Indicator,
    alternative_calls: Indicator,
    django_assert_num_queries: Any,
) -> None:
    _more(published_version, 5)
    with django_assert_num_queries(2):
        listed = indicator_list_public(published_version)
    assert len(listed) == 7
    assert all(item.latest is not None for item in listed)


def test_the_list_says_whether_each_indicator_is_on_course(feel_safe: Indicator) -> None:
    page = Client().get("/indicators/").content.decode()
    # 58.24 in spring 2026 is below the line from 52 (mid-2022) to 70 (end of 2030), which
    # reads about 59.9 then.
    assert "<td>Not on course</td>" in page


def test_the_list_has_a_stable_query_count(
    published_version: StrategyVersion,
    feel_safe: Indicator,
    django_assert_num_queries: Any,
) -> None:
    client = Client()
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get("/indicators/").status_code == 200
    _more(published_version, 5)
    with django_assert_num_queries(LIST_QUERIES):
        page = client.get("/indicators/").content.decode()
    assert "Extra 4" in page


def test_the_detail_page_has_a_chart_and_a_table_of_every_figure(feel_safe: Indicator) -> None:
    page = Client().get("/indicators/feel-safe-day/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert 'role="img"' in page
    assert "<desc" in page
    assert "Every published figure" in page
    for period, value, n, moe in (
        ("2022-03-01 – 2022-04-30", "52", "640", "3.9"),
        ("2026-03-01 – 2026-04-30", "58.2", "412", "4.8"),
    ):
        assert f'<th scope="row">{period}</th>' in page
        assert f"<td>{value}</td><td>{n}</td>" in page
        assert f"<td>{moe}</td>" in page
    assert "Computed automatically from the csas survey" in page
    assert "Community Safety Survey" in page


def test_suppressed_figures_show_no_value_anywhere_on_the_detail_page(
    feel_safe: Indicator,
) -> None:
    page = Client().get("/indicators/feel-safe-day/").content.decode()
    assert page.count("Suppressed – too few to publish") == 2  # 2024 overall, District 3
    assert "98.7" not in page  # stored by mistake with the suppressed cell: never shown
    assert "97.3" not in page
    assert "<td>7</td>" not in page  # nor their n
    assert "<td>4</td>" not in page


def test_the_detail_page_shows_the_latest_breakdown_as_a_bar_chart_and_table(
    feel_safe: Indicator,
) -> None:
    page = Client().get("/indicators/feel-safe-day/").content.decode()
    assert "By Council district, 2026-03-01 – 2026-04-30" in page
    assert 'class="bar"' in page
    assert "Council District 1" in page
    assert "<td>61.5</td><td>200</td><td>6.7</td>" in page
    assert "suppressed (too few)" in page  # District 3 in the bar chart


def test_the_detail_page_links_the_actions_it_follows(
    feel_safe: Indicator, tpd_action: Action
) -> None:
    page = Client().get("/indicators/feel-safe-day/").content.decode()
    assert f'href="/actions/{tpd_action.slug}/"' in page
    assert f"Action {tpd_action.code}" in page


def test_a_safety_fed_indicator_says_where_its_figures_come_from(
    alternative_calls: Indicator,
) -> None:
    page = Client().get("/indicators/alternative-calls/").content.decode()
    assert "from the City&#x27;s safety data" in page or "from the City's safety data" in page
    assert '<th scope="row">2025-02</th>' in page


def test_a_manual_indicator_says_staff_enter_it(published_version: StrategyVersion) -> None:
    Indicator.objects.create(
        strategy=published_version.strategy,
        slug="typed",
        name="Typed",
        kind="performance",
        unit="events",
        direction="increase",
    )
    page = Client().get("/indicators/typed/").content.decode()
    assert "Entered by staff." in page
    assert "No figures have been published for this indicator yet." in page


@pytest.mark.parametrize("slug", ["internal-only", "no-such-indicator"])
def test_non_public_and_missing_indicators_are_not_found(hidden: Indicator, slug: str) -> None:
    assert Client().get(f"/indicators/{slug}/").status_code == 404


def test_the_detail_page_has_a_stable_query_count(
    published_version: StrategyVersion,
    feel_safe: Indicator,
    django_assert_num_queries: Any,
) -> None:
    client = Client()
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get("/indicators/feel-safe-day/").status_code == 200
    for year in range(2000, 2020):
        _observation(feel_safe, year, 50.0, n=300, margin_of_error=5.0)
        _observation(
            feel_safe, year, 40.0, n=100, dimension="council_district", group="Council District 2"
        )
    for action in Action.objects.filter(version=published_version)[:5]:
        feel_safe.actions.add(action)
    with django_assert_num_queries(DETAIL_QUERIES):
        page = client.get("/indicators/feel-safe-day/").content.decode()
    assert '<th scope="row">2000-03-01 – 2000-04-30</th>' in page


def test_the_pages_are_in_the_readers_language_where_translated(feel_safe: Indicator) -> None:
    feel_safe.translations = {"es": {"name": "Residentes que se sienten seguros de día"}}
    feel_safe.save()
    page = Client().get("/es/indicators/feel-safe-day/").content.decode()
    assert "Residentes que se sienten seguros de día" in page


def test_the_action_partial_shows_linked_indicators_with_chart_and_table(
    feel_safe: Indicator, hidden: Indicator, tpd_action: Action, django_assert_num_queries: Any
) -> None:
    hidden.actions.add(tpd_action)
    with django_assert_num_queries(2):
        indicators = indicators_for_action(tpd_action)
    assert [item.indicator.slug for item in indicators] == ["feel-safe-day"]
    html = render_to_string("progress/_action_indicators.html", {"indicators": indicators})
    assert 'role="img"' in html
    assert "<table" in html
    assert "/indicators/feel-safe-day/" in html
    assert "58.2 percent" in html
    assert "98.7" not in html
    assert render_to_string("progress/_action_indicators.html", {"indicators": []}).strip() == ""


def test_periods_read_as_years_quarters_months_or_date_ranges() -> None:
    assert period_label(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == "2025"
    assert period_label(dt.date(2025, 7, 1), dt.date(2025, 9, 30)) == "2025 Q3"
    assert period_label(dt.date(2025, 2, 1), dt.date(2025, 2, 28)) == "2025-02"
    assert period_label(dt.date(2025, 2, 3), dt.date(2025, 2, 3)) == "2025-02-03"


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        ("increase", 71.0, "met"),
        ("increase", 58.0, "on_course"),  # the line reads about 55.7 in spring 2024
        ("increase", 53.0, "off_course"),
        ("decrease", 53.0, "off_course"),  # for "lower is better" the target is 40
        ("decrease", 39.0, "met"),
    ],
)
def test_on_course_compares_with_the_line_from_baseline_to_target(
    direction: str, value: float, expected: str
) -> None:
    target = 70.0 if direction == "increase" else 40.0
    indicator = Indicator(
        direction=direction,
        baseline_value=52.0,
        baseline_year=2022,
        target_value=target,
        target_year=2030,
    )
    observation = Observation(
        period_start=dt.date(2024, 3, 1), period_end=dt.date(2024, 4, 30), value=value
    )
    assert indicator_course(indicator, ObservationRow.of(observation)) == expected


def test_on_course_is_unknown_without_a_target_or_a_value() -> None:
    indicator = Indicator(direction="increase", target_value=None)
    observation = Observation(
        period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 12, 31), value=50.0
    )
    assert indicator_course(indicator, ObservationRow.of(observation)) == "unknown"
    assert indicator_course(Indicator(direction="increase", target_value=60.0), None) == "unknown"
