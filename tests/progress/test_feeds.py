"""Indicator feeds: survey shares and safety counts computed from csas's own data."""

from __future__ import annotations

import datetime as dt
import math
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from csas.analysis.safety.ingest import ingest
from csas.analysis.safety.profiles import profile_from_mapping
from csas.engagement.models import Answer, Response, Survey
from csas.engagement.services import survey_load_file, survey_set_status
from csas.engagement.survey_file import bundled_survey_path
from csas.progress.feeds import FeedError, refresh_all, refresh_indicator
from csas.progress.models import Indicator, Observation
from csas.strategy.models import Geography, Strategy

TACOMA = ZoneInfo("America/Los_Angeles")
Z = 1.959963984540054


def _moe(p: float, n: int) -> float:
    """The simple-random-sample 95% margin of error, in percentage points."""
    return Z * math.sqrt(p * (1 - p) / n) * 100


@pytest.fixture
def strategy(db: Any) -> Strategy:
    return Strategy.objects.get(slug="tacoma-csas")


@pytest.fixture
def survey(strategy: Strategy) -> Survey:
    survey = survey_load_file(path=bundled_survey_path(), strategy=strategy)
    survey = survey_set_status(survey=survey, status="open")
    survey.opens_at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=TACOMA)
    survey.closes_at = dt.datetime(2026, 4, 30, 23, 0, tzinfo=TACOMA)
    survey.save()
    return survey


def _respond(
    survey: Survey,
    answer: str | None,
    district: Geography | None,
    *,
    status: str = "submitted",
) -> Response:
    response = Response.objects.create(
        survey=survey,
        language="en",
        status=status,
        submitted_at=dt.datetime(2026, 3, 10, 12, 0, tzinfo=TACOMA)
        if status == "submitted"
        else None,
        council_district=district,
    )
    if answer is not None:
        question = survey.questions.get(key="safety_neighbourhood_day")
        Answer.objects.create(response=response, question=question, value={"choice": answer})
    return response


@pytest.fixture
def answered(survey: Survey) -> Survey:
    """District 1: 15 of 20 feel safe; District 2: 6 of 15; District 3: 2 of 4 (too few);
    no district given: 6 of 12. Plus answers that do not count: "don't know", no answer at
    all, and unfinished responses."""
    d1, d2, d3 = Geography.objects.filter(kind="council_district").order_by("code")[:3]
    plan = [
        (d1, ["very_safe"] * 12 + ["somewhat_safe"] * 3 + ["very_unsafe"] * 5),
        (d2, ["somewhat_safe"] * 6 + ["neither"] * 9),
        (d3, ["very_safe"] * 2 + ["very_unsafe"] * 2),
        (None, ["very_safe"] * 6 + ["somewhat_unsafe"] * 6),
    ]
    for district, answers in plan:
        for answer in answers:
            _respond(survey, answer, district)
    for _ in range(3):
        _respond(survey, "dont_know", d1)
    for _ in range(2):
        _respond(survey, None, d1)
    for _ in range(5):
        _respond(survey, "very_safe", d2, status="in_progress")
    return survey


def _survey_indicator(strategy: Strategy, **config: Any) -> Indicator:
    feed_config = {
        "survey": "community-safety-survey",
        "question": "safety_neighbourhood_day",
        "values": ["very_safe", "somewhat_safe"],
        "wave": "2026",
        "breakdowns": ["council_district"],
        **config,
    }
    return Indicator.objects.create(
        strategy=strategy,
        slug="feel-safe-day",
        name="Residents who feel safe in their neighborhood by day",
        kind="population",
        unit="percent",
        direction="increase",
        feed="survey",
        feed_config=feed_config,
    )


def _by_group(indicator: Indicator) -> dict[tuple[str, str], Observation]:
    return {(o.dimension, o.group): o for o in Observation.objects.filter(indicator=indicator)}


