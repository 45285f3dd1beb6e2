"""Priorities from rankings and top-N picks: hand-computed cases, weights, and bad input."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from csas.analysis.insight import priorities
from csas.analysis.insight.priorities import rank_priorities, top_picks, wilson_interval

# Four respondents, three options; the fourth ranks only C.
RANKINGS = [["A", "B", "C"], ["A", "C", "B"], ["B", "A", "C"], ["C"]]


@pytest.fixture(scope="module")
def small() -> priorities.RankingPriorities:
    return rank_priorities(RANKINGS, top_n=2, seed=0, n_bootstrap=500)


def test_mean_rank_puts_unranked_options_tied_after_the_ranked_ones(small) -> None:
    # respondent 4 ranked 1 of 3: A and B share places 2 and 3, so 2.5 each
    assert small.option("A").mean_rank == pytest.approx((1 + 1 + 2 + 2.5) / 4)
    assert small.option("B").mean_rank == pytest.approx((2 + 3 + 1 + 2.5) / 4)
    assert small.option("C").mean_rank == pytest.approx((3 + 2 + 3 + 1) / 4)


def test_borda_gives_k_minus_place_and_half_the_rest_to_unranked_options(small) -> None:
    assert small.option("A").borda == pytest.approx(2 + 2 + 1 + 0.5)
    assert small.option("B").borda == pytest.approx(1 + 0 + 2 + 0.5)
    assert small.option("C").borda == pytest.approx(0 + 1 + 0 + 2)
    # every respondent hands out 0 + 1 + 2 points
    assert sum(o.borda for o in small.options) == pytest.approx(4 * 3)
    assert small.option("A").borda_mean == pytest.approx(5.5 / 4)


def test_options_are_listed_by_borda_score(small) -> None:
    assert [o.option for o in small.options] == ["A", "B", "C"]
    assert small.option_names == ("A", "B", "C")


def test_first_and_top_n_shares_count_explicit_places(small) -> None:
    assert [small.option(x).first_share for x in "ABC"] == [0.5, 0.25, 0.25]
    assert [small.option(x).top_n_share for x in "ABC"] == [0.75, 0.5, 0.5]
    assert small.option("A").n_ranked == 3
    assert small.option("C").n_ranked == 4


def test_shares_carry_wilson_intervals(small) -> None:
    assert small.option("A").first_share_ci == pytest.approx(wilson_interval(0.5, 4))
    low, high = small.option("A").top_n_share_ci
    assert low < 0.75 < high


def test_wilson_interval_matches_published_values() -> None:
    assert wilson_interval(0.5, 10) == pytest.approx((0.2366, 0.7634), abs=5e-5)
    assert wilson_interval(0.0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson_interval(1.0, 10) == pytest.approx((0.7225, 1.0), abs=5e-5)
    # z = 1.959964, p = 0.5, n = 4: centre 0.5, half-width 0.34996
    assert wilson_interval(0.5, 4) == pytest.approx((0.15004, 0.84996), abs=5e-5)
    assert all(math.isnan(x) for x in wilson_interval(0.5, 0))


def test_pairwise_shares_use_only_respondents_who_ranked_both(small) -> None:
    a, b, c = (small.option_names.index(x) for x in "ABC")
    assert small.pairwise[a, b] == pytest.approx(2 / 3)
    assert small.pairwise[b, a] == pytest.approx(1 / 3)
    assert small.pairwise[a, c] == pytest.approx(1.0)
    assert small.pairwise[b, c] == pytest.approx(2 / 3)
    assert small.pairwise_n[a, b] == 3
    assert small.pairwise_n[b, c] == 3
    assert np.isnan(np.diag(small.pairwise)).all()


def test_condorcet_winner_and_copeland_scores(small) -> None:
    assert small.condorcet_winner == "A"
    assert [small.option(x).copeland for x in "ABC"] == [2.0, 1.0, 0.0]


def test_a_condorcet_cycle_has_no_winner() -> None:
    cycle = [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]]
    result = rank_priorities(cycle, top_n=1, n_bootstrap=100)
    assert result.condorcet_winner is None
    assert [o.copeland for o in result.options] == [1.0, 1.0, 1.0]
    assert [o.borda for o in result.options] == [3.0, 3.0, 3.0]


def test_ranked_only_averages_over_those_who_ranked_and_gives_no_points_otherwise() -> None:
    result = rank_priorities(RANKINGS, top_n=2, partial="ranked_only", n_bootstrap=200)
    assert result.option("A").mean_rank == pytest.approx((1 + 1 + 2) / 3)
    assert result.option("B").mean_rank == pytest.approx((2 + 3 + 1) / 3)
    assert result.option("A").borda == pytest.approx(2 + 2 + 1)
    assert result.option("B").borda == pytest.approx(1 + 0 + 2)
    assert result.option("C").borda == pytest.approx(3)
    assert result.partial == "ranked_only"


def test_an_option_nobody_ranked_still_appears_when_listed() -> None:
    result = rank_priorities(RANKINGS, options=["A", "B", "C", "D"], top_n=2, n_bootstrap=200)
    d = result.option("D")
    assert d.n_ranked == 0
    assert d.first_share == 0.0
    # K = 4: D shares the places left after each respondent's ranked ones, (m + 1 + 4) / 2
    assert d.mean_rank == pytest.approx((4 + 4 + 4 + 3) / 4)
    assert result.condorcet_winner is None  # nobody ranked D against anything
    only = rank_priorities(
        RANKINGS, options=["A", "B", "C", "D"], partial="ranked_only", n_bootstrap=200
    )
    assert math.isnan(only.option("D").mean_rank)
    assert all(math.isnan(x) for x in only.option("D").mean_rank_ci)


def test_empty_rankings_are_left_out_and_counted() -> None:
    result = rank_priorities([*RANKINGS, [], []], top_n=2, n_bootstrap=200)
    assert result.n_respondents == 4
    assert result.n_empty == 2
    assert result.option("A").first_share == 0.5


# ---- weights ------------------------------------------------------------------------------


def test_weights_make_every_figure_weighted() -> None:
    result = rank_priorities(RANKINGS, weights=[2, 1, 1, 1], top_n=2, n_bootstrap=200)
    a = result.option("A")
    assert a.first_share == pytest.approx(3 / 5)
    assert a.mean_rank == pytest.approx((2 * 1 + 1 + 2 + 2.5) / 5)
    assert a.borda == pytest.approx(2 * 2 + 2 + 1 + 0.5)
    assert a.borda_mean == pytest.approx(7.5 / 5)
    names = result.option_names
    assert result.pairwise[names.index("A"), names.index("B")] == pytest.approx(3 / 4)
    assert result.weighted
    assert result.effective_n == pytest.approx(25 / 7)
    assert a.first_share_ci == pytest.approx(wilson_interval(0.6, 25 / 7))


def test_equal_weights_change_nothing(small) -> None:
    scaled = rank_priorities(RANKINGS, weights=[3, 3, 3, 3], top_n=2, seed=0, n_bootstrap=500)
    for option in "ABC":
        left, right = small.option(option), scaled.option(option)
        assert right.mean_rank == pytest.approx(left.mean_rank)
        assert right.borda_mean == pytest.approx(left.borda_mean)
        assert right.first_share_ci == pytest.approx(left.first_share_ci)
        assert right.mean_rank_ci == pytest.approx(left.mean_rank_ci)
    assert scaled.effective_n == pytest.approx(4)


def test_a_zero_weight_respondent_does_not_count() -> None:
    result = rank_priorities(RANKINGS, weights=[1, 1, 1, 0], top_n=2, n_bootstrap=200)
    assert result.option("C").first_share == 0.0
    assert result.option("A").first_share == pytest.approx(2 / 3)


# ---- bootstrap intervals ------------------------------------------------------------------


def survey(n: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    options = ["lighting", "youth", "parks", "housing", "transit"]
    preference = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    rankings = []
    for _ in range(n):
        order = np.argsort(-(preference + rng.gumbel(size=5) * 2))
        rankings.append([options[j] for j in order[: rng.integers(1, 6)]])
    return rankings


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible() -> None:
    rankings = survey(200, seed=7)
    first = rank_priorities(rankings, seed=11, n_bootstrap=1000)
    again = rank_priorities(rankings, seed=11, n_bootstrap=1000)
    for option in first.options:
        low, high = option.mean_rank_ci
        assert low <= option.mean_rank <= high
        low, high = option.borda_mean_ci
        assert low <= option.borda_mean <= high
        assert again.option(option.option) == option
    assert first.options[0].option == "lighting"
    assert first.condorcet_winner == "lighting"


def test_bootstrap_intervals_narrow_as_respondents_grow() -> None:
    small_width = np.diff(
        rank_priorities(survey(50, 1), n_bootstrap=500).option("parks").mean_rank_ci
    )
    large_width = np.diff(
        rank_priorities(survey(800, 1), n_bootstrap=500).option("parks").mean_rank_ci
    )
    assert large_width[0] < small_width[0] / 2


def test_unanimous_rankings_have_degenerate_intervals() -> None:
    result = rank_priorities([["A", "B"]] * 10, top_n=1, n_bootstrap=200)
    assert result.option("A").mean_rank_ci == (1.0, 1.0)
    assert result.option("A").borda_mean_ci == (1.0, 1.0)


def test_method_text_names_the_rules() -> None:
    method = rank_priorities(RANKINGS, weights=[2, 1, 1, 1], n_bootstrap=100, seed=5).method
    assert "tied last" in method
    assert "seed 5" in method
    assert "weighted" in method


# ---- top-N picks --------------------------------------------------------------------------


def test_top_picks_give_the_share_picking_each_option() -> None:
    picks = [{"A", "B"}, {"A"}, {"B", "C"}, set()]
    result = top_picks(picks, max_picks=2)
    assert [(o.option, o.n_picked) for o in result.options] == [("A", 2), ("B", 2), ("C", 1)]
    assert result.option("A").share == pytest.approx(2 / 3)
    assert result.option("C").share_ci == pytest.approx(wilson_interval(1 / 3, 3))
    assert result.n_empty == 1
    assert result.mean_picks == pytest.approx(5 / 3)


def test_top_picks_with_weights() -> None:
    picks = [["A", "B"], ["A"], ["B", "C"]]
    result = top_picks(picks, weights=[1.0, 3.0, 1.0], options=["A", "B", "C", "D"])
    assert result.option("A").share == pytest.approx(4 / 5)
    assert result.option("B").share == pytest.approx(2 / 5)
    assert result.option("D").share == 0.0
    assert result.effective_n == pytest.approx(25 / 11)
    assert result.option_names == ("A", "B", "C", "D")


def test_top_picks_order_does_not_depend_on_set_iteration() -> None:
    result = top_picks([{"zeta", "alpha", "mu"}, {"mu"}])
    assert result.option_names == ("alpha", "mu", "zeta")
    assert [o.option for o in result.options] == ["mu", "alpha", "zeta"]


# ---- bad input ----------------------------------------------------------------------------


def test_an_option_ranked_twice_is_rejected_with_the_respondent() -> None:
    with pytest.raises(ValueError, match=r"rankings\[1\] has 'A' more than once"):
        rank_priorities([["A", "B"], ["A", "A"]])


def test_an_unknown_option_is_rejected_when_options_are_given() -> None:
    with pytest.raises(ValueError, match=r"rankings\[0\] has 'Z', which is not an option"):
        rank_priorities([["Z", "A"]], options=["A", "B"])


def test_a_ranking_given_as_a_string_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"rankings\[1\] is 'BA'"):
        rank_priorities([["A", "B"], "BA"])  # type: ignore[list-item]


def test_a_ranking_given_as_a_set_is_rejected_because_it_has_no_order() -> None:
    with pytest.raises(ValueError, match=r"rankings\[0\] is a set, which has no order"):
        rank_priorities([{"A", "B"}])  # type: ignore[list-item]


def test_non_string_option_values_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"rankings\[0\] holds 3 \(int\)"):
        rank_priorities([[3, 4]])  # type: ignore[list-item]


def test_weights_of_the_wrong_length_are_rejected() -> None:
    with pytest.raises(ValueError, match="weights has 2 entries for 4 answers"):
        rank_priorities(RANKINGS, weights=[1, 2])


def test_a_negative_or_missing_weight_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"weights\[2\] is -1.0"):
        rank_priorities(RANKINGS, weights=[1, 1, -1, 1])
    with pytest.raises(ValueError, match=r"weights\[0\] is nan"):
        top_picks([["A"]], weights=[float("nan")])


def test_all_zero_weights_are_rejected() -> None:
    with pytest.raises(ValueError, match="weight 0"):
        rank_priorities(RANKINGS, weights=[0, 0, 0, 0])


def test_no_rankings_at_all_are_rejected() -> None:
    with pytest.raises(ValueError, match="no respondent ranked anything"):
        rank_priorities([[], []], options=["A", "B"], top_n=1)


def test_a_single_option_cannot_be_ranked() -> None:
    with pytest.raises(ValueError, match="at least 2 options"):
        rank_priorities([["A"], ["A"]])


def test_top_n_beyond_the_number_of_options_is_rejected() -> None:
    with pytest.raises(ValueError, match="top_n is 4 but there are only 3 options"):
        rank_priorities(RANKINGS, top_n=4)


def test_an_unknown_partial_rule_is_rejected() -> None:
    with pytest.raises(ValueError, match="partial must be one of"):
        rank_priorities(RANKINGS, partial="drop")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [("top_n", 0), ("n_bootstrap", 0), ("level", 1.0), ("level", 0), ("seed", 1.5)],
)
def test_bad_options_are_rejected(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        rank_priorities(RANKINGS, **{option: value})  # type: ignore[arg-type]


def test_options_listed_twice_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"options lists \['A'\] more than once"):
        rank_priorities(RANKINGS, options=["A", "A", "B", "C"])


def test_too_many_picks_are_rejected_with_the_respondent() -> None:
    with pytest.raises(ValueError, match=r"picks\[1\] has 3 options; at most 2 allowed"):
        top_picks([["A"], ["A", "B", "C"]], max_picks=2)


def test_picks_with_nothing_picked_are_rejected() -> None:
    with pytest.raises(ValueError, match="no respondent picked anything"):
        top_picks([set(), []])


def test_docstring_examples_run() -> None:
    failures, tests = doctest.testmod(priorities)
    assert tests > 0
    assert failures == 0
