from __future__ import annotations

import csv
import doctest
from pathlib import Path

import numpy as np
import pytest

from csas.analysis.insight import weighting
from csas.analysis.insight.weighting import (
    Margin,
    SurveyDesign,
    rake,
    weighted_mean,
    weighted_total,
)

FIXTURE = Path(__file__).parent / "fixtures" / "apiclus1.csv"


@pytest.fixture(scope="module")
def api() -> dict[str, np.ndarray]:
    with FIXTURE.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="module")
def raked(api: dict[str, np.ndarray]) -> weighting.RakingResult:
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


def test_raking_reproduces_r_survey_mean_and_linearised_se(raked, api, design) -> None:
    estimate = weighted_mean(api["api00"].astype(float), raked, design)
    assert estimate.estimate == pytest.approx(641.23, abs=0.005)
    assert estimate.se == pytest.approx(23.704, abs=0.0005)


def test_raking_reproduces_r_survey_total_and_linearised_se(raked, api, design) -> None:
    estimate = weighted_total(api["enroll"].astype(float), raked, design)
    assert estimate.estimate == pytest.approx(3_647_280, abs=0.5)
    assert estimate.se == pytest.approx(400_603, abs=0.5)


def test_without_raking_the_design_se_matches_r_survey(api, design) -> None:
    # svytotal(~enroll, dclus1): 3,404,940 (SE 932,235); svymean(~api00): 644.17 (SE 23.542)
    trivial = rake(api["pw"].astype(float), [Margin("all", np.full(183, "x"), {"x": 6194.0})])
    # one all-covering margin only rescales the weights, like the unraked design
    scale = 6194.0 / api["pw"].astype(float).sum()
    total = weighted_total(api["enroll"].astype(float), trivial, design)
    assert total.estimate / scale == pytest.approx(3_404_940, abs=1)
    mean = weighted_mean(api["api00"].astype(float), trivial, design)
    assert mean.estimate == pytest.approx(644.17, abs=0.005)
    assert mean.se == pytest.approx(23.542, abs=0.0005)


def test_raked_weights_meet_every_margin_and_report_convergence(raked, api) -> None:
    assert raked.converged
    assert raked.max_relative_error <= 1e-10
    assert raked.history[-1] == raked.max_relative_error
    assert raked.iterations == len(raked.history) < 100
    for label, target in {"E": 4421, "H": 755, "M": 1018}.items():
        assert raked.weights[api["stype"] == label].sum() == pytest.approx(target, rel=1e-9)
    assert raked.design_effect >= 1.0
    assert raked.effective_sample_size == pytest.approx(raked.n / raked.design_effect)


def test_confidence_interval_is_symmetric_around_the_estimate(raked, api, design) -> None:
    estimate = weighted_mean(api["api00"].astype(float), raked, design, level=0.95)
    assert estimate.ci_high - estimate.estimate == pytest.approx(1.959964 * estimate.se)
    assert estimate.estimate - estimate.ci_low == pytest.approx(1.959964 * estimate.se)
    assert estimate.n == 183


def test_trimming_bounds_every_weight_and_says_whether_margins_were_met() -> None:
    rng = np.random.default_rng(7)
    group = np.where(rng.random(200) < 0.05, "rare", "common")
    result = rake(np.ones(200), [Margin("g", group, {"rare": 500, "common": 500})], trim=(0.3, 3))
    mean = result.weights.mean()
    assert result.weights.max() <= 3 * mean + 1e-9
    assert result.weights.min() >= 0.3 * mean - 1e-9
    assert result.n_trimmed > 0
    assert not result.converged
    assert result.max_relative_error > 0.1
    untrimmed = rake(np.ones(200), [Margin("g", group, {"rare": 500, "common": 500})])
    assert untrimmed.design_effect > result.design_effect


def test_margin_from_shares_scales_to_the_population_total() -> None:
    margin = Margin.from_shares("age", np.array(["a", "b"]), {"a": 0.25, "b": 0.75}, 1000)
    assert margin.targets == {"a": 250, "b": 750}
    with pytest.raises(ValueError, match=r"shares sum to 0\.900000, expected 1"):
        Margin.from_shares("age", np.array(["a"]), {"a": 0.9}, 1000)


def test_a_category_without_a_target_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"margin 'race': categories \['other'\] occur in the data"
    ):
        rake(np.ones(3), [Margin("race", np.array(["a", "b", "other"]), {"a": 1, "b": 2})])


def test_a_target_category_nobody_answered_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no respondent in categories \['c'\]"):
        rake(np.ones(2), [Margin("race", np.array(["a", "b"]), {"a": 1, "b": 1, "c": 1})])


def test_margins_with_different_population_totals_are_refused() -> None:
    labels = np.array(["a", "b"])
    with pytest.raises(ValueError, match="margins disagree on the population total: x=2, y=3"):
        rake(
            np.ones(2),
            [Margin("x", labels, {"a": 1, "b": 1}), Margin("y", labels, {"a": 1, "b": 2})],
        )


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.array([]), "no respondents"),
        (np.array([1.0, -1.0]), "finite and positive"),
        (np.array([1.0, np.nan]), "finite and positive"),
    ],
)
def test_bad_base_weights_are_refused(weights: np.ndarray, message: str) -> None:
    labels = np.array(["a", "b"])[: weights.size]
    with pytest.raises(ValueError, match=message):
        rake(weights, [Margin("x", labels, {"a": 1, "b": 1})])


def test_labels_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="margin 'x': 1 labels for 2 respondents"):
        rake(np.ones(2), [Margin("x", np.array(["a"]), {"a": 1})])


def test_a_stratum_with_one_cluster_is_refused_for_variance(raked, api) -> None:
    strata = np.where(np.arange(183) < 182, "big", "lonely")
    with pytest.raises(ValueError, match="stratum 'lonely' has a single primary sampling unit"):
        weighted_mean(api["api00"].astype(float), raked, SurveyDesign(strata=strata))


def test_missing_answers_must_be_handled_before_estimating(raked) -> None:
    values = np.ones(183)
    values[3] = np.nan
    with pytest.raises(ValueError, match="values must be finite"):
        weighted_mean(values, raked)


def test_docstring_examples_run() -> None:
    failures, _ = doctest.testmod(weighting, raise_on_error=False)
    assert failures == 0