def test_survey_feed_computes_the_share_n_and_margin_of_error_by_hand(
    answered: Survey, strategy: Strategy
) -> None:
    assert answered.slug == "community-safety-survey"
    indicator = _survey_indicator(strategy)
    result = refresh_indicator(indicator)
    observations = _by_group(indicator)
    overall = observations[("", "")]
    # 20 + 15 + 4 + 12 answered; 15 + 6 + 2 + 6 feel safe.
    assert overall.n == 51
    assert overall.value == pytest.approx(100 * 29 / 51)
    assert overall.margin_of_error == pytest.approx(_moe(29 / 51, 51))
    assert overall.margin_of_error == pytest.approx(13.59, abs=0.01)
    assert (overall.period_start, overall.period_end) == (dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert overall.wave == "2026"
    assert overall.created_by == "feed:survey"
    district_1 = observations[("council_district", "Council District 1")]
    assert (district_1.n, district_1.value) == (20, pytest.approx(75.0))
    assert district_1.margin_of_error == pytest.approx(18.98, abs=0.01)
    district_2 = observations[("council_district", "Council District 2")]
    assert (district_2.n, district_2.value) == (15, pytest.approx(40.0))
    assert district_2.margin_of_error == pytest.approx(_moe(0.4, 15))
    assert result.created == 5
    assert result.suppressed == 2


def test_survey_feed_suppresses_small_district_groups_and_the_group_that_would_reveal_them(
    answered: Survey, strategy: Strategy
) -> None:
    indicator = _survey_indicator(strategy)
    refresh_indicator(indicator)
    observations = _by_group(indicator)
    district_3 = observations[("council_district", "Council District 3")]
    assert district_3.suppressed
    assert (district_3.value, district_3.n, district_3.margin_of_error) == (None, None, None)
    assert "fewer than 10" in district_3.note
    # Overall minus the published groups would give District 3 away: the smallest other
    # group (no district given, 12 answers) is hidden too.
    not_stated = observations[("council_district", "Not stated")]
    assert not_stated.suppressed
    assert not_stated.value is None
    assert "complementary" in not_stated.note


def test_survey_feed_suppresses_the_overall_figure_when_too_few_answered(
    survey: Survey, strategy: Strategy
) -> None:
    for answer in ["very_safe"] * 5 + ["very_unsafe"] * 4:
        _respond(survey, answer, None)
    indicator = _survey_indicator(strategy, breakdowns=[])
    refresh_indicator(indicator)
    (overall,) = Observation.objects.filter(indicator=indicator)
    assert overall.suppressed
    assert overall.value is None
    assert overall.n is None


def test_survey_feed_uses_submission_dates_when_the_survey_has_none(
    answered: Survey, strategy: Strategy
) -> None:
    answered.opens_at = answered.closes_at = None
    answered.save()
    indicator = _survey_indicator(strategy, breakdowns=[])
    refresh_indicator(indicator)
    overall = Observation.objects.get(indicator=indicator)
    assert (overall.period_start, overall.period_end) == (dt.date(2026, 3, 10),) * 2


def test_survey_feed_run_again_writes_nothing_new(answered: Survey, strategy: Strategy) -> None:
    indicator = _survey_indicator(strategy)
    first = refresh_indicator(indicator)
    before = {o.pk: (o.value, o.n, o.created_at) for o in Observation.objects.all()}
    again = refresh_indicator(indicator)
    after = {o.pk: (o.value, o.n, o.created_at) for o in Observation.objects.all()}
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == first.created == 5
    assert after == before


def test_survey_feed_updates_a_figure_when_new_answers_arrive(
    answered: Survey, strategy: Strategy
) -> None:
    indicator = _survey_indicator(strategy, breakdowns=[])
    refresh_indicator(indicator)
    _respond(answered, "very_safe", None)
    result = refresh_indicator(indicator)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    overall = Observation.objects.get(indicator=indicator)
    assert (overall.n, overall.value) == (52, pytest.approx(100 * 30 / 52))


def test_survey_feed_removes_stale_feed_rows_and_keeps_staff_rows(
    answered: Survey, strategy: Strategy
) -> None:
    indicator = _survey_indicator(strategy)
    refresh_indicator(indicator)
    old_wave = Observation.objects.create(
        indicator=indicator,
        period_start=dt.date(2022, 3, 1),
        period_end=dt.date(2022, 4, 30),
        value=61.0,
        n=800,
        created_by="staff:alice",
    )
    indicator.feed_config = {**indicator.feed_config, "breakdowns": []}
    indicator.save()
    result = refresh_indicator(indicator)
    assert result.removed == 4  # the district groups the feed no longer produces
    remaining = set(Observation.objects.filter(indicator=indicator).values_list("pk", flat=True))
    overall = Observation.objects.get(indicator=indicator, dimension="", period_start__year=2026)
    assert remaining == {old_wave.pk, overall.pk}


def test_survey_feed_reads_several_waves_into_one_series(
    answered: Survey, strategy: Strategy, tmp_path: Path
) -> None:
    text = bundled_survey_path().read_text(encoding="utf-8")
    copy = tmp_path / "survey-2024.yaml"
    copy.write_text(
        text.replace("slug: community-safety-survey", "slug: community-safety-survey-2024", 1),
        encoding="utf-8",
    )
    earlier = survey_load_file(path=copy, strategy=strategy)
    earlier.opens_at = dt.datetime(2024, 3, 1, 9, 0, tzinfo=TACOMA)
    earlier.closes_at = dt.datetime(2024, 4, 30, 9, 0, tzinfo=TACOMA)
    earlier.save()
    for answer in ["very_safe"] * 4 + ["very_unsafe"] * 6:
        _respond(earlier, answer, None)
    indicator = _survey_indicator(
        strategy,
        waves=[
            {"survey": "community-safety-survey-2024", "wave": "2024"},
            {"survey": "community-safety-survey", "wave": "2026"},
        ],
        breakdowns=[],
    )
    refresh_indicator(indicator)
    series = Observation.objects.filter(indicator=indicator).order_by("period_start")
    assert [(o.wave, o.n, round(o.value or 0, 1)) for o in series] == [
        ("2024", 10, 40.0),
        ("2026", 51, 56.9),
    ]


def test_survey_feed_names_the_indicator_when_the_survey_is_missing(strategy: Strategy) -> None:
    indicator = _survey_indicator(strategy, survey="no-such-survey")
    with pytest.raises(FeedError, match=r"indicator 'feel-safe-day'.*no survey 'no-such-survey'"):
        refresh_indicator(indicator)


def test_survey_feed_rejects_an_answer_the_question_does_not_have(
    survey: Survey, strategy: Strategy
) -> None:
    indicator = _survey_indicator(strategy, values=["very_safe", "safe-ish"])
    with pytest.raises(FeedError, match=r"\['safe-ish'\] are not answers"):
        refresh_indicator(indicator)


def test_survey_feed_rejects_an_unknown_breakdown(survey: Survey, strategy: Strategy) -> None:
    indicator = _survey_indicator(strategy, breakdowns=["shoe_size"])
    with pytest.raises(FeedError, match="shoe_size"):
        refresh_indicator(indicator)


def test_survey_feed_names_the_field_a_stored_observation_would_break(
    answered: Survey, strategy: Strategy
) -> None:
    indicator = _survey_indicator(strategy, wave="wave " * 10, breakdowns=[])
    with pytest.raises(FeedError, match=r"feel-safe-day.*'wave'"):
        refresh_indicator(indicator)
    assert not Observation.objects.filter(indicator=indicator).exists()


def test_manual_indicators_are_never_touched(answered: Survey, strategy: Strategy) -> None:
    manual = Indicator.objects.create(
        strategy=strategy,
        slug="typed-in",
        name="Typed in",
        kind="performance",
        unit="calls",
        direction="increase",
        feed="manual",
        feed_config={"survey": "community-safety-survey"},
    )
    typed = Observation.objects.create(
        indicator=manual,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        value=7.0,
        created_by="feed:survey",  # even a row that looks fed
    )
    fed = _survey_indicator(strategy)
    results = refresh_all(strategy)
    assert [r.indicator for r in results] == [fed.slug]
    assert refresh_indicator(manual).skipped
    assert list(Observation.objects.filter(indicator=manual)) == [typed]
    typed.refresh_from_db()
    assert typed.value == 7.0


def test_refresh_all_reports_a_failing_indicator_and_carries_on(
    answered: Survey, strategy: Strategy
) -> None:
    _survey_indicator(strategy)
    Indicator.objects.create(
        strategy=strategy,
        slug="broken",
        name="Broken",
        kind="population",
        unit="percent",
        direction="increase",
        feed="survey",
        feed_config={"survey": "gone", "question": "q", "values": ["x"]},
    )
    results = {r.indicator: r for r in refresh_all(strategy)}
    assert "no survey 'gone'" in results["broken"].error
    assert results["feel-safe-day"].created == 5


# ---------------------------------------------------------------------------------------------
# Safety feed

WELFARE = "SERVICE - WELFARE CHECK"  # community-only tier, no screening flag
FIGHT = "FIGHT - IP - PHYSICAL (NO WEAPONS)"  # police tier, screened out


def _calls_file(folder: Path) -> Path:
    """January 2024: 12 welfare checks (priority 3) and 10 fights (priority 1), from the 3rd;
    February: 4 welfare checks and 20 fights; March: 11 welfare checks, the last at 23:30 on
    the 31st (already 1 April in UTC). One more welfare check has no received time."""
    rows = ["id,type,when,prio"]
    calls: list[tuple[str, str, str]] = []
    calls += [(WELFARE, f"2024-01-{3 + i:02d} 10:00:00", "3") for i in range(12)]
    calls += [(FIGHT, f"2024-01-{5 + i:02d} 22:00:00", "1") for i in range(10)]
    calls += [(WELFARE, f"2024-02-{1 + i:02d} 10:00:00", "3") for i in range(4)]
    calls += [(FIGHT, f"2024-02-{1 + i:02d} 22:00:00", "1") for i in range(20)]
    calls += [(WELFARE, f"2024-03-{1 + i:02d} 10:00:00", "3") for i in range(10)]
    calls += [(WELFARE, "2024-03-31 23:30:00", "3"), (WELFARE, "", "3")]
    rows += [f"{i},{kind},{when},{prio}" for i, (kind, when, prio) in enumerate(calls, start=1)]
    source = folder / "calls.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    profile = profile_from_mapping(
        {
            "profile": "test",
            "title": "Test calls",
            "kind": "calls",
            "timezone": "America/Los_Angeles",
            "time_formats": ["iso8601"],
            "columns": {
                "source_id": "id",
                "call_type": "type",
                "received_at": "when",
                "priority": "prio",
            },
            "required": ["source_id"],
        }
    )
    output = folder / "calls.parquet"
    report = ingest(source, profile=profile, output=output)
    assert report.kept_rows == 58
    return output


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    return _calls_file(tmp_path)


