"""Benchmark: the response-time bootstrap (`measures.response_times_from_codes`), old vs new.

    .venv/bin/python benchmarks/bench_response_times.py                 # 6,000,000 calls
    .venv/bin/python benchmarks/bench_response_times.py --calls 600000  # a quick look

The pipeline's "analyze: response times" step on the 10-million-call synthetic file passes
about 6 million non-officer calls to `response_times_from_codes`: a handful of priorities,
five council districts plus calls with no district, two intervals, ``n_boot=200``. This
script makes calls of that shape itself (seed 0): received times over a year, minutes to
dispatch and to arrival drawn lognormal and rounded to whole seconds (many ties, as in real
data), four priorities of unequal size, some times missing and a few negative intervals.

In one process it times the current implementation and the one it replaced (kept below as
`reference_response_times_from_codes`, the code before the bucket bootstrap, so that the
ratio is measured on the same machine in the same run), new first so that any cost of a
cold process falls on it. It then checks that the point figures (n, median, p90, ratio to
the city) are identical in every row, and prints how far the interval ends moved: both are
95% bootstrap intervals from independent random draws, so they differ by Monte Carlo noise
only: with 200 resamples, typically several per cent of the interval's width, and up to a
half where whole seconds leave an interval only a few distinct values wide.
"""

from __future__ import annotations

