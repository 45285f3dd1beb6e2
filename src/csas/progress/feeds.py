"""Indicator feeds: observations computed from what csas already holds, never retyped.

An indicator's ``feed`` says where its numbers come from:

``manual``
    Staff or an integration (the API) write its observations. Feeds never touch it.
``survey``
    The share of respondents giving certain answers to one question of a csas survey, per
    survey wave, overall and per group of each breakdown, from the stored submitted answers.
``safety``
    Monthly counts, or shares, of calls in a normalised calls file written by
    ``csas safety ingest``, optionally per group (priority, tier, ...).

:func:`refresh_indicator` recomputes one indicator and writes the result; :func:`refresh_all`
does every fed indicator of a strategy (the ``refresh_indicators`` command). Writing is
idempotent: observations are upserted on their unique key (indicator, period_start,
period_end, dimension, group), unchanged rows are left alone, and observations an earlier
feed run wrote (``created_by`` starting ``feed:``) that the feed no longer produces are
deleted. Staff-entered observations that the feed does not produce are kept (an earlier
wave typed in from a report, say); one at the same key as a fed figure is replaced by it,
since for a fed indicator the feed is the source of truth. Each indicator is written in one
transaction: a failure leaves its observations as they were.

Survey feed (``feed_config``)::

    {"survey": "community-safety-2026",       # survey slug (same strategy)
     "question": "safety_neighbourhood_day",  # question key
     "values": ["very_safe", "somewhat_safe"],
     "wave": "2026",                          # stored on each observation
     "breakdowns": ["council_district"]}      # optional: council_district, neighbourhood,
                                              #   race_ethnicity, age
    # several waves of a biennial survey, one series:
    {"waves": [{"survey": "css-2024", "wave": "2024"}, {"survey": "css-2026", "wave": "2026"}],
     "question": "...", "values": [...], "breakdowns": [...]}

Optional ``"exclude"``: answers that count as not answering (default: the question's
"prefer not to say" options and the results pages' not-an-opinion answers such as
``dont_know``). See :func:`survey_observations` for the statistics.

Safety feed (``feed_config``)::

    {"dataset": "safety/tacoma-calls.parquet",  # relative to CSAS_DATA_DIR, or absolute
     "measure": "count",                        # or "share"
     "filter": {"alternative_eligible": true, "priority": ["3", "4"]},
     "of": {},                                  # share only: the denominator's filter
     "period": "month",
     "breakdowns": ["priority"],                # optional
     "timezone": "America/Los_Angeles",         # default: the site's TIME_ZONE
     "city": "Seattle", "type_field": "call_type"}  # optional, for the call-type taxonomy

See :func:`safety_observations` for the filter keys and the suppression rule.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csas.analysis.insight.comparison import GroupComparison, compare_groups
from csas.engagement.models import Answer, Question, Response, ResponseStatus, Survey
from csas.progress.models import Indicator, IndicatorFeed, Observation
from csas.strategy.models import Strategy

#: Breakdowns of survey responses the survey feed knows.
SurveyBreakdown = Literal["council_district", "neighbourhood", "race_ethnicity", "age"]
SURVEY_BREAKDOWNS: Final[tuple[str, ...]] = get_args(SurveyBreakdown)
#: Measures of the safety feed.
SafetyMeasure = Literal["count", "share"]
#: Periods of the safety feed (the safety library counts by month).
SafetyPeriod = Literal["month"]

#: The group of respondents (or calls) with no value for a breakdown. It is published like
#: any other group (so the overall figure minus the groups gives nobody away).
NOT_STATED: Final = "Not stated"
#: The group label for calls with no value for a safety breakdown.
NO_VALUE: Final = "(none)"

#: Normalised columns (``csas.analysis.safety.ingest.NORMALISED_COLUMNS``) a safety filter
#: or breakdown may use directly.
SAFETY_TEXT_COLUMNS: Final = frozenset(
    {"source_kind", "call_type", "final_call_type", "priority", "disposition", "initiated_by"}
)
#: Columns that `csas.analysis.safety.taxonomy.classify_calls` adds.
SAFETY_CLASSIFIED_TEXT: Final = frozenset({"category", "tier", "initiation"})
SAFETY_CLASSIFIED_FLAGS: Final = frozenset(
    {"screened_out", "weapon", "violence", "injury", "in_progress"}
)
#: z for a two-sided 95% interval (``scipy.special.ndtri(0.975)``).
Z_95: Final = 1.959963984540054


class FeedError(ValueError):
    """A fed indicator cannot be computed; the message names the indicator and the fix."""


@dataclass(frozen=True)
class FeedObservation:
    """One observation a feed produced, before it is written.

    Fields mirror :class:`csas.progress.models.Observation`: value (None when suppressed),
    n (respondents who answered, or calls in a share's denominator; None when suppressed or
    not applicable), margin_of_error (percentage points, survey feed only), wave,
    dimension ("" overall) and group, suppressed, note.
    """

    period_start: dt.date
    period_end: dt.date
    dimension: str
    group: str
    value: float | None
    n: int | None = None
    margin_of_error: float | None = None
    wave: str = ""
    suppressed: bool = False
    note: str = ""

    @property
    def key(self) -> tuple[dt.date, dt.date, str, str]:
        return (self.period_start, self.period_end, self.dimension, self.group)


@dataclass(frozen=True)
class FeedResult:
    """What one refresh did to one indicator.

    Fields:
        indicator: the indicator's slug.
        feed: ``survey``, ``safety`` or ``manual``.
        created, updated, unchanged, removed: observations written new, changed, left as
            they were, and deleted as stale.
        suppressed: of the observations produced, how many are suppressed.
        periods: the periods produced, (start, end), sorted.
        method: how the figures were computed, in words.
        notes: anything a person should know (calls left out, partial months, ...).
        skipped: True for a manual indicator (nothing was read or written).
        error: why the refresh failed ("" when it did not); nothing was written then.
    """

    indicator: str
    feed: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    suppressed: int = 0
    periods: tuple[tuple[dt.date, dt.date], ...] = ()
    method: str = ""
    notes: tuple[str, ...] = ()
    skipped: bool = False
    error: str = ""

    def summary(self) -> str:
        """One line for the command's output."""
        if self.error:
            return f"{self.indicator} ({self.feed}): FAILED: {self.error}"
        if self.skipped:
            return f"{self.indicator} ({self.feed}): manual, not refreshed"
        span = ""
        if self.periods:
            span = f" for {self.periods[0][0]} to {self.periods[-1][1]}"
        return (
            f"{self.indicator} ({self.feed}): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.suppressed} suppressed"
            f"{span}"
        )


