from __future__ import annotations

import csv
import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import relative_risk

from csas.analysis.insight import comparison
from csas.analysis.insight.comparison import (
    adjust_p_values,
    compare_groups,
    relative_difference,
    wilson_interval,
)
from csas.analysis.insight.weighting import (
    Margin,
    RakingResult,
    SurveyDesign,
    rake,
    weighted_mean,
)

FIXTURE = Path(__file__).parent / "fixtures" / "apiclus1.csv"


@pytest.fixture(scope="module")
def api() -> dict[str, np.ndarray]:
    with FIXTURE.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="module")
def raked(api: dict[str, np.ndarray]) -> RakingResult:
    return rake(
        api["pw"].astype(float),
        [
            Margin("stype", api["stype"], {"E": 4421, "H": 755, "M": 1018}),
            Margin("sch_wide", api["sch_wide"], {"No": 1072, "Yes": 5122}),
        ],
    )


@pytest.fixture(scope="module")
def design(api: dict[str, np.ndarray]) -> SurveyDesign:
    return SurveyDesign(clusters=api["dnum"], fpc=api["fpc"].astype(float))


def answers(spec: dict[str, tuple[int, int]]) -> tuple[list[int], list[str]]:
    """{group: (yes, no)} -> per-respondent 0/1 answers and group labels."""
    values: list[int] = []
    labels: list[str] = []
    for group, (yes, no) in spec.items():
        values += [1] * yes + [0] * no
        labels += [group] * (yes + no)
    return values, labels


# --- Wilson intervals -------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, 10, 33, 250, 10_000])
@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_wilson_interval_equals_scipy_to_1e_12(n: int, level: float) -> None:
    for successes in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        if not 0 <= successes <= n:
            continue
        ours = wilson_interval(successes, n, level)
        theirs = stats.binomtest(successes, n).proportion_ci(level, method="wilson")
        assert ours.low == pytest.approx(theirs.low, abs=1e-12)
        assert ours.high == pytest.approx(theirs.high, abs=1e-12)


def test_group_intervals_are_the_wilson_intervals_of_each_group() -> None:
    values, labels = answers({"a": (12, 30), "b": (25, 25), "c": (0, 15), "d": (20, 0)})
    result = compare_groups(values, labels, reference="b")
    for group, (yes, total) in {"a": (12, 42), "b": (25, 50), "c": (0, 15), "d": (20, 20)}.items():
        scipy_ci = stats.binomtest(yes, total).proportion_ci(0.95, method="wilson")
        shown = result.group(group)
        assert shown.n == total
        assert shown.estimate == pytest.approx(yes / total)
        assert shown.ci_low == pytest.approx(scipy_ci.low, abs=1e-12)
        assert shown.ci_high == pytest.approx(scipy_ci.high, abs=1e-12)


# --- differences between proportions ----------------------------------------------------


@pytest.mark.parametrize(
    ("group", "reference", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10
        ((56, 14), (48, 32), 0.0524, 0.3339),
        ((9, 1), (3, 7), 0.1705, 0.8090),
    ],
)
def test_difference_interval_is_newcombes_hybrid_score_interval(
    group: tuple[int, int], reference: tuple[int, int], low: float, high: float
) -> None:
    values, labels = answers({"g": group, "r": reference})
    shown = compare_groups(values, labels, reference="r").group("g")
    assert shown.difference_ci_low == pytest.approx(low, abs=5e-5)
    assert shown.difference_ci_high == pytest.approx(high, abs=5e-5)


def test_difference_p_value_is_the_pooled_two_proportion_z_test() -> None:
    values, labels = answers({"g": (30, 70), "r": (45, 55)})
    shown = compare_groups(values, labels, reference="r").group("g")
    chi2 = stats.chi2_contingency([[30, 70], [45, 55]], correction=False)
    assert shown.difference == pytest.approx(-0.15)
    assert shown.p_value == pytest.approx(chi2.pvalue, rel=1e-10)


def test_identical_answers_in_both_groups_give_p_value_one() -> None:
    values, labels = answers({"g": (20, 0), "r": (30, 0)})
    shown = compare_groups(values, labels, reference="r").group("g")
    assert shown.difference == 0
    assert shown.p_value == 1.0


def test_reference_group_has_no_difference_of_its_own() -> None:
    values, labels = answers({"g": (30, 70), "r": (45, 55)})
    shown = compare_groups(values, labels, reference="r").group("r")
    assert shown.is_reference
    assert shown.difference is None
    assert shown.p_value is None
    assert shown.estimate == pytest.approx(0.45)