def _safety_indicator(
    strategy: Strategy, dataset: Path, *, unit: str = "calls", **config: Any
) -> Indicator:
    return Indicator.objects.create(
        strategy=strategy,
        slug="alternative-calls",
        name="Calls an alternative responder could take",
        kind="performance",
        unit=unit,
        direction="increase",
        feed="safety",
        feed_config={"dataset": str(dataset), "measure": "count", "period": "month", **config},
    )


def _months(indicator: Indicator, dimension: str = "", group: str = "") -> dict[str, Any]:
    return {
        o.period_start.strftime("%Y-%m"): o
        for o in Observation.objects.filter(indicator=indicator, dimension=dimension, group=group)
    }


def test_safety_feed_counts_eligible_calls_per_local_month(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={"alternative_eligible": True})
    result = refresh_indicator(indicator)
    months = _months(indicator)
    assert sorted(months) == ["2024-01", "2024-02", "2024-03"]
    assert months["2024-01"].value == 12
    assert months["2024-03"].value == 11  # 23:30 on 31 March counts in March, Tacoma time
    assert (months["2024-03"].period_start, months["2024-03"].period_end) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
    )
    assert months["2024-01"].created_by == "feed:safety"
    assert result.created == 3
    assert any("1 calls without a received time" in note for note in result.notes)