@dataclass(frozen=True)
class _Computed:
    observations: list[FeedObservation]
    method: str
    notes: list[str] = field(default_factory=list)


def _fail(indicator: Indicator, message: str) -> FeedError:
    return FeedError(f"indicator {indicator.slug!r} ({indicator.feed} feed): {message}")


def _config(indicator: Indicator) -> dict[str, Any]:
    config = indicator.feed_config
    if not isinstance(config, dict):
        raise _fail(indicator, f"feed_config must be an object, got {type(config).__name__}")
    return config


def _text_list(indicator: Indicator, config: Mapping[str, Any], name: str) -> list[str]:
    value = config.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(
            indicator, f"feed_config.{name} must be a non-empty list of text, got {value!r}"
        )
    return list(value)


def _optional_text_list(indicator: Indicator, config: Mapping[str, Any], name: str) -> list[str]:
    if config.get(name) in (None, [], ""):
        return []
    return _text_list(indicator, config, name)


# ---------------------------------------------------------------------------------------------
# Survey feed


@dataclass(frozen=True)
class _Wave:
    survey: str
    wave: str
    question: str


def _waves(indicator: Indicator, config: Mapping[str, Any]) -> list[_Wave]:
    question = config.get("question")
    if "waves" in config:
        raw = config["waves"]
        if not isinstance(raw, list) or not raw:
            raise _fail(indicator, f"feed_config.waves must be a non-empty list, got {raw!r}")
        entries = raw
    else:
        entries = [config]
    waves = []
    for index, entry in enumerate(entries):
        where = f"feed_config.waves[{index}]" if "waves" in config else "feed_config"
        if not isinstance(entry, dict):
            raise _fail(indicator, f"{where} must be an object, got {entry!r}")
        survey = entry.get("survey")
        key = entry.get("question", question)
        wave = entry.get("wave", "")
        if not isinstance(survey, str) or not survey:
            raise _fail(indicator, f"{where}.survey must be a survey slug, got {survey!r}")
        if not isinstance(key, str) or not key:
            raise _fail(indicator, f"{where}.question must be a question key, got {key!r}")
        if not isinstance(wave, str | int) or isinstance(wave, bool):
            raise _fail(indicator, f"{where}.wave must be text such as '2026', got {wave!r}")
        waves.append(_Wave(survey, str(wave), key))
    return waves