def test_without_a_reference_no_differences_are_computed() -> None:
    values, labels = answers({"g": (30, 70), "r": (45, 55)})
    result = compare_groups(values, labels)
    assert result.reference is None
    assert result.n_tests == 0
    assert all(g.difference is None and g.p_value is None for g in result.groups)


# --- means ------------------------------------------------------------------------------


def test_means_use_t_intervals_and_welchs_test() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(3.2, 1.0, 40).round(1)
    b = rng.normal(3.8, 1.6, 25).round(1)
    result = compare_groups(
        np.concatenate([a, b]), ["a"] * 40 + ["b"] * 25, reference="a", measure="mean"
    )
    shown = result.group("b")
    one_sample = stats.ttest_1samp(b, 0).confidence_interval(0.95)
    assert shown.estimate == pytest.approx(b.mean())
    assert shown.ci_low == pytest.approx(one_sample.low, rel=1e-10)
    assert shown.ci_high == pytest.approx(one_sample.high, rel=1e-10)
    welch = stats.ttest_ind(b, a, equal_var=False)
    welch_ci = welch.confidence_interval(0.95)
    assert shown.difference == pytest.approx(b.mean() - a.mean())
    assert shown.p_value == pytest.approx(welch.pvalue, rel=1e-10)
    assert shown.difference_ci_low == pytest.approx(welch_ci.low, rel=1e-10)
    assert shown.difference_ci_high == pytest.approx(welch_ci.high, rel=1e-10)
    assert result.interval == "t"
    assert "Welch" in result.method


def test_means_without_variation_have_no_test() -> None:
    result = compare_groups(
        [3.0] * 12 + [4.0] * 12, ["a"] * 12 + ["b"] * 12, reference="a", measure="mean"
    )
    shown = result.group("b")
    assert shown.difference == 1.0
    assert shown.p_value is None
    assert shown.note == "no variation in either group: no test"
    assert result.n_tests == 0


def test_a_single_respondent_has_a_mean_but_no_interval_when_allowed() -> None:
    result = compare_groups(
        [3.0, 2.0, 4.0, 5.0], ["a", "b", "b", "b"], reference="b", measure="mean", threshold=1
    )
    alone = result.group("a")
    assert alone.estimate == 3.0
    assert alone.ci_low is None
    assert alone.p_value is None
    assert alone.note == "one respondent: no interval or test"


# --- survey-weighted --------------------------------------------------------------------


def test_weighted_single_group_equals_weighted_mean(raked, api, design) -> None:
    y = api["api00"].astype(float)
    result = compare_groups(
        y, ["all"] * y.size, measure="mean", method="weighted", raking=raked, design=design
    )
    expected = weighted_mean(y, raked, design)
    shown = result.group("all")
    assert shown.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert shown.se == pytest.approx(expected.se, rel=1e-10)
    assert shown.ci_low == pytest.approx(expected.ci_low, rel=1e-10)
    assert shown.ci_high == pytest.approx(expected.ci_high, rel=1e-10)
    assert shown.n == 183


def test_weighted_single_group_proportion_equals_weighted_mean(raked, api, design) -> None:
    indicator = (api["api00"].astype(float) > 700).astype(float)
    result = compare_groups(
        indicator, ["all"] * indicator.size, method="weighted", raking=raked, design=design
    )
    expected = weighted_mean(indicator, raked, design)
    assert result.group("all").estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert result.group("all").se == pytest.approx(expected.se, rel=1e-10)


def test_weighted_domain_estimates_are_ratio_means_of_the_group(raked, api, design) -> None:
    y = api["api00"].astype(float)
    result = compare_groups(
        y, api["stype"], reference="E", measure="mean", method="weighted", raking=raked,
        design=design,
    )  # fmt: skip
    weights = raked.weights
    for group in ("E", "H", "M"):
        mask = api["stype"] == group
        shown = result.group(group)
        assert shown.estimate == pytest.approx(
            np.sum(weights[mask] * y[mask]) / weights[mask].sum()
        )
        assert shown.se is not None
        assert shown.se > 0
    assert result.method.startswith("survey-weighted domain estimates")


