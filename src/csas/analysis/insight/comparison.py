"""Group comparison for one survey question: estimates by group, differences, and honesty.

:func:`compare_groups` takes one answer per respondent (a 0/1 indicator for a proportion,
a number for a mean) and each respondent's group (a demographic category, a neighbourhood, a
council district) and returns, per group, the number of respondents, the estimate with its
95% interval, and the difference from a reference group with its interval and p-value,
adjusted for the number of groups compared. :func:`relative_difference` turns two groups
into the headline Tacoma's 2022 survey used ("Black residents feel 50% less safe than white
residents") with an interval.

Methods (``method=``):

``"wilson"`` (proportions, unweighted)
    Per group the Wilson score interval (identical to
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``). Difference from the
    reference: Newcombe's hybrid score interval (Newcombe 1998, method 10), built from the
    two Wilson intervals, which keeps its coverage with small groups where the Wald interval
    does not; p-value from the two-proportion z-test with pooled variance (equal to Pearson's
    chi-squared test without continuity correction). The interval and the test are different
    constructions, so exactly at the 5% boundary they can disagree.
``"t"`` (means, unweighted)
    Per group the t interval with n - 1 degrees of freedom; difference by Welch's t-test
    and its interval (Welch-Satterthwaite degrees of freedom).
``"weighted"`` (proportions or means, survey-weighted)
    Needs the :class:`~csas.analysis.insight.weighting.RakingResult` of the respondents (and
    optionally their :class:`~csas.analysis.insight.weighting.SurveyDesign`). Each group is a
    *domain*: its estimate is the ratio sum(w*y)/sum(w) over the group's answering
    respondents, and its standard error comes from the Taylor linearisation of that ratio,
    z_i = 1[i in group] (y_i - estimate) / sum(w), passed to
    :func:`~csas.analysis.insight.weighting.weighted_total`, so the raking (calibration
    residuals), clusters, strata and finite population correction are handled exactly as
    for the whole sample; for a single group covering everyone the result equals
    :func:`~csas.analysis.insight.weighting.weighted_mean`. Respondents who did not answer
    are outside every domain but stay in the design (domain estimation, rather than
    dropping them and re-raking). The
    difference from the reference uses the linearised values' difference z_group - z_ref
    over the whole sample, so any covariance the design induces between groups (shared
    clusters, common calibration) is included. Approximations: first-order Taylor
    linearisation (good when groups are not tiny), the weights are treated as fixed apart
    from the calibration residuals, and intervals and p-values use the normal distribution
    (R's ``confint`` for ``svymean`` does the same; ``svyttest`` would use the design degrees of
    freedom). Proportion intervals are clipped to [0, 1].

Missing answers. ``None``, NaN and any of ``missing`` ("prefer not to say", "prefer not to
answer" and "" by default, compared case-insensitively) mean no answer: the respondent is
excluded and counted in ``n_missing_answer``. A respondent who answered but whose group is
missing in the same sense is counted in ``n_missing_group``. Every respondent is counted
exactly once: ``n + n_missing_answer + n_missing_group`` is the number of respondents.

Suppression. A group with fewer than ``threshold`` answering respondents (default 10) is
*suppressed*: its ``n``, estimate, interval and difference are None, with the reason. Since the
table's total is public, one suppressed group could be computed from the total and the other
groups, so further groups are suppressed until that is impossible
(:func:`~csas.analysis.insight.suppression.protect_partition`; the smallest groups go first,
and the reference group only when nothing else will do). A group nobody in it answered
shows ``n = 0`` (zeros are safe, see :mod:`~csas.analysis.insight.suppression`) and no
estimate. If the reference group is suppressed, no difference is shown (a difference and a
published estimate would give the reference's estimate away). Protection across several
published tables (by district, and by district for women) is
:func:`~csas.analysis.insight.suppression.protect_tables`' job: pass the groups it hides
as ``suppress=``.

Multiple testing. The family is the comparisons of every shown group with the reference.
``adjust="holm"`` (default) controls the family-wise error rate, ``"bh"``
(Benjamini-Hochberg) the false discovery rate, ``"none"`` neither. Intervals are not
adjusted. For a family spanning several questions, adjust their p-values together with
:func:`adjust_p_values`.

Example: who feels safe walking alone at night, by district.

>>> feels_safe = [1] * 60 + [0] * 60 + [1] * 24 + [0] * 56 + [1, 0, 1] + [1] * 15 + [0] * 10
>>> district = ["D1"] * 120 + ["D2"] * 80 + ["D3"] * 3 + ["D4"] * 25
>>> result = compare_groups(feels_safe, district, reference="D1")
>>> d1, d2, d3, d4 = result.groups
>>> d1.n, round(d1.estimate, 3), d2.n, round(d2.estimate, 3)
(120, 0.5, 80, 0.3)
>>> round(d2.difference, 3), round(d2.p_value, 4)
(-0.2, 0.005)
>>> d3.suppressed, d3.n, d3.estimate, d3.suppression_reason
(True, None, None, 'fewer than 10 respondents')
>>> d4.suppressed, d4.suppression_reason  # else D3 = total - D1 - D2 - D4
(True, 'complementary: hidden so that a suppressed group cannot be computed from the total')
>>> headline = relative_difference(feels_safe, district, group="D2", reference="D1")
>>> headline.describe("likely to feel safe")
'D2: 40% less likely to feel safe than D1 (95% CI: between 12% and 59% less)'
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import ndtri

from csas.analysis.insight.suppression import protect_partition
from csas.analysis.insight.weighting import RakingResult, SurveyDesign, weighted_total

Measure = Literal["proportion", "mean"]
Method = Literal["wilson", "t", "weighted"]
Adjust = Literal["holm", "bh", "none"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MISSING_CODES: Final = ("prefer not to say", "prefer not to answer", "")
"""Answers that mean "no answer" by default (compared after strip() and casefold())."""


@dataclass(frozen=True)
class Interval:
    """A confidence interval: low, high, and the confidence level."""

    low: float
    high: float
    level: float


@dataclass(frozen=True)
class GroupResult:
    """One group of a comparison.

    Fields:
        group: the group's label.
        is_reference: whether this is the reference group.
        n: respondents in the group who answered (unweighted); None when suppressed.
        estimate: proportion (0 to 1) or mean; survey-weighted for ``method="weighted"``.
        ci_low, ci_high: the confidence interval of the estimate.
        se: standard error of the estimate (Wald sqrt(p(1-p)/n) for proportions, s/sqrt(n)
            for means, linearised for weighted estimates).
        difference: estimate minus the reference group's estimate (None for the reference).
        difference_ci_low, difference_ci_high: its confidence interval (not adjusted).
        p_value: two-sided p-value of "no difference from the reference".
        p_adjusted: the p-value adjusted for the comparisons in the family.
        significant: p_adjusted < alpha (None when there is no test).
        suppressed: whether the group's figures are withheld (see ``suppression_reason``).
        suppression_reason: why, without giving any count away.
        note: why a figure is missing although the group is shown (e.g. no variation).
    """

    group: str
    is_reference: bool
    n: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    significant: bool | None
    suppressed: bool
    suppression_reason: str | None
    note: str | None


@dataclass(frozen=True)
class GroupComparison:
    """Estimates by group for one question, with differences from a reference group.

    Fields:
        groups: one :class:`GroupResult` per group, in ``categories`` order (or sorted).
        reference: the reference group (None: no differences were computed).
        measure: ``"proportion"`` or ``"mean"``.
        interval: the ``method`` option used (``"wilson"``, ``"t"`` or ``"weighted"``).
        adjust: multiple-testing adjustment (``"holm"``, ``"bh"`` or ``"none"``).
        level: confidence level of every interval.
        alpha: significance level for ``significant``.
        threshold: groups with fewer answering respondents are suppressed.
        n: respondents who answered and have a group.
        n_missing_answer: respondents excluded because they did not answer.
        n_missing_group: respondents who answered but whose group is missing.
        n_tests: comparisons in the multiple-testing family.
        method: how estimates, intervals and tests were computed, in words.
    """

    groups: tuple[GroupResult, ...]
    reference: str | None
    measure: Measure
    interval: Method
    adjust: Adjust
    level: float
    alpha: float
    threshold: int
    n: int
    n_missing_answer: int
    n_missing_group: int
    n_tests: int
    method: str

    def group(self, name: str) -> GroupResult:
        """The result for one group."""
        for result in self.groups:
            if result.group == name:
                return result
        raise KeyError(f"no group {name!r}; groups are {[g.group for g in self.groups]}")


@dataclass(frozen=True)
class RelativeDifference:
    """How much higher or lower one group's estimate is than the reference's, as a fraction.

    Fields:
        group, reference: the two groups.
        estimate_group, estimate_reference: their estimates.
        n_group, n_reference: their answering respondents.
        ratio: estimate_group / estimate_reference.
        ratio_ci_low, ratio_ci_high: its confidence interval.
        relative_difference: ratio - 1 (-0.5 reads "50% less").
        ci_low, ci_high: its confidence interval (the ratio's, minus 1).
        level: confidence level.
        suppressed: a group is suppressed in the comparison table; every figure is None.
        reason: why figures are missing.
        method: how the interval was computed.
    """

    group: str
    reference: str
    estimate_group: float | None
    estimate_reference: float | None
    n_group: int | None
    n_reference: int | None
    ratio: float | None
    ratio_ci_low: float | None
    ratio_ci_high: float | None
    relative_difference: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    suppressed: bool
    reason: str | None
    method: str

    def describe(
        self, outcome: str, *, group_label: str | None = None, reference_label: str | None = None
    ) -> str | None:
        """An English headline, e.g. "Black residents: 50% less likely to feel safe than
        white residents (95% CI: between 38% and 60% less)"; None when suppressed."""
        if self.relative_difference is None:
            return None
        group = group_label or self.group
        reference = reference_label or self.reference

        def words(value: float) -> str:
            percent = round(abs(value) * 100)
            return f"{percent}% {'less' if value < 0 else 'more'}"

        text = f"{group}: {words(self.relative_difference)} {outcome} than {reference}"
        if self.ci_low is None or self.ci_high is None:
            return text
        level = f"{round(self.level * 100)}% CI"
        low, high = self.ci_low, self.ci_high
        if low < 0 and high < 0:
            return text + f" ({level}: between {round(-high * 100)}% and {words(low)})"
        if low > 0 and high > 0:
            return text + f" ({level}: between {round(low * 100)}% and {words(high)})"
        return text + f" ({level}: from {words(low)} to {words(high)})"


def wilson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval for a proportion ``successes / n`` (Newcombe 1998's formulas,
    as scipy computes them: the bound is exactly 0 or 1 when all answers agree).

    >>> interval = wilson_interval(3, 10)
    >>> round(interval.low, 4), round(interval.high, 4)
    (0.1078, 0.6032)
    """
    _check_level(level, "level")
    if isinstance(successes, bool) or isinstance(n, bool):
        raise ValueError("successes and n must be counts, not booleans")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    p = successes / n
    q = 1 - p
    z = float(ndtri(0.5 + 0.5 * level))
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * q + z**2)
    low = 0.0 if successes == 0 else center - delta
    high = 1.0 if successes == n else center + delta
    return Interval(low, high, level)


def adjust_p_values(p_values: Sequence[float], method: Adjust = "holm") -> tuple[float, ...]:
    """P-values adjusted for multiple testing, in the input order.

    ``"holm"``: Holm's step-down (family-wise error rate); ``"bh"``: Benjamini-Hochberg
    (false discovery rate; equal to ``scipy.stats.false_discovery_control``); ``"none"``: as
    given.

    >>> adjust_p_values([0.01, 0.04, 0.03], "holm")
    (0.03, 0.06, 0.06)
    >>> [round(p, 4) for p in adjust_p_values([0.01, 0.04, 0.03], "bh")]
    [0.03, 0.04, 0.04]
    """
    _check_option(method, Adjust, "adjust")
    values = np.asarray(p_values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("p_values must be a flat sequence of numbers")
    if not np.all(np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        raise ValueError(f"p_values must lie between 0 and 1, got {values.tolist()}")
    m = values.size
    if m == 0 or method == "none":
        return tuple(float(v) for v in values)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    else:
        scaled = ranked * m / np.arange(1, m + 1)
        adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    result = np.empty(m)
    result[order] = adjusted
    return tuple(float(v) for v in result)


def _check_option(value: str, options: object, name: str) -> None:
    allowed = get_args(options)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_level(level: float, name: str) -> None:
    if not isinstance(level, int | float) or not 0 < level < 1 or math.isnan(level):
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {level!r}")


def _is_missing(value: object, codes: frozenset[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().casefold() in codes


@dataclass(frozen=True)
class _Prepared:
    """Parsed inputs shared by compare_groups and relative_difference."""

    values: FloatArray  # 0 where not answered
    answered: BoolArray
    labels: npt.NDArray[np.str_]
    has_group: BoolArray
    categories: tuple[str, ...]
    measure: Measure
    method: Method
    raking: RakingResult | None
    design: SurveyDesign | None
    level: float
    threshold: int


def _prepare(
    values: Sequence[object] | npt.ArrayLike,
    groups: Sequence[object] | npt.ArrayLike,
    *,
    measure: str,
    method: str | None,
    raking: RakingResult | None,
    design: SurveyDesign | None,
    categories: Sequence[str] | None,
    missing: Collection[str],
    level: float,
    threshold: int,
) -> _Prepared:
    _check_option(measure, Measure, "measure")
    if method is None:
        method = "wilson" if measure == "proportion" else "t"
    _check_option(method, Method, "method")
    if method == "wilson" and measure == "mean":
        raise ValueError("method 'wilson' is for proportions; use method='t' for means")
    if method == "t" and measure == "proportion":
        raise ValueError("method 't' is for means; use method='wilson' for proportions")
    if method == "weighted" and raking is None:
        raise ValueError("method 'weighted' needs raking= (a RakingResult for the respondents)")
    if method != "weighted" and raking is not None:
        raise ValueError(
            f"raking was given but method is {method!r}; pass method='weighted' to use weights"
        )
    if design is not None and method != "weighted":
        raise ValueError("design= only applies to method='weighted'")
    _check_level(level, "level")
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"threshold must be a whole number, got {threshold!r}")
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    codes = frozenset(code.strip().casefold() for code in missing)
    raw_values = np.asarray(values, dtype=object)
    raw_groups = np.asarray(groups, dtype=object)
    if raw_values.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {raw_values.shape}")
    if raw_groups.ndim != 1:
        raise ValueError(f"groups must be one-dimensional, got shape {raw_groups.shape}")
    if raw_values.size == 0:
        raise ValueError("values: no respondents")
    if raw_groups.size != raw_values.size:
        raise ValueError(f"groups has {raw_groups.size} labels for {raw_values.size} values")
    if raking is not None and raking.n != raw_values.size:
        raise ValueError(f"raking has {raking.n} weights for {raw_values.size} values")
    parsed = np.zeros(raw_values.size)
    answered = np.ones(raw_values.size, dtype=np.bool_)
    for index, value in enumerate(raw_values.tolist()):
        if _is_missing(value, codes):
            answered[index] = False
            continue
        if isinstance(value, str | bytes):
            raise ValueError(
                f"values[{index}]: {value!r} is not a number (missing answers are None, NaN "
                f"or one of {sorted(codes)})"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"values[{index}]: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"values[{index}]: {value!r} is not finite")
        if measure == "proportion" and number not in (0.0, 1.0):
            raise ValueError(
                f"values[{index}]: {value!r}; a proportion needs 0/1 (or True/False) answers"
            )
        parsed[index] = number
    if not answered.any():
        raise ValueError("values: every answer is missing; there is nothing to compare")
    has_group = np.array([not _is_missing(g, codes) for g in raw_groups.tolist()], dtype=bool)
    labels = np.array([str(g) if ok else "" for g, ok in zip(raw_groups, has_group, strict=True)])
    present = sorted(set(labels[has_group].tolist()))
    if categories is None:
        ordered = tuple(present)
    else:
        ordered = tuple(str(c) for c in categories)
        if len(set(ordered)) != len(ordered):
            raise ValueError(f"categories has repeated groups: {list(ordered)}")
        if unknown := sorted(set(present) - set(ordered)):
            raise ValueError(f"groups {unknown} are not in categories {list(ordered)}")
    if not ordered:
        raise ValueError("groups: no respondent has a group")
    return _Prepared(
        values=parsed,
        answered=answered,
        labels=labels,
        has_group=has_group,
        categories=ordered,
        measure=cast(Measure, measure),
        method=cast(Method, method),
        raking=raking,
        design=design,
        level=level,
        threshold=int(threshold),
    )


@dataclass(frozen=True)
class _Cell:
    """Internal per-group figures before suppression."""

    n: int
    estimate: float | None
    se: float | None
    low: float | None
    high: float | None
    successes: int
    sample_sd: float | None
    scores: FloatArray | None  # linearised values (weighted only)
    note: str | None


def _z(level: float) -> float:
    return float(ndtri(0.5 + 0.5 * level))


def _cell(prep: _Prepared, group: str) -> _Cell:
    mask = prep.answered & prep.has_group & (prep.labels == group)
    n = int(mask.sum())
    if n == 0:
        return _Cell(0, None, None, None, None, 0, None, None, "no respondent in it answered")
    y = prep.values[mask]
    if prep.raking is not None:  # method "weighted"
        weights = prep.raking.weights
        domain_weight = float(weights[mask].sum())
        estimate = float(np.sum(weights[mask] * y) / domain_weight)
        scores = np.where(mask, prep.values - estimate, 0.0) / domain_weight
        se = weighted_total(scores, prep.raking, prep.design, level=prep.level).se
        z = _z(prep.level)
        low, high = estimate - z * se, estimate + z * se
        if prep.measure == "proportion":
            low, high = max(0.0, low), min(1.0, high)
        return _Cell(n, estimate, se, low, high, int(y.sum()), None, scores, None)
    if prep.measure == "proportion":
        successes = int(y.sum())
        interval = wilson_interval(successes, n, prep.level)
        p = successes / n
        se = math.sqrt(p * (1 - p) / n)
        return _Cell(n, p, se, interval.low, interval.high, successes, None, None, None)
    mean = float(y.mean())
    if n < 2:
        note = "one respondent: no interval or test"
        return _Cell(n, mean, None, None, None, 0, None, None, note)
    sd = float(y.std(ddof=1))
    se = sd / math.sqrt(n)
    t = float(stats.t.ppf(0.5 + 0.5 * prep.level, n - 1))
    return _Cell(n, mean, se, mean - t * se, mean + t * se, 0, sd, None, None)


def _difference(
    prep: _Prepared, cell: _Cell, ref: _Cell
) -> tuple[float, float | None, float | None, float | None, str | None]:
    """(difference, ci_low, ci_high, p_value, note) of cell minus ref (both with estimates)."""
    if cell.estimate is None or ref.estimate is None:
        raise RuntimeError("a difference needs two estimates")
    diff = cell.estimate - ref.estimate
    if prep.raking is not None and cell.scores is not None and ref.scores is not None:
        se = weighted_total(cell.scores - ref.scores, prep.raking, prep.design).se
        if se == 0:
            return diff, None, None, None, "no variation in either group: no test"
        z = _z(prep.level)
        low, high = diff - z * se, diff + z * se
        if prep.measure == "proportion":
            low, high = max(-1.0, low), min(1.0, high)
        return diff, low, high, float(2 * stats.norm.sf(abs(diff) / se)), None
    if prep.measure == "proportion":
        if cell.low is None or cell.high is None or ref.low is None or ref.high is None:
            raise RuntimeError("a proportion always has a Wilson interval")
        p1, p2 = cell.estimate, ref.estimate
        low = diff - math.sqrt((p1 - cell.low) ** 2 + (ref.high - p2) ** 2)
        high = diff + math.sqrt((cell.high - p1) ** 2 + (p2 - ref.low) ** 2)
        pooled = (cell.successes + ref.successes) / (cell.n + ref.n)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / cell.n + 1 / ref.n))
        p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(diff) / se0))
        return diff, low, high, p_value, None
    if cell.sample_sd is None or ref.sample_sd is None:
        return diff, None, None, None, "a group has one respondent: no test"
    v1, v2 = cell.sample_sd**2 / cell.n, ref.sample_sd**2 / ref.n
    if v1 + v2 == 0:
        return diff, None, None, None, "no variation in either group: no test"
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (cell.n - 1) + v2**2 / (ref.n - 1))
    t = float(stats.t.ppf(0.5 + 0.5 * prep.level, df))
    p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    return diff, diff - t * se, diff + t * se, p_value, None


def _suppression(
    prep: _Prepared, cells: dict[str, _Cell], suppress: Collection[str], reference: str | None
) -> dict[str, str]:
    """Group -> suppression reason, for primary, caller-requested and complementary hiding."""
    if isinstance(suppress, str):
        raise ValueError(f"suppress: expected a collection of group labels, got {suppress!r}")
    if unknown := sorted(set(suppress) - set(prep.categories)):
        raise ValueError(f"suppress: {unknown} are not groups {list(prep.categories)}")
    protection = protect_partition(
        {group: cells[group].n for group in prep.categories},
        threshold=prep.threshold,
        suppress=suppress,
        keep=() if reference is None else (reference,),
    )
    reasons = {
        "primary": f"fewer than {prep.threshold} respondents",
        "requested": "suppressed by the caller (protection across tables)",
        "complementary": "complementary: hidden so that a suppressed group cannot be computed "
        "from the total",
    }
    return {
        status.cell: reasons[status.status]
        for status in protection.cells
        if status.cell in cells and not status.published
    }


def _description(prep: _Prepared, adjust: Adjust) -> str:
    if prep.method == "weighted":
        core = (
            "survey-weighted domain estimates; Taylor linearisation with the raking's "
            "calibration residuals; normal intervals and z-tests"
        )
    elif prep.measure == "proportion":
        core = (
            "Wilson score intervals; Newcombe hybrid score interval for differences; "
            "pooled two-proportion z-test"
        )
    else:
        core = "t intervals; Welch's t-test and interval for differences"
    names = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "no"}
    return f"{core}; {names[adjust]} adjustment for multiple comparisons"


def compare_groups(
    values: Sequence[object] | npt.ArrayLike,
    groups: Sequence[object] | npt.ArrayLike,
    *,
    reference: str | None = None,
    measure: Measure = "proportion",
    method: Method | None = None,
    raking: RakingResult | None = None,
    design: SurveyDesign | None = None,
    adjust: Adjust = "holm",
    threshold: int = 10,
    level: float = 0.95,
    alpha: float = 0.05,
    categories: Sequence[str] | None = None,
    missing: Collection[str] = MISSING_CODES,
    suppress: Collection[str] = (),
) -> GroupComparison:
    """Per-group estimates of one question, with differences from ``reference``.

    Args:
        values: one answer per respondent: 0/1 (or booleans) for ``measure="proportion"``,
            numbers for ``"mean"``; None, NaN or one of ``missing`` for no answer.
        groups: each respondent's group label; None, NaN or one of ``missing`` for unknown.
        reference: the group every other group is compared with (None: no comparisons).
        measure: ``"proportion"`` or ``"mean"``.
        method: ``"wilson"`` (proportions), ``"t"`` (means) or ``"weighted"``; None picks
            the unweighted method for the measure.
        raking, design: the respondents' raking and sampling design, for ``"weighted"``.
        adjust: ``"holm"``, ``"bh"`` or ``"none"`` (see the module docstring).
        threshold: groups with fewer answering respondents are suppressed (at least 1).
        level: confidence level of the intervals; alpha: significance level.
        categories: every group to report, in order (groups nobody is in are shown with
            n = 0); by default the labels present, sorted.
        missing: answers and labels meaning "no answer".
        suppress: groups to hide in addition (from cross-table protection).

    Raises ValueError naming the argument for inputs of the wrong shape or kind.
    """
    _check_option(adjust, Adjust, "adjust")
    _check_level(alpha, "alpha")
    prep = _prepare(
        values,
        groups,
        measure=measure,
        method=method,
        raking=raking,
        design=design,
        categories=categories,
        missing=missing,
        level=level,
        threshold=threshold,
    )
    if reference is not None and reference not in prep.categories:
        raise ValueError(
            f"reference {reference!r} is not one of the groups {list(prep.categories)}"
        )
    cells = {group: _cell(prep, group) for group in prep.categories}
    hidden = _suppression(prep, cells, suppress, reference)
    ref_cell = cells[reference] if reference is not None else None
    ref_note: str | None = None
    if reference is not None and reference in hidden:
        ref_note = "the reference group is suppressed: no differences are shown"
    elif ref_cell is not None and ref_cell.estimate is None:
        ref_note = "the reference group has no answers: no differences"
    differences: dict[str, tuple[float, float | None, float | None, float | None, str | None]]
    differences = {}
    if ref_cell is not None and ref_note is None:
        for group, cell in cells.items():
            if group != reference and group not in hidden and cell.estimate is not None:
                differences[group] = _difference(prep, cell, ref_cell)
    raw_p = {group: d[3] for group, d in differences.items() if d[3] is not None}
    tested = list(raw_p)
    adjusted = dict(zip(tested, adjust_p_values(list(raw_p.values()), adjust), strict=True))
    results = []
    for group, cell in cells.items():
        is_reference = group == reference
        if group in hidden:
            results.append(
                GroupResult(
                    group, is_reference, None, None, None, None, None, None, None, None, None,
                    None, None, True, hidden[group], None,
                )
            )  # fmt: skip
            continue
        diff = differences.get(group)
        note = cell.note
        if note is None and diff is not None:
            note = diff[4]
        elif note is None and not is_reference and reference is not None:
            note = ref_note
        p_adj = adjusted.get(group)
        results.append(
            GroupResult(
                group=group,
                is_reference=is_reference,
                n=cell.n,
                estimate=cell.estimate,
                ci_low=cell.low,
                ci_high=cell.high,
                se=cell.se,
                difference=None if diff is None else diff[0],
                difference_ci_low=None if diff is None else diff[1],
                difference_ci_high=None if diff is None else diff[2],
                p_value=None if diff is None else diff[3],
                p_adjusted=p_adj,
                significant=None if p_adj is None else p_adj < alpha,
                suppressed=False,
                suppression_reason=None,
                note=note,
            )
        )
    n_missing_answer = int((~prep.answered).sum())
    return GroupComparison(
        groups=tuple(results),
        reference=reference,
        measure=prep.measure,
        interval=prep.method,
        adjust=adjust,
        level=level,
        alpha=alpha,
        threshold=prep.threshold,
        n=int((prep.answered & prep.has_group).sum()),
        n_missing_answer=n_missing_answer,
        n_missing_group=int((prep.answered & ~prep.has_group).sum()),
        n_tests=len(tested),
        method=_description(prep, adjust),
    )


def relative_difference(
    values: Sequence[object] | npt.ArrayLike,
    groups: Sequence[object] | npt.ArrayLike,
    *,
    group: str,
    reference: str,
    measure: Measure = "proportion",
    method: Method | None = None,
    raking: RakingResult | None = None,
    design: SurveyDesign | None = None,
    threshold: int = 10,
    level: float = 0.95,
    categories: Sequence[str] | None = None,
    missing: Collection[str] = MISSING_CODES,
    suppress: Collection[str] = (),
) -> RelativeDifference:
    """``group``'s estimate relative to ``reference``'s: ratio - 1, with a confidence interval.

    The interval is the delta method on the log scale (exp of log-ratio +/- z * se, minus 1),
    which keeps the ratio positive and its interval asymmetric as ratios are:

    * unweighted proportions: Katz's interval, se^2 = 1/x1 - 1/n1 + 1/x2 - 1/n2 (the one
      ``scipy.stats.contingency.relative_risk`` gives);
    * unweighted means (positive means only): se^2 = s1^2/(n1 m1^2) + s2^2/(n2 m2^2), normal
      quantile;
    * weighted: the linearised value of log(m1/m2), z1/m1 - z2/m2, through the same design
      variance as :func:`compare_groups`.

    Fieller's interval would be the alternative for a ratio whose denominator is imprecise;
    the log-delta interval is used because it is what Katz's standard relative-risk interval
    is and it needs no special cases for unbounded sets. With no "yes" in either group the log
    is undefined and only the ratio is given. Suppression follows :func:`compare_groups` on
    the same inputs: if either group is hidden there, every figure here is None.
    """
    if group == reference:
        raise ValueError(f"group and reference are both {group!r}")
    comparison = compare_groups(
        values,
        groups,
        reference=reference,
        measure=measure,
        method=method,
        raking=raking,
        design=design,
        adjust="none",
        threshold=threshold,
        level=level,
        categories=categories,
        missing=missing,
        suppress=suppress,
    )
    if group not in [result.group for result in comparison.groups]:
        raise ValueError(
            f"group {group!r} is not one of the groups {[g.group for g in comparison.groups]}"
        )
    shown = comparison.group(group)
    ref_shown = comparison.group(reference)
    description = (
        "ratio of estimates; delta-method interval on the log scale ("
        + ("Katz" if comparison.interval == "wilson" else comparison.interval)
        + ")"
    )

    def empty(reason: str, suppressed: bool) -> RelativeDifference:
        return RelativeDifference(
            group, reference, None, None, None, None, None, None, None, None, None, None,
            level, suppressed, reason, description,
        )  # fmt: skip

    if shown.suppressed or ref_shown.suppressed:
        which = group if shown.suppressed else reference
        return empty(f"{which!r} is suppressed in the comparison table", True)
    prep = _prepare(
        values,
        groups,
        measure=measure,
        method=method,
        raking=raking,
        design=design,
        categories=categories,
        missing=missing,
        level=level,
        threshold=threshold,
    )
    cell, ref = _cell(prep, group), _cell(prep, reference)
    if cell.estimate is None or ref.estimate is None:
        return empty("a group has no answers", False)
    if ref.estimate <= 0:
        return empty("the reference estimate is not positive: no ratio", False)
    if cell.estimate < 0:
        return empty("a negative mean: no ratio", False)
    ratio = cell.estimate / ref.estimate
    se: float | None
    if cell.estimate == 0:
        se = None
    elif prep.raking is not None and cell.scores is not None and ref.scores is not None:
        scores = cell.scores / cell.estimate - ref.scores / ref.estimate
        se = weighted_total(scores, prep.raking, prep.design).se
    elif prep.measure == "proportion":
        se = math.sqrt(1 / cell.successes - 1 / cell.n + 1 / ref.successes - 1 / ref.n)
    elif cell.sample_sd is None or ref.sample_sd is None:
        se = None
    else:
        se = math.sqrt(
            cell.sample_sd**2 / (cell.n * cell.estimate**2)
            + ref.sample_sd**2 / (ref.n * ref.estimate**2)
        )
    low: float | None = None
    high: float | None = None
    reason: str | None = None
    if se is None:
        reason = "the log-scale interval is undefined (a zero estimate or one respondent)"
    else:
        z = _z(level)
        low, high = ratio * math.exp(-z * se), ratio * math.exp(z * se)
    return RelativeDifference(
        group=group,
        reference=reference,
        estimate_group=cell.estimate,
        estimate_reference=ref.estimate,
        n_group=cell.n,
        n_reference=ref.n,
        ratio=ratio,
        ratio_ci_low=low,
        ratio_ci_high=high,
        relative_difference=ratio - 1,
        ci_low=None if low is None else low - 1,
        ci_high=None if high is None else high - 1,
        level=level,
        suppressed=False,
        reason=reason,
        method=description,
    )