def _survey_breakdowns(indicator: Indicator, config: Mapping[str, Any]) -> list[str]:
    breakdowns = _optional_text_list(indicator, config, "breakdowns")
    unknown = [b for b in breakdowns if b not in SURVEY_BREAKDOWNS]
    if unknown:
        raise _fail(
            indicator,
            f"feed_config.breakdowns has {unknown}; the survey feed knows "
            f"{list(SURVEY_BREAKDOWNS)}",
        )
    return breakdowns


def _group_of(breakdown: str) -> Callable[[Response], str | None]:
    from csas.insight.selectors import _age_group, _race_group

    if breakdown == "council_district":
        return lambda r: r.council_district.name if r.council_district else None
    if breakdown == "neighbourhood":
        return lambda r: r.neighbourhood.name if r.neighbourhood else None
    if breakdown == "race_ethnicity":
        return lambda r: _race_group(r.demographics.get("race_ethnicity"))
    return lambda r: _age_group(r.demographics.get("age"))


def _answered(
    value: Any, wanted: frozenset[str], excluded: frozenset[str], multiple: bool
) -> float | None:
    """1.0 when the answer is one of `wanted`, 0.0 for another answer, None for no answer."""
    if not isinstance(value, dict):
        return None
    if multiple:
        chosen = [c for c in value.get("choices") or [] if isinstance(c, str)]
    else:
        choice = value.get("choice")
        chosen = [choice] if isinstance(choice, str) else []
    chosen = [c for c in chosen if c not in excluded]
    if not chosen:
        return None
    return 1.0 if any(c in wanted for c in chosen) else 0.0


def _survey_period(survey: Survey, responses: Sequence[Response]) -> tuple[dt.date, dt.date]:
    times = [r.submitted_at or r.started_at for r in responses]
    start = timezone.localdate(survey.opens_at) if survey.opens_at else None
    end = timezone.localdate(survey.closes_at) if survey.closes_at else None
    if start is None:
        start = min(timezone.localdate(t) for t in times)
    if end is None:
        end = max(timezone.localdate(t) for t in times)
    return min(start, end), max(start, end)


def _share_observation(
    comparison: GroupComparison,
    group: str,
    *,
    period: tuple[dt.date, dt.date],
    dimension: str,
    label: str,
    wave: str,
) -> FeedObservation:
    result = comparison.group(group)
    if result.suppressed or result.estimate is None or result.se is None:
        return FeedObservation(
            period[0],
            period[1],
            dimension,
            label,
            None,
            n=None if result.suppressed else result.n,
            wave=wave,
            suppressed=result.suppressed,
            note=result.suppression_reason or result.note or "",
        )
    return FeedObservation(
        period[0],
        period[1],
        dimension,
        label,
        result.estimate * 100,
        n=result.n,
        margin_of_error=Z_95 * result.se * 100,
        wave=wave,
    )