def test_weighted_domain_se_matches_the_closed_form_with_equal_weights() -> None:
    # Equal weights and one all-covering margin: the linearised domain variance is
    # n/(n-1) * sum over the group of (y - mean)^2 / n_group^2 (with-replacement formula).
    rng = np.random.default_rng(3)
    y = rng.normal(10, 2, 60)
    labels = np.array(["a"] * 25 + ["b"] * 35)
    trivial = rake(np.ones(60), [Margin("all", np.full(60, "x"), {"x": 60.0})])
    result = compare_groups(
        y, labels, reference="b", measure="mean", method="weighted", raking=trivial
    )
    variances = {}
    for group in ("a", "b"):
        part = y[labels == group]
        variances[group] = 60 / 59 * np.sum((part - part.mean()) ** 2) / part.size**2
        assert result.group(group).se == pytest.approx(math.sqrt(variances[group]), rel=1e-10)
    shown = result.group("a")
    se = math.sqrt(variances["a"] + variances["b"])
    assert shown.difference_ci_high - shown.difference == pytest.approx(1.959963985 * se)
    assert shown.p_value == pytest.approx(2 * stats.norm.sf(abs(shown.difference) / se))


def test_weighted_excludes_missing_answers_from_the_domain(raked, api, design) -> None:
    y = api["api00"].astype(float).astype(object)
    y[:5] = None
    y[5] = "Prefer not to say"
    result = compare_groups(
        y, ["all"] * 183, measure="mean", method="weighted", raking=raked, design=design
    )
    answered = np.arange(183) >= 6
    weights = raked.weights
    values = api["api00"].astype(float)
    expected = np.sum(weights[answered] * values[answered]) / weights[answered].sum()
    assert result.group("all").estimate == pytest.approx(expected)
    assert result.group("all").n == 177
    assert result.n_missing_answer == 6


def test_weighted_proportion_intervals_stay_within_zero_and_one() -> None:
    values = [1] * 58 + [0] * 2
    trivial = rake(np.ones(60), [Margin("all", np.full(60, "x"), {"x": 60.0})])
    shown = compare_groups(values, ["a"] * 60, method="weighted", raking=trivial).group("a")
    assert shown.ci_high == 1.0
    assert 0 < shown.ci_low < shown.estimate


# --- multiple testing -------------------------------------------------------------------


def test_holm_matches_a_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert adjust_p_values(p, "holm") == pytest.approx((0.03, 0.06, 0.06, 0.02))


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 0.2, 17)
    expected = stats.false_discovery_control(p, method="bh")
    assert adjust_p_values(p.tolist(), "bh") == pytest.approx(tuple(expected), rel=1e-12)


def test_no_adjustment_returns_the_p_values_and_an_empty_family_is_fine() -> None:
    assert adjust_p_values([0.2, 0.01], "none") == (0.2, 0.01)
    assert adjust_p_values([], "holm") == ()


def test_comparison_adjusts_every_shown_difference_together() -> None:
    values, labels = answers(
        {"ref": (50, 50), "a": (30, 70), "b": (40, 60), "c": (55, 45), "d": (9, 11), "tiny": (2, 2)}
    )
    result = compare_groups(values, labels, reference="ref", adjust="holm")
    tested = [g for g in result.groups if g.p_value is not None]
    # "tiny" is suppressed and "d" with it (the smallest other group): neither is tested
    assert [g.group for g in tested] == ["a", "b", "c"]
    assert result.n_tests == 3
    expected = adjust_p_values([g.p_value for g in tested], "holm")  # type: ignore[misc]
    assert tuple(g.p_adjusted for g in tested) == pytest.approx(expected)
    assert [g.significant for g in tested] == [p < 0.05 for p in expected]
    bh = compare_groups(values, labels, reference="ref", adjust="bh")
    assert [g.p_adjusted for g in bh.groups if g.p_value is not None] == pytest.approx(
        stats.false_discovery_control([g.p_value for g in tested], method="bh")
    )


# --- missing answers and suppression ----------------------------------------------------


def test_missing_answers_and_missing_groups_are_excluded_and_counted() -> None:
    values = [1, 0, None, float("nan"), "Prefer not to say", " prefer not to answer ", 1, 1]
    labels = ["a", "a", "a", "b", "b", "b", None, "prefer not to say"]
    result = compare_groups(values * 5, labels * 5, threshold=1)
    assert result.n == 10
    assert result.n_missing_answer == 20
    assert result.n_missing_group == 10
    assert result.n + result.n_missing_answer + result.n_missing_group == 40
    assert result.group("a").n == 10
    assert result.group("b").n == 0
    assert result.group("b").estimate is None