import argparse
import functools
import math
import platform
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from csas.analysis.safety.measures import (
    INTERVALS,
    NO_PRIORITY,
    ExclusionReason,
    Interval,
    ResponseTimeRow,
    ResponseTimeTable,
    _label,
    _percentile_interval,
    _utc_times,
    response_times_from_codes,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PRIORITIES = ["1", "2", "3", "4"]
PRIORITY_SHARES = [0.10, 0.30, 0.40, 0.20]
# Five districts, then the two empty labels the pipeline gives calls with no location (-2)
# and calls outside every district (-1).
AREA_LABELS = ["1", "2", "3", "4", "5", "", ""]
AREA_SHARES = [0.21, 0.20, 0.19, 0.18, 0.17, 0.03, 0.02]


def synthetic_calls(n: int, seed: int = 0) -> tuple[npt.NDArray[Any], ...]:
    """Received, dispatched and arrived times, priority codes and area codes for `n` calls."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    received = start + (rng.integers(0, 366 * 86_400, n) * 1_000_000).astype("timedelta64[us]")
    priority = rng.choice(len(PRIORITIES), n, p=PRIORITY_SHARES).astype(np.int32)
    area = rng.choice(len(AREA_LABELS), n, p=AREA_SHARES).astype(np.int64)
    area[area >= 5] -= len(AREA_LABELS)  # the two empty labels, as codes -2 and -1
    # Minutes to dispatch grow with the priority number; districts differ a little.
    scale = 1.2 + 0.35 * priority + 0.05 * np.where(area >= 0, area, 2)
    to_dispatch = np.round(rng.lognormal(scale, 0.9) * 60).astype(np.int64)  # seconds
    to_arrive = to_dispatch + np.round(rng.lognormal(2.0, 0.6, n) * 60).astype(np.int64)
    to_dispatch[rng.random(n) < 0.001] *= -1  # a few clock errors: negative intervals
    dispatched = received + (to_dispatch * 1_000_000).astype("timedelta64[us]")
    arrived = received + (to_arrive * 1_000_000).astype("timedelta64[us]")
    dispatched[rng.random(n) < 0.02] = np.datetime64("NaT")
    arrived[rng.random(n) < 0.12] = np.datetime64("NaT")
    return received, dispatched, arrived, priority, area


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6_000_000)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    received, dispatched, arrived, priority, area = synthetic_calls(args.calls)
    call = (received, dispatched, arrived, priority, PRIORITIES, area, AREA_LABELS)
    print(f"{args.calls:,} calls, {len(PRIORITIES)} priorities, n_boot={args.n_boot}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")

    started = time.perf_counter()
    new = response_times_from_codes(*call, n_boot=args.n_boot, seed=args.seed)
    new_s = time.perf_counter() - started
    started = time.perf_counter()
    old = reference_response_times_from_codes(*call, n_boot=args.n_boot, seed=args.seed)
    old_s = time.perf_counter() - started
    print(f"old (draw every value)   {old_s:8.2f} s")
    print(f"new (bucket bootstrap)   {new_s:8.2f} s")
    print(f"old / new                {old_s / new_s:8.1f} x")

    same = old.excluded == new.excluded and len(old.rows) == len(new.rows)
    moved: list[float] = []
    for a, b in zip(old.rows, new.rows, strict=True):
        points = ("priority", "area", "interval", "n", "median", "p90", "ratio_to_city")
        same &= all(getattr(a, f) == getattr(b, f) for f in points)
        if a.n == 0:
            continue
        for low, high in (("median_low", "median_high"), ("p90_low", "p90_high")):
            width = getattr(a, high) - getattr(a, low)
            if width > 0:
                moved.append(max(abs(getattr(a, f) - getattr(b, f)) for f in (low, high)) / width)
    print(f"point figures identical in all {len(new.rows)} rows: {same}")
    print(
        "interval ends moved by (share of the old interval's width): "
        f"median {np.median(moved):.3f}, largest {max(moved):.3f}"
    )
    return 0 if same else 1


# ---------------------------------------------------------------------------------------------
# The implementation before the bucket bootstrap, as it was (constants, then functions).

_BOOT_BLOCK = 2_000_000
_SELECT_BY_RANK = 20_000


def reference_response_times_from_codes(
    received: npt.ArrayLike,
    dispatched: npt.ArrayLike,
    arrived: npt.ArrayLike,
    priority_codes: npt.ArrayLike,
    priority_labels: Sequence[str | None],
    area_codes: npt.ArrayLike,
    area_labels: Sequence[str | None],
    *,
    n_boot: int = 1000,
    seed: int,
) -> ResponseTimeTable:
    """`response_times_from_codes` as it was before the bucket bootstrap."""
    times = [
        _utc_times(received, "received"),
        _utc_times(dispatched, "dispatched"),
        _utc_times(arrived, "arrived"),
    ]
    priorities = _cleaned_codes(priority_codes, priority_labels, "priority")
    areas = _cleaned_codes(area_codes, area_labels, "area")
    return _coded_response_times(times, *priorities, *areas, n_boot=n_boot, seed=seed)


def _cleaned_codes(
    codes: npt.ArrayLike, labels: Sequence[str | None], name: str
) -> tuple[IntArray, list[str | None]]:
    """Codes into a list of distinct, cleaned labels (`_label`), from codes into `labels`."""
    raw = np.asarray(codes)
    if raw.ndim != 1 or (raw.size and raw.dtype.kind not in "iu"):
        raise ValueError(f"{name} codes must be a 1-D array of whole numbers")
    raw = raw.astype(np.int64, copy=False)
    cleaned = [_label(value, f"{name} labels", i) for i, value in enumerate(labels)]
    found = list(dict.fromkeys(cleaned))
    remap = np.array([found.index(label) for label in cleaned], dtype=np.int64)
    if raw.size and not (-len(labels) <= int(raw.min()) and int(raw.max()) < len(labels)):
        raise ValueError(f"{name} codes must index {name} labels ({len(labels)} of them)")
    return remap[raw], found


def _codes_present(codes: IntArray) -> list[int]:
    """The distinct codes (0 or more) in `codes`, in increasing order."""
    return np.flatnonzero(np.bincount(codes)).tolist() if codes.size else []


def _coded_response_times(
    times: list[npt.NDArray[np.datetime64]],
    priority_codes: IntArray,
    priority_labels: Sequence[str | None],
    area_codes: IntArray,
    area_labels: Sequence[str | None],
    *,
    n_boot: int,
    seed: int,
) -> ResponseTimeTable:
    n = len(times[0])
    for name, size in (
        ("dispatched", len(times[1])),
        ("arrived", len(times[2])),
        ("priority", len(priority_codes)),
        ("area", len(area_codes)),
    ):
        if size != n:
            raise ValueError(f"received has {n} calls but {name} has {size}; they must match")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")

    rng = np.random.default_rng(seed)
    priority_names = [NO_PRIORITY if p is None else p for p in priority_labels]
    present = {priority_names[code] for code in _codes_present(priority_codes)}
    area_names = ["" if a is None else a for a in area_labels]
    rows: list[ResponseTimeRow] = []
    excluded: dict[Interval, dict[ExclusionReason, int]] = {}
    for interval, end in zip(INTERVALS, times[1:], strict=True):
        minutes = (end - times[0]) / np.timedelta64(60, "s")
        missing_received = np.isnat(times[0])
        missing_end = ~missing_received & np.isnat(end)
        negative = ~missing_received & ~missing_end & (minutes < 0)
        excluded[interval] = {
            "missing_received": int(missing_received.sum()),
            "missing_end": int(missing_end.sum()),
            "negative": int(negative.sum()),
        }
        used = ~(missing_received | missing_end | negative)
        for label in sorted(present):
            chosen = np.zeros(n, dtype=bool)
            for code, name in enumerate(priority_names):
                if name == label:
                    chosen |= priority_codes == code
            chosen &= used
            rows.extend(
                _priority_rows(
                    label,
                    interval,
                    minutes[chosen],
                    area_codes[chosen],
                    area_names,
                    n_boot=n_boot,
                    rng=rng,
                )
            )

    return ResponseTimeTable(
        rows=tuple(rows),
        excluded=excluded,
        n_total=n,
        n_boot=n_boot,
        seed=seed,
        method=(
            "minutes from received to dispatched / arrived; missing and negative intervals "
            "excluded; median and p90 by numpy (linear interpolation); 95% percentile-"
            f"bootstrap intervals from {n_boot} resamples stratified by area (seed {seed}); "
            "ratio = area median / citywide median of the same priority, from the same resamples"
        ),
    )


def _priority_rows(
    label: str,
    interval: Interval,
    minutes: FloatArray,
    area_codes: IntArray,
    area_names: Sequence[str],
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> list[ResponseTimeRow]:
    # Strata in the order of their names ("" for calls without an area comes first); each
    # name has one code.
    present = sorted((area_names[c], c) for c in _codes_present(area_codes))
    strata = [name for name, _ in present]
    values = [minutes[area_codes == code] for _, code in present]
    n_city = int(minutes.size)
    boot_median = np.empty((len(strata), n_boot))
    boot_p90 = np.empty((len(strata), n_boot))
    city_median = np.empty(n_boot)
    city_p90 = np.empty(n_boot)
    if n_city:
        block = max(1, _BOOT_BLOCK // n_city)
        by_rank = _ResampleStatistics(values) if n_city >= _SELECT_BY_RANK else None
        for start in range(0, n_boot, block):
            stop = min(n_boot, start + block)
            draws = [rng.integers(0, v.size, size=(stop - start, v.size)) for v in values]
            if by_rank is not None:
                medians, p90s = by_rank.of(draws)
                boot_median[:, start:stop] = medians[:-1]
                boot_p90[:, start:stop] = p90s[:-1]
                city_median[start:stop] = medians[-1]
                city_p90[start:stop] = p90s[-1]
                continue
            samples = [v[d] for v, d in zip(values, draws, strict=True)]
            for s, sample in enumerate(samples):
                boot_median[s, start:stop] = np.median(sample, axis=1)
                boot_p90[s, start:stop] = np.quantile(sample, 0.9, axis=1)
            pooled = np.concatenate(samples, axis=1)
            city_median[start:stop] = np.median(pooled, axis=1)
            city_p90[start:stop] = np.quantile(pooled, 0.9, axis=1)

    city_row = _row(label, None, interval, minutes, city_median, city_p90, None, None)
    rows = [city_row]
    for s, stratum in enumerate(strata):
        if stratum == "":
            continue
        rows.append(
            _row(
                label,
                stratum,
                interval,
                values[s],
                boot_median[s],
                boot_p90[s],
                city_row.median,
                city_median,
            )
        )
    return rows


class _ResampleStatistics:
    """Medians and 90th percentiles of bootstrap resamples, found from ranks without sorting.

    Every value of every stratum gets its rank among all the priority's values (ties in a
    fixed order). A resample is then a set of ranks, and its k-th smallest value is the value
    of its k-th smallest rank. Ranks are grouped into at most 65,536 buckets of consecutive
    ranks; counting a resample's draws per bucket finds the bucket that holds the k-th
    smallest, and only the draws in that bucket (about as many as the bucket is wide) are
    sorted. This gives bit for bit what ``np.median`` and ``np.quantile(..., 0.9)`` give on
    the resampled values (their arithmetic is repeated on the same order statistics) at a
    fraction of the cost of partitioning every resample four times.
    """

    def __init__(self, values: Sequence[FloatArray]) -> None:
        pooled = np.concatenate(values)
        # Any order of equal values will do: they are the same number.
        order = np.argsort(pooled)
        self.sorted = pooled[order]
        ranks = np.empty(pooled.size, dtype=np.intp)
        ranks[order] = np.arange(pooled.size, dtype=np.intp)
        ends = np.cumsum([v.size for v in values])
        self.ranks = [ranks[stop - v.size : stop] for v, stop in zip(values, ends, strict=True)]
        self.n = int(pooled.size)
        self.shift = max(0, self.n.bit_length() - 16)
        self.n_buckets = ((self.n - 1) >> self.shift) + 1
        # Each value's bucket in 2 bytes: the per-draw passes read and compare these.
        self.buckets = [(r >> self.shift).astype(np.uint16) for r in self.ranks]

    def of(self, draws: Sequence[IntArray]) -> tuple[FloatArray, FloatArray]:
        """Per stratum, then the city (last row): the median and p90 of each resample.

        `draws` holds, per stratum, the positions drawn (resamples x stratum size).
        """
        n_rows = draws[0].shape[0]
        sizes = [d.shape[1] for d in draws]
        found = np.empty((len(draws) + 1, n_rows, 4), dtype=np.intp)
        for row in range(n_rows):
            drawn = [d[row] for d in draws]
            drawn_buckets = [b[d] for b, d in zip(self.buckets, drawn, strict=True)]
            counts = [np.bincount(b, minlength=self.n_buckets) for b in drawn_buckets]
            everyone = list(range(len(drawn)))
            for s, size in enumerate(sizes):
                found[s, row] = self._ranks_at([s], drawn, drawn_buckets, counts[s], size)
            city = np.sum(counts, axis=0)
            found[-1, row] = self._ranks_at(everyone, drawn, drawn_buckets, city, self.n)
        medians = np.empty((len(draws) + 1, n_rows))
        p90s = np.empty((len(draws) + 1, n_rows))
        for s, size in enumerate([*sizes, self.n]):
            middle, gamma = _order_positions(size)[1:]
            values = self.sorted[found[s]]
            medians[s] = np.mean(values[:, :middle], axis=1)
            a, b = values[:, 2], values[:, 3]
            difference = b - a
            p90s[s] = b - difference * (1 - gamma) if gamma >= 0.5 else a + difference * gamma
        return medians, p90s

    def _ranks_at(
        self,
        strata: Sequence[int],
        drawn: Sequence[IntArray],
        drawn_buckets: Sequence[npt.NDArray[np.uint16]],
        count: IntArray,
        size: int,
    ) -> IntArray:
        """The ranks at the order positions (`_order_positions`) among the strata's draws."""
        wanted = _order_positions(size)[0]
        cumulative = np.cumsum(count)
        bucket = np.searchsorted(cumulative, wanted, side="right")
        before = cumulative[bucket] - count[bucket]
        keys = []
        first_bucket, *other_buckets = sorted(set(bucket.tolist()))
        for s in strata:
            inside = drawn_buckets[s] == first_bucket
            for b in other_buckets:
                inside |= drawn_buckets[s] == b
            keys.append(self.ranks[s][drawn[s][np.flatnonzero(inside)]])
        candidates = np.sort(np.concatenate(keys))
        first = np.searchsorted(candidates, bucket << self.shift)
        found: IntArray = candidates[first + (wanted - before)]
        return found