def survey_observations(indicator: Indicator) -> _Computed:
    """The survey feed: per wave, the percent of respondents giving one of the wanted answers.

    Statistics. Among submitted responses that answered the question (an answer other than
    the excluded ones), the estimate is the unweighted share choosing any of ``values``, in
    percent; n is the number who answered; the margin of error is the simple-random-sample
    95% margin, 1.96 * sqrt(p(1 - p) / n), in percentage points. Unweighted because the
    published survey results (``csas.insight.selectors.survey_results``) are unweighted:
    csas does not rake survey responses for publication yet, and the indicator must agree
    with the results page. For an opt-in survey the margin describes sampling error only,
    not who chose to answer.

    Breakdowns. One observation per group of each breakdown; respondents without a value
    form the group "Not stated". Estimates come from
    :func:`csas.analysis.insight.comparison.compare_groups` with the site's suppression
    threshold (``CSAS_SUPPRESSION_THRESHOLD``), exactly as on the results page: a group with
    fewer answering respondents is suppressed (value, n and margin None), and further
    groups are suppressed where the published total would otherwise give a suppressed one
    away (complementary suppression). The overall figure is suppressed under the same
    threshold.

    Period: the survey's open and close dates, or where missing the first and last
    submission date.
    """
    from csas.insight.selectors import NOT_AN_OPINION, suppression_threshold

    config = _config(indicator)
    values = frozenset(_text_list(indicator, config, "values"))
    breakdowns = _survey_breakdowns(indicator, config)
    threshold = suppression_threshold()
    observations: list[FeedObservation] = []
    notes: list[str] = []
    for wave in _waves(indicator, config):
        survey = Survey.objects.filter(strategy_id=indicator.strategy_id, slug=wave.survey).first()
        if survey is None:
            raise _fail(indicator, f"no survey {wave.survey!r} in this strategy")
        question = (
            Question.objects.filter(survey=survey, key=wave.question)
            .prefetch_related("options")
            .first()
        )
        if question is None:
            raise _fail(indicator, f"survey {wave.survey!r} has no question {wave.question!r}")
        if question.kind not in ("single_choice", "likert", "multiple_choice"):
            raise _fail(
                indicator,
                f"question {wave.question!r} of survey {wave.survey!r} is a {question.kind} "
                "question; the survey feed needs single choice, likert or multiple choice",
            )
        options = list(question.options.all())
        known = {option.value for option in options}
        if unknown := sorted(values - known):
            raise _fail(
                indicator,
                f"feed_config.values {unknown} are not answers to question {wave.question!r} "
                f"of survey {wave.survey!r}; its answers are {sorted(known)}",
            )
        if "exclude" in config:
            excluded = frozenset(_optional_text_list(indicator, config, "exclude"))
        else:
            excluded = frozenset(o.value for o in options if o.prefer_not_to_say) | NOT_AN_OPINION
        responses = list(
            Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
            .select_related("council_district", "neighbourhood")
            .order_by("pk")
        )
        answers = dict(
            Answer.objects.filter(
                response__survey=survey,
                response__status=ResponseStatus.SUBMITTED,
                question=question,
            ).values_list("response_id", "value")
        )
        multiple = question.kind == "multiple_choice"
        ys = [_answered(answers.get(r.pk), values, excluded, multiple) for r in responses]
        if all(y is None for y in ys):
            notes.append(f"survey {wave.survey!r}: nobody has answered {wave.question!r} yet")
            continue
        period = _survey_period(survey, responses)
        overall = compare_groups(ys, ["all"] * len(ys), threshold=threshold)
        observations.append(
            _share_observation(
                overall, "all", period=period, dimension="", label="", wave=wave.wave
            )
        )
        for breakdown in breakdowns:
            group_of = _group_of(breakdown)
            labels = [group_of(r) or NOT_STATED for r in responses]
            comparison = compare_groups(ys, labels, threshold=threshold)
            observations.extend(
                _share_observation(
                    comparison,
                    result.group,
                    period=period,
                    dimension=breakdown,
                    label=result.group,
                    wave=wave.wave,
                )
                for result in comparison.groups
            )
    method = (
        "percent of respondents who answered giving one of "
        f"{sorted(values)}; unweighted; 95% margin of error 1.96*sqrt(p(1-p)/n) in percentage "
        f"points; groups with fewer than {threshold} answers suppressed, with complementary "
        "suppression (csas.analysis.insight.comparison.compare_groups)"
    )
    return _Computed(observations, method, notes)