def test_custom_missing_codes_are_honoured() -> None:
    result = compare_groups([1, 0, "n/a"] * 5, ["a"] * 15, missing=("N/A",))
    assert result.n_missing_answer == 5
    assert result.group("a").n == 10


def test_small_groups_are_suppressed_with_every_figure_hidden() -> None:
    values, labels = answers({"big": (40, 60), "mid": (20, 20), "small": (5, 4)})
    result = compare_groups(values, labels, reference="big")
    small = result.group("small")
    assert small.suppressed
    assert small.suppression_reason == "fewer than 10 respondents"
    assert (small.n, small.estimate, small.ci_low, small.ci_high, small.se) == (None,) * 5
    assert (small.difference, small.p_value, small.p_adjusted, small.significant) == (None,) * 4


def test_a_lone_suppressed_group_forces_a_complementary_one() -> None:
    # Without it, small = total - big - mid.
    values, labels = answers({"big": (40, 60), "mid": (20, 20), "small": (5, 4)})
    result = compare_groups(values, labels, reference="big")
    assert result.group("mid").suppressed
    assert result.group("mid").suppression_reason.startswith("complementary")
    assert not result.group("big").suppressed
    assert result.n == 149


def test_a_group_at_the_threshold_is_shown() -> None:
    values, labels = answers({"a": (5, 5), "b": (6, 4), "c": (30, 30)})
    result = compare_groups(values, labels, threshold=10)
    assert not any(g.suppressed for g in result.groups)
    stricter = compare_groups(values, labels, threshold=11)
    assert stricter.group("a").suppressed
    assert stricter.group("b").suppressed


def test_a_group_nobody_answered_is_listed_with_zero_and_not_hidden() -> None:
    values, labels = answers({"a": (20, 20), "b": (15, 15)})
    result = compare_groups(values, labels, categories=["a", "b", "c"], reference="a")
    empty = result.group("c")
    assert empty.n == 0
    assert not empty.suppressed
    assert empty.estimate is None
    assert empty.note == "no respondent in it answered"


def test_a_suppressed_reference_hides_every_difference() -> None:
    values, labels = answers({"ref": (3, 2), "a": (30, 30), "b": (20, 25), "c": (40, 10)})
    result = compare_groups(values, labels, reference="ref")
    assert result.group("ref").suppressed
    shown = [g for g in result.groups if not g.suppressed]
    assert shown
    assert all(g.difference is None for g in shown)
    assert all(
        g.note == "the reference group is suppressed: no differences are shown" for g in shown
    )


def test_groups_hidden_by_cross_table_protection_are_suppressed_with_a_partner() -> None:
    values, labels = answers({"a": (30, 30), "b": (20, 25), "c": (40, 10)})
    result = compare_groups(values, labels, suppress=["b"])
    assert result.group("b").suppression_reason == (
        "suppressed by the caller (protection across tables)"
    )
    assert result.group("c").suppressed  # the smallest other group, else b = total - a - c
    assert not result.group("a").suppressed


def test_the_reference_is_hidden_as_a_partner_only_when_nothing_else_will_do() -> None:
    values, labels = answers({"ref": (10, 10), "a": (30, 30), "tiny": (2, 2)})
    result = compare_groups(values, labels, reference="ref")
    assert result.group("a").suppressed
    assert not result.group("ref").suppressed
    values, labels = answers({"ref": (10, 10), "tiny": (2, 2)})
    alone = compare_groups(values, labels, reference="ref")
    assert alone.group("ref").suppressed


def test_a_reference_nobody_answered_gives_no_differences() -> None:
    values, labels = answers({"a": (20, 20), "b": (15, 15)})
    result = compare_groups(values, labels, categories=["a", "b", "ref"], reference="ref")
    assert result.group("ref").n == 0
    assert result.group("a").difference is None
    assert result.group("a").note == "the reference group has no answers: no differences"


def test_groups_follow_the_categories_order() -> None:
    values, labels = answers({"x": (10, 10), "y": (10, 10)})
    result = compare_groups(values, labels, categories=["y", "x"])
    assert [g.group for g in result.groups] == ["y", "x"]
    with pytest.raises(KeyError, match="no group 'z'"):
        result.group("z")


# --- relative difference (the headline) -------------------------------------------------


