"""Survey weighting: raking to population margins, and design-based estimates with honest SEs.

Raking (iterative proportional fitting) adjusts base weights until the weighted count of each
category of each margin (age group, race/ethnicity, council district...) equals the
population total for that category. Standard errors use Taylor linearisation for a stratified
one- or multi-cluster design with an optional finite population correction, with the raking
taken into account: the linearised values are the residuals of a regression on every margin's
category indicators, which is how R's ``survey`` package treats a raked design without
replicate weights. ``tests/analysis/insight/test_weighting.py`` checks the figures against R.

Example: two margins, everyone starting at weight 1.

>>> import numpy as np
>>> sex = np.array(["f", "f", "m", "m", "m"])
>>> area = np.array(["north", "south", "north", "south", "south"])
>>> result = rake(
...     np.ones(5),
...     [Margin("sex", sex, {"f": 50, "m": 50}), Margin("area", area, {"north": 40, "south": 60})],
... )
>>> result.converged, round(float(result.weights.sum()), 6)
(True, 100.0)
>>> est = weighted_mean(np.array([1.0, 0, 1, 0, 0]), result)
>>> round(est.estimate, 4)
0.4
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Margin:
    """One raking margin: each respondent's category and the population total per category.

    `labels[i]` is respondent i's category (any hashable values, compared as strings);
    `targets` maps every category to its population total. Every category that occurs in the
    data must have a target, and every target category must occur in the data.
    """

    name: str
    labels: npt.NDArray[np.object_] | npt.NDArray[np.str_]
    targets: Mapping[str, float]

    @classmethod
    def from_shares(
        cls,
        name: str,
        labels: npt.NDArray[np.object_] | npt.NDArray[np.str_],
        shares: Mapping[str, float],
        total: float,
    ) -> Margin:
        """A margin from population shares (summing to 1) and the population total."""
        share_sum = sum(shares.values())
        if not np.isclose(share_sum, 1.0, atol=1e-6):
            raise ValueError(f"margin {name!r}: shares sum to {share_sum:.6f}, expected 1")
        return cls(name, labels, {key: value * total for key, value in shares.items()})


@dataclass(frozen=True)
class RakingResult:
    """Raked weights with convergence diagnostics.

    Fields:
        weights: the final weight of each respondent.
        base_weights: the weights raking started from.
        margins: the margins raked to.
        converged: whether every margin matched its targets within `tolerance`.
        iterations: full passes over the margins that were made.
        max_relative_error: the largest |weighted total - target| / target at the end.
        history: `max_relative_error` after each pass, to show how raking converged.
        tolerance: the relative error accepted as converged.
        trim_bounds: (lower, upper) weight bounds as multiples of the mean weight, or None.
        n_trimmed: respondents whose final weight sits at a trimming bound.
        design_effect: Kish's design effect from unequal weights, n * sum(w^2) / sum(w)^2.
        effective_sample_size: n / design_effect.
    """

    weights: FloatArray
    base_weights: FloatArray
    margins: tuple[Margin, ...]
    converged: bool
    iterations: int
    max_relative_error: float
    history: tuple[float, ...]
    tolerance: float
    trim_bounds: tuple[float, float] | None
    n_trimmed: int
    design_effect: float
    effective_sample_size: float
    method: str = "raking (iterative proportional fitting)"

    @property
    def n(self) -> int:
        return int(self.weights.size)


@dataclass(frozen=True)
class SurveyDesign:
    """How the sample was drawn, for standard errors.

    Fields:
        clusters: primary sampling unit of each respondent (None: each respondent is its own).
        strata: stratum of each respondent (None: one stratum).
        fpc: finite population correction per respondent, as in R's survey package: either
            the number of primary sampling units in the stratum's population (> 1) or the
            sampling fraction (<= 1). None: sampling with replacement (no correction).
    """

    clusters: npt.NDArray[np.generic] | None = None
    strata: npt.NDArray[np.generic] | None = None
    fpc: FloatArray | None = None


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate.

    Fields: estimate; se (standard error by Taylor linearisation); ci_low, ci_high (the
    `level` confidence interval from the normal distribution); n (respondents used);
    method (how the estimate and its SE were computed).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    n: int
    method: str
    details: Mapping[str, float] = field(default_factory=dict)


def _as_labels(labels: npt.ArrayLike) -> npt.NDArray[np.str_]:
    return np.asarray(labels).astype(str)


def _validate(base_weights: FloatArray, margins: Sequence[Margin]) -> None:
    n = base_weights.size
    if n == 0:
        raise ValueError("no respondents to weight")
    if not np.all(np.isfinite(base_weights)) or np.any(base_weights <= 0):
        raise ValueError("base weights must be finite and positive")
    if not margins:
        raise ValueError("at least one margin is needed")
    for margin in margins:
        labels = _as_labels(margin.labels)
        if labels.size != n:
            raise ValueError(f"margin {margin.name!r}: {labels.size} labels for {n} respondents")
        present = set(np.unique(labels).tolist())
        targets = {str(key) for key in margin.targets}
        if missing := sorted(present - targets):
            raise ValueError(
                f"margin {margin.name!r}: categories {missing} occur in the data but have no "
                "population target (merge them or give targets)"
            )
        if empty := sorted(targets - present):
            raise ValueError(
                f"margin {margin.name!r}: no respondent in categories {empty}; raking cannot "
                "reach their targets (collapse categories first)"
            )
        bad = [key for key, value in margin.targets.items() if not value > 0]
        if bad:
            raise ValueError(f"margin {margin.name!r}: targets must be positive, see {bad}")
    totals = [sum(margin.targets.values()) for margin in margins]
    if not np.allclose(totals, totals[0], rtol=1e-6):
        raise ValueError(
            "margins disagree on the population total: "
            + ", ".join(f"{m.name}={t:g}" for m, t in zip(margins, totals, strict=True))
        )


def _max_error(weights: FloatArray, coded: list[tuple[npt.NDArray[np.intp], FloatArray]]) -> float:
    worst = 0.0
    for index, targets in coded:
        totals = np.bincount(index, weights=weights, minlength=targets.size)
        worst = max(worst, float(np.max(np.abs(totals - targets) / targets)))
    return worst


def _trim(weights: FloatArray, bounds: tuple[float, float]) -> FloatArray:
    """Clip weights to bounds relative to their mean, repeating until the mean settles."""
    for _ in range(100):
        mean = weights.mean()
        clipped = np.clip(weights, bounds[0] * mean, bounds[1] * mean)
        if np.allclose(clipped, weights, rtol=1e-12, atol=0):
            return clipped
        weights = clipped
    return weights


def rake(
    base_weights: npt.ArrayLike,
    margins: Sequence[Margin],
    *,
    max_iter: int = 100,
    tolerance: float = 1e-10,
    trim: tuple[float, float] | None = None,
) -> RakingResult:
    """Rake `base_weights` so every margin's weighted totals meet its population targets.

    `trim=(lower, upper)` bounds each weight to [lower, upper] times the mean weight after
    every pass (trimmed raking); the margins are then met only as far as the bounds allow, and
    `converged` says whether they were. Raises ValueError for inputs raking cannot satisfy.
    """
    weights = np.asarray(base_weights, dtype=np.float64).copy()
    _validate(weights, margins)
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    if trim is not None:
        lower, upper = trim
        if not 0 <= lower < 1 < upper:
            raise ValueError(f"trim bounds {trim} must satisfy 0 <= lower < 1 < upper")
    coded: list[tuple[npt.NDArray[np.intp], FloatArray]] = []
    for margin in margins:
        categories = sorted(str(key) for key in margin.targets)
        lookup = {str(key): float(value) for key, value in margin.targets.items()}
        index = np.searchsorted(categories, _as_labels(margin.labels))
        coded.append((index, np.array([lookup[c] for c in categories])))
    history: list[float] = []
    for _ in range(max_iter):
        for index, targets in coded:
            totals = np.bincount(index, weights=weights, minlength=targets.size)
            weights *= (targets / totals)[index]
        if trim is not None:
            weights = _trim(weights, trim)
        history.append(_max_error(weights, coded))
        if history[-1] <= tolerance:
            break
    n_trimmed = 0
    if trim is not None:
        mean = weights.mean()
        bounds = np.array(trim) * mean
        n_trimmed = int(np.sum(np.isclose(weights, bounds[0]) | np.isclose(weights, bounds[1])))
    deff = float(weights.size * np.sum(weights**2) / weights.sum() ** 2)
    return RakingResult(
        weights=weights,
        base_weights=np.asarray(base_weights, dtype=np.float64).copy(),
        margins=tuple(margins),
        converged=history[-1] <= tolerance,
        iterations=len(history),
        max_relative_error=history[-1],
        history=tuple(history),
        tolerance=tolerance,
        trim_bounds=trim,
        n_trimmed=n_trimmed,
        design_effect=deff,
        effective_sample_size=weights.size / deff,
    )


def _calibration_residuals(values: FloatArray, raking: RakingResult) -> FloatArray:
    """Residuals of `values` after regression on every margin's category indicators."""
    columns = []
    for margin in raking.margins:
        labels = _as_labels(margin.labels)
        for category in sorted(str(key) for key in margin.targets):
            columns.append((labels == category).astype(np.float64))
    design = np.column_stack(columns)
    coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
    residuals: FloatArray = values - design @ coefficients
    return residuals