# ---------------------------------------------------------------------------------------------
# Safety feed


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Sql:
    """A WHERE-clause builder: identifiers quoted, values bound as parameters."""

    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def column(self, indicator: Indicator, key: str) -> str:
        """SQL for the text value of a filter or breakdown key."""
        if key in SAFETY_TEXT_COLUMNS or key in SAFETY_CLASSIFIED_TEXT:
            return f"CAST({_quote(key)} AS VARCHAR)"
        if key.startswith("extra.") and len(key) > len("extra."):
            return f"json_extract_string(extra, {self.bind('$.' + key[len('extra.') :])})"
        raise _fail(
            indicator,
            f"unknown key {key!r}; use one of "
            f"{sorted(SAFETY_TEXT_COLUMNS | SAFETY_CLASSIFIED_TEXT)}, "
            f"{sorted(SAFETY_CLASSIFIED_FLAGS)}, 'alternative_eligible' or 'extra.<column>'",
        )

    def condition(self, indicator: Indicator, where: str, filters: Mapping[str, Any]) -> str:
        from csas.analysis.safety.taxonomy import DEFAULT_ELIGIBLE_TIERS

        if not isinstance(filters, Mapping):
            raise _fail(indicator, f"{where} must be an object, got {filters!r}")
        parts = ["TRUE"]
        for key, value in sorted(filters.items()):
            if key == "alternative_eligible" or key in SAFETY_CLASSIFIED_FLAGS:
                if not isinstance(value, bool):
                    raise _fail(indicator, f"{where}.{key} must be true or false, got {value!r}")
                if key == "alternative_eligible":
                    eligible = (
                        f"(list_contains({self.bind(list(DEFAULT_ELIGIBLE_TIERS))}, tier) "
                        "AND NOT coalesce(screened_out, FALSE))"
                    )
                    parts.append(eligible if value else f"NOT {eligible}")
                else:
                    parts.append(f"coalesce({_quote(key)}, FALSE) = {self.bind(value)}")
                continue
            wanted = [value] if isinstance(value, str) else value
            if not isinstance(wanted, list) or not all(isinstance(v, str) for v in wanted):
                raise _fail(
                    indicator, f"{where}.{key} must be text or a list of text, got {value!r}"
                )
            column = self.column(indicator, key)
            parts.append(f"coalesce(list_contains({self.bind(wanted)}, {column}), FALSE)")
        return " AND ".join(parts)


def _dataset_path(indicator: Indicator, config: Mapping[str, Any]) -> Path:
    raw = config.get("dataset")
    if not isinstance(raw, str) or not raw:
        raise _fail(indicator, f"feed_config.dataset must be a file path, got {raw!r}")
    path = Path(raw)
    if not path.is_absolute():
        path = Path(settings.DATA_DIR) / path
    if not path.is_file():
        raise _fail(
            indicator,
            f"the safety dataset {path} does not exist; write it with `csas safety ingest "
            f"... --output {path}` or correct feed_config.dataset",
        )
    return path


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])


def _needs_classification(keys: Iterable[str]) -> bool:
    classified = SAFETY_CLASSIFIED_TEXT | SAFETY_CLASSIFIED_FLAGS | {"alternative_eligible"}
    return any(key in classified for key in keys)


def _counts_by_month(
    rows: Sequence[tuple[str, str | None, int]], cells: Sequence[str], threshold: int
) -> dict[tuple[str, str], int | None]:
    """(cell, month) -> calls, None when suppressed, from per-call rows through the safety
    library's `rates_by_area_month` (every month of the data gets a cell; the rate, per
    resident, is not used, so each cell's "population" is 1)."""
    from csas.analysis.safety.measures import rates_by_area_month

    months: list[str] = []
    codes: list[str | None] = []
    for month, cell, calls in rows:
        months.extend([month] * calls)
        codes.extend([cell] * calls)
    table = rates_by_area_month(codes, months, dict.fromkeys(cells, 1.0), threshold=threshold)
    return {(c.area, c.month): c.count for c in table.cells}