def test_safety_feed_suppresses_months_with_few_calls(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={"alternative_eligible": True})
    refresh_indicator(indicator)
    february = _months(indicator)["2024-02"]  # 4 welfare checks, under 10
    assert february.suppressed
    assert february.value is None
    assert "fewer than 10 calls" in february.note


def test_safety_feed_notes_a_month_the_data_cover_in_part(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={"priority": "3"})
    refresh_indicator(indicator)
    months = _months(indicator)
    assert "the data start on 2024-01-03" in months["2024-01"].note
    assert months["2024-03"].note == ""


def test_safety_feed_share_needs_enough_calls_on_both_sides(
    strategy: Strategy, calls: Path
) -> None:
    indicator = _safety_indicator(
        strategy, calls, measure="share", unit="percent", filter={"alternative_eligible": True}
    )
    refresh_indicator(indicator)
    months = _months(indicator)
    assert months["2024-01"].value == pytest.approx(100 * 12 / 22)
    assert months["2024-01"].n == 22
    assert months["2024-02"].suppressed  # 4 eligible
    assert months["2024-03"].suppressed  # 11 eligible of 11: 0 others, so 100% is not shown
    assert months["2024-03"].n is None


def test_safety_feed_breaks_counts_down_by_priority(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={}, breakdowns=["priority"])
    refresh_indicator(indicator)
    priority_1 = _months(indicator, "priority", "1")
    priority_3 = _months(indicator, "priority", "3")
    assert (priority_1["2024-01"].value, priority_1["2024-02"].value) == (10, 20)
    assert priority_1["2024-03"].suppressed  # no fights in March: zero is suppressed too
    assert (priority_3["2024-01"].value, priority_3["2024-03"].value) == (12, 11)
    assert priority_3["2024-02"].suppressed
    assert _months(indicator)["2024-02"].value == 24


