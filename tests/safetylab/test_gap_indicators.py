"""The service-gap index takes the strategy's own indicators by council district: perceived
safety from the survey as need, a performance measure (alternative-responder coverage) as
service, each at its latest period, left out where a district's figure is withheld."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.test import Client

from csas.progress.models import Direction, Indicator, IndicatorKind, Observation
from csas.safetylab.models import SafetyAnalysis
from csas.strategy.models import Geography, GeographyKind, Strategy

MANAGE = "/manage/safety/"
FEEL_SAFE = {"1": 61.0, "2": 48.0, "3": 35.0, "4": 55.0, "5": 40.0}
COVERAGE = {"1": 0.30, "2": 0.10, "3": 0.05, "4": 0.25, "5": 0.20}


def _names(strategy: Strategy) -> dict[str, str]:
    return dict(
        Geography.objects.filter(
            city=strategy.city, kind=GeographyKind.COUNCIL_DISTRICT
        ).values_list("code", "name")
    )


def _indicator(
    strategy: Strategy,
    slug: str,
    kind: str,
    direction: str,
    periods: list[tuple[dt.date, dict[str, float], dict[str, int]]],
    *,
    by_name: bool,
) -> Indicator:
    indicator = Indicator.objects.create(
        strategy=strategy,
        slug=slug,
        name=slug.replace("-", " ").capitalize(),
        kind=kind,
        unit="percent",
        direction=direction,
    )
    names = _names(strategy)
    for start, values, ns in periods:
        for code, value in values.items():
            Observation.objects.create(
                indicator=indicator,
                period_start=start,
                period_end=start + dt.timedelta(days=89),
                value=value,
                n=ns.get(code, 120),
                dimension="council_district",
                group=names[code] if by_name else code,
            )
        Observation.objects.create(  # the overall figure is not a district's
            indicator=indicator,
            period_start=start,
            period_end=start + dt.timedelta(days=89),
            value=50.0,
            n=600,
        )
    return indicator


def _gap(staff: Client, analysis: SafetyAnalysis, **query: str) -> dict[str, Any]:
    response = staff.get(MANAGE, {"analysis": str(analysis.pk), **query})
    assert response.status_code == 200
    gap: dict[str, Any] = response.context["gap"]
    return gap


def test_survey_and_performance_indicators_join_the_index_at_their_latest_period(
    staff: Client, published: SafetyAnalysis, strategy: Strategy
) -> None:
    older = dict.fromkeys(FEEL_SAFE, 50.0)
    survey = _indicator(
        strategy,
        "feel-safe-after-dark",
        IndicatorKind.POPULATION,
        Direction.INCREASE,
        [(dt.date(2024, 1, 1), older, {}), (dt.date(2026, 1, 1), FEEL_SAFE, {})],
        by_name=True,  # as the survey feed writes groups
    )
    coverage = _indicator(
        strategy,
        "alternative-response-coverage",
        IndicatorKind.PERFORMANCE,
        Direction.INCREASE,
        [(dt.date(2026, 4, 1), COVERAGE, {})],
        by_name=False,  # staff typed the district codes
    )
    gap = _gap(staff, published)
    found = {i.key: i for i in gap["inputs"].indicators}
    felt = found[f"indicator_{survey.pk}"]
    assert felt.group == "need"
    assert felt.values == FEEL_SAFE  # the 2026 figures, not 2024's
    assert felt.higher_is_worse is False  # more residents feeling safe: less need
    assert "2026-01-01/2026-03-31 (survey indicator by council district)" in felt.label
    covered = found[f"indicator_{coverage.pk}"]
    assert (covered.group, covered.higher_is_worse) == ("service", False)
    assert covered.values == COVERAGE
    # z-scores: signed so that higher is worse; district 3 feels least safe and is least
    # covered, so it has the highest z on both.
    column = [i.key for i in gap["inputs"].indicators].index(felt.key)
    z = {row["code"]: row["cells"][column][1] for row in gap["rows"]}
    values = np.array([FEEL_SAFE[c] for c in sorted(FEEL_SAFE)])
    expected = -(values - values.mean()) / values.std()
    assert [z[c] for c in sorted(FEEL_SAFE)] == pytest.approx(expected.tolist())
    assert max(z, key=lambda c: z[c]) == "3"
    # A weight for the survey indicator is a field of the form like any other.
    weighted = _gap(staff, published, interval="arrival", **{f"weight_indicator_{survey.pk}": "2"})
    assert weighted["index"].raw_weights[felt.key] == 2.0
    assert weighted["index"].weights[felt.key] == pytest.approx(2 / 4)  # with 2 others at 1


def test_a_lower_is_better_indicator_counts_higher_values_as_worse(
    staff: Client, published: SafetyAnalysis, strategy: Strategy
) -> None:
    unsafe = _indicator(
        strategy,
        "feel-unsafe",
        IndicatorKind.POPULATION,
        Direction.DECREASE,
        [(dt.date(2026, 1, 1), {c: 100 - v for c, v in FEEL_SAFE.items()}, {})],
        by_name=True,
    )
    found = {i.key: i for i in _gap(staff, published)["inputs"].indicators}
    assert found[f"indicator_{unsafe.pk}"].higher_is_worse is True


def test_an_indicator_withheld_for_a_district_is_left_out_and_named(
    staff: Client, published: SafetyAnalysis, strategy: Strategy
) -> None:
    survey = _indicator(
        strategy,
        "feel-safe-after-dark",
        IndicatorKind.POPULATION,
        Direction.INCREASE,
        [(dt.date(2026, 1, 1), FEEL_SAFE, {"4": 7})],  # 7 respondents in district 4
        by_name=True,
    )
    gap = _gap(staff, published)
    assert f"indicator_{survey.pk}" not in [i.key for i in gap["inputs"].indicators]
    district_4 = _names(strategy)["4"]
    assert any(
        "Feel safe after dark" in text and f"withheld or missing for {district_4}." in text
        for text in gap["inputs"].left_out
    )
    assert gap["index"] is not None  # the rest of the index stands


def test_no_indicator_by_district_leaves_the_index_as_it_was(
    staff: Client, published: SafetyAnalysis
) -> None:
    keys = [i.key for i in _gap(staff, published)["inputs"].indicators]
    assert not [key for key in keys if key.startswith("indicator_")]