def safety_observations(indicator: Indicator) -> _Computed:
    """The safety feed: calls per month (``count``) or percent of calls (``share``).

    Calls are read from the normalised Parquet file ``csas safety ingest`` wrote, with DuckDB;
    months are calendar months in the city's time zone (``timezone``, default the site's).
    When a filter or breakdown needs the call-type taxonomy (``category``, ``tier``,
    ``initiation``, the screening flags or ``alternative_eligible``: a community-only or
    community-led tier and no screening flag), calls are classified first with
    :func:`csas.analysis.safety.taxonomy.classify_calls`. Other keys: the normalised text
    columns (``priority``, ``call_type``, ``disposition``, ...) and ``extra.<column>`` for a
    column the ingestion profile kept. A filter value is text or a list of text (any of).

    ``count``: calls matching ``filter`` per month. ``share``: of the calls matching ``of``
    (default: all), the percent also matching ``filter``; n is the denominator.

    Suppression, the safety library's rule: a month (or month and group) with fewer than
    ``CSAS_SUPPRESSION_THRESHOLD`` calls is suppressed, counted by
    :func:`csas.analysis.safety.measures.rates_by_area_month` (which also suppresses
    zero). A share is suppressed when either of the counts it is made of (calls matching,
    and the rest of the denominator) is, since with n published each can be worked out
    from the other; a share of exactly 0% or 100% is therefore never shown.

    Every call is accounted for: calls without a received time (no month) are counted in
    the notes; a first or last month the data cover only in part is noted on its
    observations.
    """
    import duckdb

    from csas.analysis.safety.taxonomy import classify_calls

    config = _config(indicator)
    path = _dataset_path(indicator, config)
    measure = config.get("measure", "count")
    if measure not in get_args(SafetyMeasure):
        raise _fail(indicator, f"feed_config.measure must be 'count' or 'share', got {measure!r}")
    period = config.get("period", "month")
    if period not in get_args(SafetyPeriod):
        raise _fail(indicator, f"feed_config.period must be 'month', got {period!r}")
    filters = config.get("filter", {}) or {}
    denominator = config.get("of", {}) or {}
    if measure == "count" and denominator:
        raise _fail(indicator, "feed_config.of (a share's denominator) needs measure 'share'")
    breakdowns = _optional_text_list(indicator, config, "breakdowns")
    zone = config.get("timezone") or settings.TIME_ZONE
    if not isinstance(zone, str):
        raise _fail(indicator, f"feed_config.timezone must be a time zone name, got {zone!r}")
    threshold = int(settings.SUPPRESSION_THRESHOLD)

    sql = _Sql()
    matching = sql.condition(indicator, "feed_config.filter", filters)
    within = sql.condition(indicator, "feed_config.of", denominator)
    group_columns = [sql.column(indicator, key) for key in breakdowns]
    keys = [*filters, *denominator, *breakdowns]
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        try:
            con.read_parquet(str(path)).create("calls")
        except duckdb.Error as exc:
            raise _fail(
                indicator, f"{path} is not a readable normalised calls file: {exc}"
            ) from exc
        table = "calls"
        if _needs_classification(keys):
            city = config.get("city")
            type_field = config.get("type_field", "call_type")
            if city is not None and not isinstance(city, str):
                raise _fail(indicator, f"feed_config.city must be a city name, got {city!r}")
            try:
                classify_calls(con, "calls", city=city, type_field=type_field)
            except ValueError as exc:
                raise _fail(indicator, f"classifying the calls in {path}: {exc}") from exc
            table = "classified_calls"
        zone_param = sql.bind(zone)
        groups_sql = "".join(f", {column}" for column in group_columns)
        # The query is csas's own fragments: identifiers quoted by _quote, every value from
        # feed_config bound as a parameter by _Sql.bind.
        query = (
            f"SELECT strftime(timezone({zone_param}, received_at), '%Y-%m') AS month, "  # noqa: S608
            f"({matching}) AS matching, ({within}) AS within{groups_sql}, count(*) AS calls "
            f"FROM {_quote(table)} GROUP BY ALL ORDER BY ALL"
        )
        try:
            rows = con.execute(query, sql.params).fetchall()
            (span,) = con.execute(
                f"SELECT min(timezone($zone, received_at))::DATE, "  # noqa: S608
                f"max(timezone($zone, received_at))::DATE FROM {_quote(table)}",
                {"zone": zone},
            ).fetchall()
        except duckdb.Error as exc:
            raise _fail(indicator, f"reading {path}: {exc}") from exc
    finally:
        con.close()

    notes: list[str] = []
    undated = sum(int(row[-1]) for row in rows if row[0] is None)
    if undated:
        notes.append(f"{undated} calls without a received time have no month and are left out")
    dated = [row for row in rows if row[0] is not None]
    first_day, last_day = span
    partial: dict[str, str] = {}
    if dated and first_day is not None and last_day is not None:
        first_month, last_month = first_day.strftime("%Y-%m"), last_day.strftime("%Y-%m")
        if first_day.day != 1:
            partial[first_month] = f"partial month: the data start on {first_day.isoformat()}"
        if last_day != _month_bounds(last_month)[1]:
            text = f"the data end on {last_day.isoformat()}"
            partial[last_month] = (
                f"{partial[last_month]}; {text}"
                if last_month in partial
                else f"partial month: {text}"
            )

    def part_of(row: tuple[Any, ...]) -> str | None:
        """Where a row's calls go: counted ("match"), in a share's denominator only ("rest"),
        or neither (None)."""
        is_matching, is_within = bool(row[1]), bool(row[2])
        if measure == "count":
            return "match" if is_matching else None
        if not is_within:
            return None
        return "match" if is_matching else "rest"

    parts = ["match"] if measure == "count" else ["match", "rest"]
    dimensions: list[tuple[str, int | None]] = [("", None)]
    dimensions += [(key, 3 + index) for index, key in enumerate(breakdowns)]
    months = sorted({row[0] for row in dated})
    observations: list[FeedObservation] = []
    for dimension, column in dimensions if dated else []:

        def group_label(row: tuple[Any, ...], column: int | None = column) -> str:
            if column is None:
                return ""
            value = row[column]
            return NO_VALUE if value is None or str(value).strip() == "" else str(value)

        groups = sorted({group_label(row) for row in dated})
        # The library's area codes: opaque ids, since group labels are arbitrary text.
        cell_id = {
            (g, part): f"c{i}" for i, (g, part) in enumerate((g, p) for g in groups for p in parts)
        }
        per_call: list[tuple[str, str | None, int]] = []
        for row in dated:
            part = part_of(row)
            cell = None if part is None else cell_id[(group_label(row), part)]
            per_call.append((row[0], cell, int(row[-1])))
        counts = _counts_by_month(per_call, list(cell_id.values()), threshold)
        for group in groups:
            for month in months:
                start, end = _month_bounds(month)
                note = partial.get(month, "")
                match = counts[(cell_id[(group, "match")], month)]
                n: int | None = None
                if measure == "count":
                    hidden = match is None
                    value: float | None = None if hidden else float(match or 0)
                else:
                    rest = counts[(cell_id[(group, "rest")], month)]
                    hidden = match is None or rest is None
                    total = (match or 0) + (rest or 0)
                    value = None if hidden else 100 * (match or 0) / total
                    n = None if hidden else total
                if hidden:
                    reason = f"fewer than {threshold} calls"
                    note = f"{reason}; {note}" if note else reason
                observations.append(
                    FeedObservation(
                        start, end, dimension, group, value, n=n, suppressed=hidden, note=note
                    )
                )
    method = (
        f"{'calls per month' if measure == 'count' else 'percent of calls per month'} from "
        f"{path.name} (months in {zone}); filter {dict(filters)}"
        + (f", of {dict(denominator)}" if measure == "share" else "")
        + f"; months with fewer than {threshold} calls suppressed "
        "(csas.analysis.safety.measures.rates_by_area_month)"
    )
    return _Computed(observations, method, notes)