def test_safety_feed_run_again_is_idempotent(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={"priority": ["1", "3"]})
    refresh_indicator(indicator)
    again = refresh_indicator(indicator)
    assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)


def test_safety_feed_names_the_indicator_and_the_missing_file(
    strategy: Strategy, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.parquet"
    indicator = _safety_indicator(strategy, missing)
    with pytest.raises(FeedError) as raised:
        refresh_indicator(indicator)
    assert "alternative-calls" in str(raised.value)
    assert str(missing) in str(raised.value)


def test_safety_feed_rejects_an_unknown_filter_key(strategy: Strategy, calls: Path) -> None:
    indicator = _safety_indicator(strategy, calls, filter={"colour": "red"})
    with pytest.raises(FeedError, match="unknown key 'colour'"):
        refresh_indicator(indicator)


def test_the_command_prints_what_it_wrote_per_indicator(
    answered: Survey, strategy: Strategy, calls: Path
) -> None:
    _survey_indicator(strategy)
    _safety_indicator(strategy, calls, filter={"alternative_eligible": True})
    out = StringIO()
    call_command("refresh_indicators", stdout=out)
    text = out.getvalue()
    assert "feel-safe-day (survey): 5 created, 0 updated" in text
    assert "alternative-calls (safety): 3 created" in text
    assert "2 fed indicator(s) refreshed, 0 failed." in text


def test_the_command_fails_when_an_indicator_cannot_be_refreshed(
    strategy: Strategy, tmp_path: Path
) -> None:
    _safety_indicator(strategy, tmp_path / "missing.parquet")
    out = StringIO()
    with pytest.raises(CommandError, match="alternative-calls"):
        call_command("refresh_indicators", stdout=out)
    assert "FAILED" in out.getvalue()


def test_a_feed_does_not_mix_perception_and_count_measures(strategy: Strategy, calls: Path) -> None:
    from django.core.exceptions import ValidationError

    counted = _safety_indicator(strategy, calls)
    counted.kind = "population"
    with pytest.raises(ValidationError, match="performance measure"):
        counted.full_clean()
    Indicator.objects.filter(pk=counted.pk).update(kind="population")  # past the form's check
    counted.refresh_from_db()
    with pytest.raises(FeedError, match=r"indicator 'alternative-calls'.*performance measure"):
        refresh_indicator(counted)
    assert not Observation.objects.filter(indicator=counted).exists()
    surveyed = _survey_indicator(strategy)
    surveyed.kind = "performance"
    with pytest.raises(ValidationError, match="population indicator"):
        surveyed.full_clean()
