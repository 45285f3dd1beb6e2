"""Priorities: what residents put first, from ranking questions and "pick your top N" questions.

:func:`rank_priorities` aggregates ranking answers: each respondent's options in order of
preference, best first, possibly partial (a respondent may rank only some options). For every
option it gives

* ``mean_rank`` (1 = first) with a seeded bootstrap interval;
* the Borda score: an option ranked r-th of K gets K - r points (first K - 1, last 0);
  ``borda`` is the (weighted) total and ``borda_mean`` the mean per respondent, with a
  bootstrap interval;
* ``first_share``, the share who ranked it first, and ``top_n_share``, the share who ranked
  it among their first ``top_n``, each with a Wilson interval;
* its Copeland score from the pairwise preference matrix.

**Partial rankings** follow ``partial``:

``"tied_last"`` (default)
    Options a respondent left out come after every option they ranked, tied with each other:
    each gets the mean of the remaining places, (m + 1 + K) / 2 when m of K options were
    ranked, and the mean of the remaining Borda points, (K - m - 1) / 2. Every respondent
    counts for every option, and each respondent hands out the same Borda total.
``"ranked_only"``
    ``mean_rank`` is over the respondents who ranked the option; an option left out gets
    0 Borda points.

Either way ``first_share`` and ``top_n_share`` count only explicit places, and the pairwise
matrix uses only respondents who ranked both options: ``pairwise[a, b]`` is the (weighted)
share preferring option a to option b among them (NaN on the diagonal and where nobody ranked
both). The **Condorcet winner** is the option preferred to every other by more than half; there
may be none. **Copeland** = pairwise wins + half the ties.

**Weights** (say from raking, see :mod:`csas.analysis.insight.weighting`) make every statistic
a weighted one. The Wilson intervals then use Kish's effective sample size,
n_eff = (sum w)^2 / sum w^2, in place of n: an approximation that widens the interval by the
design effect of unequal weights. **Bootstrap** intervals resample respondents with
replacement (keeping their weights) ``n_bootstrap`` times with ``seed`` and take percentiles.

:func:`top_picks` aggregates "choose up to N" answers (unordered sets): each option's share
of respondents who picked it, with a Wilson interval.

Empty answers (nothing ranked or picked) count as no answer: they are left out and counted in
``n_empty``.

Example: four respondents rank three options; the last one ranks only C.

>>> result = rank_priorities(
...     [["A", "B", "C"], ["A", "C", "B"], ["B", "A", "C"], ["C"]], top_n=2, seed=1
... )
>>> [(o.option, o.mean_rank, o.borda) for o in result.options]
[('A', 1.625, 5.5), ('B', 2.125, 3.5), ('C', 2.25, 3.0)]
>>> result.option("A").first_share, result.option("A").top_n_share
(0.5, 0.75)
>>> result.condorcet_winner
'A'
>>> picks = top_picks([{"parks", "lighting"}, {"lighting"}, {"youth"}, set()])
>>> [(o.option, round(o.share, 3)) for o in picks.options], picks.n_empty
([('lighting', 0.667), ('parks', 0.333), ('youth', 0.333)], 1)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PartialRule = Literal["tied_last", "ranked_only"]

#: Bootstrap replicates are drawn in blocks of this many, to bound memory.
_BOOTSTRAP_BLOCK = 250


@dataclass(frozen=True)
class OptionPriority:
    """Aggregate standing of one option in a ranking question.

    Fields:
        option: the option's value.
        n_ranked: respondents who ranked it explicitly.
        mean_rank: mean place (1 = first) under the partial-ranking rule; NaN under
            "ranked_only" when nobody ranked it.
        mean_rank_ci: bootstrap percentile interval of ``mean_rank``.
        borda: total Borda points (weighted when weights are given).
        borda_mean: Borda points per respondent (``borda`` / total weight).
        borda_mean_ci: bootstrap percentile interval of ``borda_mean``.
        first_share: (weighted) share of respondents who ranked it first.
        first_share_ci: Wilson interval of ``first_share``.
        top_n_share: (weighted) share who ranked it among their first ``top_n``.
        top_n_share_ci: Wilson interval of ``top_n_share``.
        copeland: pairwise wins against the other options plus half the ties.
    """

    option: str
    n_ranked: int
    mean_rank: float
    mean_rank_ci: tuple[float, float]
    borda: float
    borda_mean: float
    borda_mean_ci: tuple[float, float]
    first_share: float
    first_share_ci: tuple[float, float]
    top_n_share: float
    top_n_share_ci: tuple[float, float]
    copeland: float


@dataclass(frozen=True)
class RankingPriorities:
    """A ranking question aggregated over respondents.

    Fields:
        options: every option's standing, highest Borda score first (ties: lower mean rank,
            then the order of ``option_names``).
        option_names: the options in the order given (sorted when ``options`` is None):
            the row and column order of ``pairwise``.
        pairwise: K x K; [a, b] = (weighted) share preferring a to b among respondents who
            ranked both; NaN on the diagonal and where nobody ranked both.
        pairwise_n: K x K; respondents who ranked both.
        condorcet_winner: the option preferred to every other by more than half, or None.
        n_respondents: respondents with a non-empty ranking.
        n_empty: empty rankings (no answer), left out.
        top_n: the N of ``top_n_share``.
        partial: the partial-ranking rule used.
        weighted: whether weights were given.
        effective_n: Kish's effective sample size (n_respondents when unweighted).
        level: the confidence level of every interval.
        n_bootstrap, seed: the bootstrap's replicates and seed.
        method: how the figures were computed, in words.
    """

    options: tuple[OptionPriority, ...]
    option_names: tuple[str, ...]
    pairwise: FloatArray
    pairwise_n: IntArray
    condorcet_winner: str | None
    n_respondents: int
    n_empty: int
    top_n: int
    partial: PartialRule
    weighted: bool
    effective_n: float
    level: float
    n_bootstrap: int
    seed: int
    method: str

    def option(self, name: str) -> OptionPriority:
        """The standing of one option, by value."""
        for option in self.options:
            if option.option == name:
                return option
        raise KeyError(f"no option {name!r}; options are {list(self.option_names)}")


@dataclass(frozen=True)
class OptionPicks:
    """How often one option was picked. Fields: option; n_picked (respondents);
    share (weighted share of respondents who picked it); share_ci (Wilson interval)."""

    option: str
    n_picked: int
    share: float
    share_ci: tuple[float, float]


@dataclass(frozen=True)
class TopPicks:
    """A "pick up to N" question aggregated over respondents.

    Fields: options (most picked first; ties in the order of ``option_names``);
    option_names (as given, or sorted when ``options`` is None); n_respondents (non-empty
    answers); n_empty (empty answers, left out); mean_picks (mean number of options picked);
    weighted; effective_n (Kish); level; method.
    """

    options: tuple[OptionPicks, ...]
    option_names: tuple[str, ...]
    n_respondents: int
    n_empty: int
    mean_picks: float
    weighted: bool
    effective_n: float
    level: float
    method: str

    def option(self, name: str) -> OptionPicks:
        """The picks of one option, by value."""
        for option in self.options:
            if option.option == name:
                return option
        raise KeyError(f"no option {name!r}; options are {list(self.option_names)}")


def wilson_interval(share: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``share`` observed on ``n`` (may be fractional).

    >>> [round(x, 4) for x in wilson_interval(0.5, 10)]
    [0.2366, 0.7634]
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + level / 2))
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(max(share * (1 - share) / n + z * z / (4 * n * n), 0.0))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")


def _options_and_answers(
    answers: Sequence[Collection[str]], options: Sequence[str] | None, what: str, *, ordered: bool
) -> tuple[list[str], dict[str, int]]:
    if isinstance(answers, str):
        raise ValueError(f"{what} must be a list of answers, not a single string")
    if options is not None:
        if isinstance(options, str):
            raise ValueError("options must be a list of option values, not a single string")
        names = list(options)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"options lists {repeated} more than once")
    else:
        names = []
    index = {name: position for position, name in enumerate(names)}
    for respondent, answer in enumerate(answers):
        if isinstance(answer, str) or not isinstance(answer, Collection):
            raise ValueError(
                f"{what}[{respondent}] is {answer!r}; expected a list of option values"
            )
        if ordered and not isinstance(answer, Sequence):
            raise ValueError(
                f"{what}[{respondent}] is a {type(answer).__name__}, which has no order; a "
                "ranking must be a list, best first"
            )
        seen: set[str] = set()
        for value in answer:
            if not isinstance(value, str):
                raise ValueError(
                    f"{what}[{respondent}] holds {value!r} ({type(value).__name__}); option "
                    "values must be strings"
                )
            if value in seen:
                raise ValueError(f"{what}[{respondent}] has {value!r} more than once")
            seen.add(value)
            if value not in index:
                if options is not None:
                    raise ValueError(
                        f"{what}[{respondent}] has {value!r}, which is not an option; "
                        f"expected one of {names}"
                    )
                index[value] = len(names)
                names.append(value)
    if options is None:  # sets have no order: sort, so results do not depend on hashing
        names.sort()
        index = {name: position for position, name in enumerate(names)}
    return names, index


def _weights(weights: Sequence[float] | npt.ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"weights has {array.size} entries for {n} answers")
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        raise ValueError(
            f"weights[{int(bad[0])}] is {float(array[bad[0]])!r}; weights must be finite and >= 0"
        )
    return array


def _kish(weights: FloatArray) -> float:
    squares = float((weights**2).sum())
    return float(weights.sum() ** 2 / squares) if squares > 0 else 0.0


def _bootstrap(
    weights: FloatArray,
    numerators: FloatArray,
    denominators: FloatArray,
    *,
    n_bootstrap: int,
    seed: int,
    level: float,
) -> list[tuple[float, float]]:
    """Percentile intervals of sum(w x num) / sum(w x den), per column, resampling rows."""
    rng = np.random.default_rng(seed)
    n, k = numerators.shape
    replicates = np.empty((n_bootstrap, k))
    done = 0
    while done < n_bootstrap:
        block = min(_BOOTSTRAP_BLOCK, n_bootstrap - done)
        draws = rng.integers(n, size=(block, n)) + n * np.arange(block)[:, None]
        counts = np.bincount(draws.ravel(), minlength=block * n).reshape(block, n)
        scaled = counts * weights
        top = scaled @ numerators
        bottom = scaled @ denominators
        replicates[done : done + block] = np.divide(
            top, bottom, out=np.full_like(top, np.nan), where=bottom > 0
        )
        done += block
    tail = (1 - level) / 2 * 100
    intervals = []
    for column in replicates.T:
        finite = column[np.isfinite(column)]
        if finite.size == 0:
            intervals.append((math.nan, math.nan))
        else:
            low, high = np.percentile(finite, [tail, 100 - tail])
            intervals.append((float(low), float(high)))
    return intervals


def rank_priorities(
    rankings: Sequence[Sequence[str]],
    *,
    options: Sequence[str] | None = None,
    weights: Sequence[float] | npt.ArrayLike | None = None,
    top_n: int = 3,
    partial: PartialRule = "tied_last",
    level: float = 0.95,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> RankingPriorities:
    """Aggregate ranking answers (see the module docstring for every rule).

    ``rankings[i]`` is respondent i's options, best first; ``options`` lists every option
    (options nobody ranked then still appear; without it, the options are the values found,
    sorted); ``weights[i]`` is respondent i's weight.
    Raises ValueError, naming the respondent, for a repeated or unknown option, a ranking
    that is not a list, a negative weight; and for bad options (``top_n`` outside
    1..number of options, an unknown ``partial`` rule, no non-empty ranking, fewer than two
    options).
    """
    if partial not in get_args(PartialRule):
        raise ValueError(f"partial must be one of {get_args(PartialRule)}, not {partial!r}")
    _check_level(level)
    for option_name, option_value, low in (("top_n", top_n, 1), ("n_bootstrap", n_bootstrap, 1)):
        if (
            isinstance(option_value, bool)
            or not isinstance(option_value, int)
            or option_value < low
        ):
            raise ValueError(f"{option_name} must be an integer >= {low}, not {option_value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, not {seed!r}")
    names, index = _options_and_answers(rankings, options, "rankings", ordered=True)
    all_weights = _weights(weights, len(rankings))
    k = len(names)
    if k < 2:
        raise ValueError(f"a ranking needs at least 2 options; found {k}: {names}")
    if top_n > k:
        raise ValueError(f"top_n is {top_n} but there are only {k} options")
    answered = [i for i, ranking in enumerate(rankings) if len(ranking) > 0]
    if not answered:
        raise ValueError(f"no respondent ranked anything ({len(rankings)} empty rankings)")
    w = all_weights[answered]
    if w.sum() <= 0:
        raise ValueError("the respondents who answered all have weight 0")
    n = len(answered)

    # place[i, j]: respondent i's explicit place for option j (1 = first), 0 when unranked
    place = np.zeros((n, k), dtype=np.int64)
    for row, respondent in enumerate(answered):
        for position, value in enumerate(rankings[respondent], start=1):
            place[row, index[value]] = position
    ranked = place > 0
    n_ranked_by = ranked.sum(axis=1, keepdims=True)
    if partial == "tied_last":
        rank = np.where(ranked, place, (n_ranked_by + 1 + k) / 2.0).astype(np.float64)
        rank_counts = np.ones((n, k))
        points = k - rank
    else:
        rank = np.where(ranked, place, 0).astype(np.float64)
        rank_counts = ranked.astype(np.float64)
        points = np.where(ranked, k - place, 0).astype(np.float64)
    first = (place == 1).astype(np.float64)
    in_top = (ranked & (place <= top_n)).astype(np.float64)

    total_w = float(w.sum())
    weighted_ranks = w @ (rank * rank_counts)
    rank_weight = w @ rank_counts
    mean_rank = np.divide(
        weighted_ranks, rank_weight, out=np.full(k, np.nan), where=rank_weight > 0
    )
    borda = w @ points
    first_share = (w @ first) / total_w
    top_share = (w @ in_top) / total_w
    effective_n = _kish(w)
    ones = np.ones((n, k))
    rank_ci = _bootstrap(
        w, rank * rank_counts, rank_counts, n_bootstrap=n_bootstrap, seed=seed, level=level
    )
    borda_ci = _bootstrap(w, points, ones, n_bootstrap=n_bootstrap, seed=seed, level=level)

    # pairwise preferences among respondents who ranked both
    prefer = np.zeros((k, k))
    both = np.zeros((k, k))
    both_n = np.zeros((k, k), dtype=np.int64)
    for a in range(k):
        for b in range(k):
            if a == b:
                continue
            mask = ranked[:, a] & ranked[:, b]
            both[a, b] = w[mask].sum()
            both_n[a, b] = int(mask.sum())
            prefer[a, b] = w[mask & (place[:, a] < place[:, b])].sum()
    defined = both > 0
    np.fill_diagonal(defined, False)
    pairwise = np.divide(prefer, both, out=np.full((k, k), np.nan), where=defined)
    copeland = np.zeros(k)
    for a in range(k):
        for b in range(k):
            if defined[a, b]:
                copeland[a] += 1.0 if pairwise[a, b] > 0.5 else 0.5 if pairwise[a, b] == 0.5 else 0
    winners = [
        names[a]
        for a in range(k)
        if all(defined[a, b] and pairwise[a, b] > 0.5 for b in range(k) if b != a)
    ]
    condorcet = winners[0] if winners else None

    standings = [
        OptionPriority(
            option=names[j],
            n_ranked=int(ranked[:, j].sum()),
            mean_rank=float(mean_rank[j]),
            mean_rank_ci=rank_ci[j],
            borda=float(borda[j]),
            borda_mean=float(borda[j] / total_w),
            borda_mean_ci=borda_ci[j],
            first_share=float(first_share[j]),
            first_share_ci=wilson_interval(float(first_share[j]), effective_n, level),
            top_n_share=float(top_share[j]),
            top_n_share_ci=wilson_interval(float(top_share[j]), effective_n, level),
            copeland=float(copeland[j]),
        )
        for j in range(k)
    ]
    order = sorted(
        range(k),
        key=lambda j: (
            -standings[j].borda,
            standings[j].mean_rank if not math.isnan(standings[j].mean_rank) else math.inf,
            j,
        ),
    )
    weighted = weights is not None
    method = (
        f"{n} rankings of {k} options ({len(rankings) - n} empty left out)"
        + (f", weighted (Kish effective n {effective_n:.1f})" if weighted else "")
        + f"; partial rankings: {partial.replace('_', ' ')}; Borda points K - place; "
        f"shares with Wilson {level:.0%} intervals; mean rank and Borda with "
        f"{n_bootstrap} bootstrap resamples of respondents (seed {seed}); pairwise shares "
        "among respondents who ranked both options."
    )
    return RankingPriorities(
        options=tuple(standings[j] for j in order),
        option_names=tuple(names),
        pairwise=pairwise,
        pairwise_n=both_n,
        condorcet_winner=condorcet,
        n_respondents=n,
        n_empty=len(rankings) - n,
        top_n=top_n,
        partial=partial,
        weighted=weighted,
        effective_n=effective_n,
        level=level,
        n_bootstrap=n_bootstrap,
        seed=seed,
        method=method,
    )


def top_picks(
    picks: Sequence[Collection[str]],
    *,
    options: Sequence[str] | None = None,
    weights: Sequence[float] | npt.ArrayLike | None = None,
    max_picks: int | None = None,
    level: float = 0.95,
) -> TopPicks:
    """Aggregate "pick up to N" answers: each option's share of respondents who picked it.

    ``picks[i]`` is the set (or list) of options respondent i picked. Raises ValueError,
    naming the respondent, for a repeated or unknown option, more than ``max_picks`` picks, a
    negative weight, or when nobody picked anything.
    """
    _check_level(level)
    if max_picks is not None and (
        isinstance(max_picks, bool) or not isinstance(max_picks, int) or max_picks < 1
    ):
        raise ValueError(f"max_picks must be an integer >= 1, not {max_picks!r}")
    names, index = _options_and_answers(picks, options, "picks", ordered=False)
    all_weights = _weights(weights, len(picks))
    if max_picks is not None:
        for respondent, answer in enumerate(picks):
            if len(answer) > max_picks:
                raise ValueError(
                    f"picks[{respondent}] has {len(answer)} options; at most {max_picks} allowed"
                )
    answered = [i for i, answer in enumerate(picks) if len(answer) > 0]
    if not answered:
        raise ValueError(f"no respondent picked anything ({len(picks)} empty answers)")
    w = all_weights[answered]
    if w.sum() <= 0:
        raise ValueError("the respondents who answered all have weight 0")
    chosen = np.zeros((len(answered), len(names)))
    for row, respondent in enumerate(answered):
        for value in picks[respondent]:
            chosen[row, index[value]] = 1.0
    total_w = float(w.sum())
    shares = (w @ chosen) / total_w
    counts = chosen.sum(axis=0)
    effective_n = _kish(w)
    results = [
        OptionPicks(
            option=names[j],
            n_picked=int(counts[j]),
            share=float(shares[j]),
            share_ci=wilson_interval(float(shares[j]), effective_n, level),
        )
        for j in range(len(names))
    ]
    order = sorted(range(len(names)), key=lambda j: (-results[j].share, j))
    weighted = weights is not None
    return TopPicks(
        options=tuple(results[j] for j in order),
        option_names=tuple(names),
        n_respondents=len(answered),
        n_empty=len(picks) - len(answered),
        mean_picks=float((w @ chosen.sum(axis=1)) / total_w),
        weighted=weighted,
        effective_n=effective_n,
        level=level,
        method=(
            f"{len(answered)} answers ({len(picks) - len(answered)} empty left out)"
            + (f", weighted (Kish effective n {effective_n:.1f})" if weighted else "")
            + f"; share picking each option with Wilson {level:.0%} intervals."
        ),
    )