def _variance(scores: FloatArray, design: SurveyDesign) -> float:
    """Variance of a total from per-respondent linearised values (with-replacement formula
    per stratum, times the finite population correction when given)."""
    n = scores.size
    clusters = np.arange(n) if design.clusters is None else np.asarray(design.clusters).astype(str)
    strata = np.zeros(n, dtype=int) if design.strata is None else np.asarray(design.strata)
    for name, column in (("clusters", clusters), ("strata", strata)):
        if len(column) != n:
            raise ValueError(f"design {name}: {len(column)} values for {n} respondents")
    if design.fpc is not None and len(design.fpc) != n:
        raise ValueError(f"design fpc: {len(design.fpc)} values for {n} respondents")
    total = 0.0
    for stratum in np.unique(strata):
        in_stratum = strata == stratum
        psu, psu_index = np.unique(clusters[in_stratum], return_inverse=True)
        n_psu = psu.size
        if n_psu < 2:
            raise ValueError(
                f"stratum {str(stratum)!r} has a single primary sampling unit; its variance "
                "cannot be estimated (merge strata)"
            )
        sums = np.bincount(psu_index, weights=scores[in_stratum], minlength=n_psu)
        correction = 1.0
        if design.fpc is not None:
            fpc = float(np.asarray(design.fpc)[in_stratum][0])
            fraction = fpc if fpc <= 1 else n_psu / fpc
            correction = 1.0 - fraction
        total += correction * n_psu / (n_psu - 1) * float(np.sum((sums - sums.mean()) ** 2))
    return total