def test_relative_difference_is_katz_relative_risk_interval() -> None:
    values, labels = answers({"Black": (30, 70), "White": (60, 40)})
    headline = relative_difference(values, labels, group="Black", reference="White")
    expected = relative_risk(30, 100, 60, 100).confidence_interval(0.95)
    assert headline.ratio == pytest.approx(0.5)
    assert headline.relative_difference == pytest.approx(-0.5)
    assert headline.ratio_ci_low == pytest.approx(expected.low, rel=1e-12)
    assert headline.ratio_ci_high == pytest.approx(expected.high, rel=1e-12)
    assert headline.ci_low == pytest.approx(expected.low - 1, rel=1e-12)
    assert headline.describe(
        "likely to feel safe", group_label="Black residents", reference_label="white residents"
    ) == (
        "Black residents: 50% less likely to feel safe than white residents "
        "(95% CI: between 30% and 64% less)"
    )


def test_relative_difference_describes_an_interval_across_zero_and_an_increase() -> None:
    values, labels = answers({"a": (12, 18), "b": (10, 20)})
    crossing = relative_difference(values, labels, group="a", reference="b")
    assert crossing.describe("satisfied").startswith("a: 20% more satisfied than b (95% CI: from")
    values, labels = answers({"a": (60, 40), "b": (30, 70)})
    higher = relative_difference(values, labels, group="a", reference="b")
    assert "between" in higher.describe("satisfied")
    assert higher.describe("satisfied").startswith("a: 100% more satisfied than b")


def test_relative_difference_of_means_uses_the_log_delta_method() -> None:
    a = np.array([2.0, 3, 4, 3, 2, 3, 4, 5, 3, 2, 3, 4])
    b = np.array([4.0, 5, 4, 3, 5, 4, 4, 5, 4, 3, 5, 4])
    values = np.concatenate([a, b])
    labels = ["a"] * 12 + ["b"] * 12
    headline = relative_difference(values, labels, group="a", reference="b", measure="mean")
    se = math.sqrt(a.var(ddof=1) / (12 * a.mean() ** 2) + b.var(ddof=1) / (12 * b.mean() ** 2))
    ratio = a.mean() / b.mean()
    assert headline.ratio == pytest.approx(ratio)
    assert headline.ratio_ci_low == pytest.approx(ratio * math.exp(-1.959963985 * se))


def test_weighted_relative_difference_is_close_to_katz_with_equal_weights() -> None:
    values, labels = answers({"g": (120, 280), "r": (240, 160)})
    trivial = rake(np.ones(800), [Margin("all", np.full(800, "x"), {"x": 800.0})])
    weighted = relative_difference(
        values, labels, group="g", reference="r", method="weighted", raking=trivial
    )
    katz = relative_risk(120, 400, 240, 400).confidence_interval(0.95)
    assert weighted.ratio == pytest.approx(0.5)
    assert weighted.ratio_ci_low == pytest.approx(katz.low, rel=2e-3)
    assert weighted.ratio_ci_high == pytest.approx(katz.high, rel=2e-3)


def test_relative_difference_is_hidden_when_a_group_is_suppressed() -> None:
    values, labels = answers({"a": (3, 3), "b": (30, 30), "c": (20, 20)})
    headline = relative_difference(values, labels, group="a", reference="b")
    assert headline.suppressed
    assert headline.ratio is None
    assert headline.describe("safe") is None
    assert headline.reason == "'a' is suppressed in the comparison table"