# ---------------------------------------------------------------------------------------------
# Writing


_FIELDS: Final = ("value", "n", "margin_of_error", "wave", "suppressed", "note", "created_by")


def _same(a: object, b: object) -> bool:
    """Equal, with floats compared to rounding error (a value read back from the database)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _check(indicator: Indicator, observation: Observation) -> None:
    """Field checks (lengths, ranges) before saving, as a FeedError naming the row."""
    try:
        # The indicator is known to exist: excluding it saves a query per row.
        observation.full_clean(
            exclude=["indicator"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        raise _fail(
            indicator,
            f"observation for {observation.period_start} to {observation.period_end}, "
            f"{observation.dimension or 'overall'} {observation.group!r}: {exc.message_dict}",
        ) from exc


def _write(
    indicator: Indicator, produced: Sequence[FeedObservation], created_by: str
) -> tuple[int, int, int, int]:
    """Upsert `produced` and delete stale feed-written observations: (created, updated,
    unchanged, removed)."""
    seen: dict[tuple[dt.date, dt.date, str, str], FeedObservation] = {}
    for item in produced:
        if item.key in seen:
            raise _fail(
                indicator,
                f"two observations for period {item.period_start} to {item.period_end}, "
                f"{item.dimension or 'overall'} {item.group!r}: give the waves different "
                "survey dates",
            )
        seen[item.key] = item
    existing = {
        (o.period_start, o.period_end, o.dimension, o.group): o
        for o in Observation.objects.filter(indicator=indicator)
    }
    created: list[Observation] = []
    updated = unchanged = 0
    for key, item in seen.items():
        wanted = {
            "value": item.value,
            "n": item.n,
            "margin_of_error": item.margin_of_error,
            "wave": item.wave,
            "suppressed": item.suppressed,
            "note": item.note,
            "created_by": created_by,
        }
        current = existing.pop(key, None)
        if current is None:
            observation = Observation(
                indicator=indicator,
                period_start=item.period_start,
                period_end=item.period_end,
                dimension=item.dimension,
                group=item.group,
                **wanted,
            )
            _check(indicator, observation)
            created.append(observation)
            continue
        changed = [name for name in _FIELDS if not _same(getattr(current, name), wanted[name])]
        if not changed:
            unchanged += 1
            continue
        for name in changed:
            setattr(current, name, wanted[name])
        _check(indicator, current)
        current.save(update_fields=changed)
        updated += 1
    Observation.objects.bulk_create(created)
    stale = [o.pk for o in existing.values() if o.created_by.startswith("feed:")]
    Observation.objects.filter(pk__in=stale).delete()
    return len(created), updated, unchanged, len(stale)


def refresh_indicator(indicator: Indicator) -> FeedResult:
    """Recompute a fed indicator's observations and write them (see the module docstring).

    A manual indicator is left alone (``skipped=True``). Raises :class:`FeedError` naming
    the indicator when its feed configuration or data are wrong; nothing is written then.
    """
    if indicator.feed == IndicatorFeed.MANUAL:
        return FeedResult(indicator=indicator.slug, feed=indicator.feed, skipped=True)
    try:
        indicator.clean()  # a survey feed makes a population indicator, safety data a count
    except ValidationError as error:
        raise _fail(indicator, " ".join(error.messages)) from None
    if indicator.feed == IndicatorFeed.SURVEY:
        computed = survey_observations(indicator)
    elif indicator.feed == IndicatorFeed.SAFETY:
        computed = safety_observations(indicator)
    else:
        raise _fail(indicator, f"unknown feed {indicator.feed!r}")
    with transaction.atomic():
        # Lock the indicator so two refreshes of it cannot interleave their upserts.
        Indicator.objects.select_for_update().filter(pk=indicator.pk).first()
        created, updated, unchanged, removed = _write(
            indicator, computed.observations, f"feed:{indicator.feed}"
        )
    return FeedResult(
        indicator=indicator.slug,
        feed=indicator.feed,
        created=created,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        suppressed=sum(1 for o in computed.observations if o.suppressed),
        periods=tuple(sorted({(o.period_start, o.period_end) for o in computed.observations})),
        method=computed.method,
        notes=tuple(computed.notes),
    )


def refresh_all(strategy: Strategy) -> list[FeedResult]:
    """Refresh every fed (survey or safety) indicator of `strategy`, by slug.

    One indicator's failure does not stop the others: its result carries the error and its
    observations are left as they were.
    """
    results = []
    fed = Indicator.objects.filter(strategy=strategy).exclude(feed=IndicatorFeed.MANUAL)
    for indicator in fed.order_by("slug"):
        try:
            results.append(refresh_indicator(indicator))
        except FeedError as exc:
            results.append(
                FeedResult(indicator=indicator.slug, feed=indicator.feed, error=str(exc))
            )
    return results