def _estimate(value: float, variance: float, n: int, level: float, method: str) -> Estimate:
    se = float(np.sqrt(variance))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return Estimate(value, se, value - z * se, value + z * se, level, n, method)


def _check_y(y: npt.ArrayLike, raking: RakingResult) -> FloatArray:
    values = np.asarray(y, dtype=np.float64)
    if values.shape != raking.weights.shape:
        raise ValueError(f"{values.size} values for {raking.n} respondents")
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite; drop or impute missing answers first")
    return values


def weighted_total(
    y: npt.ArrayLike,
    raking: RakingResult,
    design: SurveyDesign | None = None,
    *,
    level: float = 0.95,
) -> Estimate:
    """Population total of `y` with a linearisation SE that accounts for the raking."""
    values = _check_y(y, raking)
    weights = raking.weights
    scores = weights * _calibration_residuals(values, raking)
    return _estimate(
        float(np.sum(weights * values)),
        _variance(scores, design or SurveyDesign()),
        raking.n,
        level,
        "raked total; Taylor linearisation with calibration residuals",
    )


def weighted_mean(
    y: npt.ArrayLike,
    raking: RakingResult,
    design: SurveyDesign | None = None,
    *,
    level: float = 0.95,
) -> Estimate:
    """Population mean (or proportion, for a 0/1 `y`) with a raking-aware linearisation SE."""
    values = _check_y(y, raking)
    weights = raking.weights
    mean = float(np.sum(weights * values) / weights.sum())
    residuals = _calibration_residuals((values - mean) / weights.sum(), raking)
    return _estimate(
        mean,
        _variance(weights * residuals, design or SurveyDesign()),
        raking.n,
        level,
        "raked mean; Taylor linearisation with calibration residuals",
    )