def test_relative_difference_with_no_yes_answers_has_a_ratio_but_no_interval() -> None:
    values, labels = answers({"a": (0, 20), "b": (10, 10)})
    headline = relative_difference(values, labels, group="a", reference="b")
    assert headline.ratio == 0.0
    assert headline.ci_low is None
    assert "undefined" in (headline.reason or "")
    zero_ref = relative_difference(values, labels, group="b", reference="a")
    assert zero_ref.ratio is None
    assert zero_ref.reason == "the reference estimate is not positive: no ratio"


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1, 0], "groups": ["a"]}, "groups has 1 labels for 2 values"),
        ({"values": [], "groups": []}, "values: no respondents"),
        ({"values": [None, None], "groups": ["a", "b"]}, "values: every answer is missing"),
        ({"values": [1, 0], "groups": [None, ""]}, "groups: no respondent has a group"),
        ({"values": [1, 2], "groups": ["a", "a"]}, r"values\[1\]: 2; a proportion needs 0/1"),
        ({"values": [1, "yes"], "groups": ["a", "a"]}, r"values\[1\]: 'yes' is not a number"),
        ({"values": [1, float("inf")], "groups": ["a", "a"]}, r"values\[1\]: inf is not finite"),
        ({"values": [[1, 0]], "groups": ["a"]}, "values must be one-dimensional"),
        ({"reference": "zz"}, r"reference 'zz' is not one of the groups \['a', 'b'\]"),
        ({"threshold": 0}, "threshold must be at least 1, got 0"),
        ({"threshold": 2.5}, "threshold must be a whole number"),
        ({"level": float("nan")}, "level must be between 0 and 1"),
        ({"level": 95}, "level must be between 0 and 1"),
        ({"alpha": 0}, "alpha must be between 0 and 1"),
        ({"measure": "median"}, r"measure must be one of \('proportion', 'mean'\)"),
        ({"method": "bootstrap"}, "method must be one of"),
        ({"adjust": "bonferroni"}, r"adjust must be one of \('holm', 'bh', 'none'\)"),
        ({"method": "t"}, "method 't' is for means"),
        ({"measure": "mean", "method": "wilson"}, "method 'wilson' is for proportions"),
        ({"method": "weighted"}, "method 'weighted' needs raking="),
        ({"categories": ["a"]}, r"groups \['b'\] are not in categories \['a'\]"),
        ({"categories": ["a", "b", "a"]}, "categories has repeated groups"),
        ({"suppress": ["zz"]}, r"suppress: \['zz'\] are not groups"),
        ({"suppress": "a"}, "suppress: expected a collection of group labels"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_argument(kwargs, message) -> None:
    arguments = {"values": [1, 0, 1, 0], "groups": ["a", "a", "b", "b"], **kwargs}
    with pytest.raises(ValueError, match=message):
        compare_groups(arguments.pop("values"), arguments.pop("groups"), **arguments)


def test_raking_of_the_wrong_length_or_without_weighted_method_is_refused(raked) -> None:
    with pytest.raises(ValueError, match="raking has 183 weights for 4 values"):
        compare_groups([1, 0, 1, 0], ["a"] * 4, method="weighted", raking=raked)
    with pytest.raises(ValueError, match="pass method='weighted' to use weights"):
        compare_groups([1, 0] * 91 + [1], ["a"] * 183, raking=raked)
    with pytest.raises(ValueError, match="design= only applies to method='weighted'"):
        compare_groups([1, 0], ["a", "a"], design=SurveyDesign())


def test_relative_difference_refuses_unknown_or_identical_groups() -> None:
    values, labels = answers({"a": (10, 10), "b": (10, 10)})
    with pytest.raises(ValueError, match="group and reference are both 'a'"):
        relative_difference(values, labels, group="a", reference="a")
    with pytest.raises(ValueError, match=r"group 'c' is not one of the groups \['a', 'b'\]"):
        relative_difference(values, labels, group="c", reference="a")
    with pytest.raises(ValueError, match="reference 'c' is not one of the groups"):
        relative_difference(values, labels, group="a", reference="c")


@pytest.mark.parametrize(
    ("successes", "n", "level", "message"),
    [
        (1, 0, 0.95, "n must be at least 1"),
        (5, 4, 0.95, "successes must be between 0 and n=4"),
        (-1, 4, 0.95, "successes must be between 0 and n=4"),
        (1, 4, 1.0, "level must be between 0 and 1"),
        (True, 4, 0.95, "must be counts, not booleans"),
    ],
)
def test_wilson_interval_refuses_impossible_counts(successes, n, level, message) -> None:
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n, level)


@pytest.mark.parametrize(
    ("p_values", "message"),
    [([0.1, 1.2], "p_values must lie between 0 and 1"), ([0.1, float("nan")], "between 0 and 1")],
)
def test_adjust_p_values_refuses_values_that_are_not_probabilities(p_values, message) -> None:
    with pytest.raises(ValueError, match=message):
        adjust_p_values(p_values)
    with pytest.raises(ValueError, match="adjust must be one of"):
        adjust_p_values([0.1], "sidak")  # type: ignore[arg-type]


def test_comparison_results_are_frozen() -> None:
    values, labels = answers({"a": (10, 10), "b": (10, 10)})
    result = compare_groups(values, labels, reference="a")
    with pytest.raises(AttributeError):
        result.n = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.groups[0].estimate = 0.9  # type: ignore[misc]


def test_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(comparison, raise_on_error=False)
    assert tried > 0
    assert failures == 0