@functools.cache
def _order_positions(size: int) -> tuple[IntArray, int, float]:
    """Where ``np.median`` and ``np.quantile(q=0.9)`` (linear) look in `size` sorted values.

    Returns the four positions (the middle one twice or the middle two; the two values the
    90th percentile lies between, the last one twice past the end), how many of the first
    two the median averages, and the weight of the second of the other two.
    """
    half = size // 2
    middle = [half - 1, half] if size % 2 == 0 else [half, half]
    virtual = (size - 1) * 0.9
    # numpy: floor of the virtual index, or index -1 (the last value) at or past the end.
    previous = -1 if virtual >= size - 1 else math.floor(virtual)
    gamma = virtual - previous
    low, high = (size - 1, size - 1) if previous == -1 else (previous, previous + 1)
    return np.array([*middle, low, high], dtype=np.intp), 2 if size % 2 == 0 else 1, gamma


def _row(
    label: str,
    area: str | None,
    interval: Interval,
    values: FloatArray,
    boot_median: FloatArray,
    boot_p90: FloatArray,
    city: float | None,
    boot_city: FloatArray | None,
) -> ResponseTimeRow:
    if values.size == 0:
        return ResponseTimeRow(label, area, interval, 0, *([None] * 9))
    median = float(np.median(values))
    p90 = float(np.quantile(values, 0.9))
    ratio = ratio_low = ratio_high = None
    if city is not None and boot_city is not None and city != 0:
        ratio = median / city
        if np.all(boot_city != 0):
            ratio_low, ratio_high = _percentile_interval(boot_median / boot_city)
    return ResponseTimeRow(
        label,
        area,
        interval,
        int(values.size),
        median,
        *_percentile_interval(boot_median),
        p90,
        *_percentile_interval(boot_p90),
        ratio,
        ratio_low,
        ratio_high,
    )


if __name__ == "__main__":
    raise SystemExit(main())
