#!/usr/bin/env python3
"""Time ``mlsteward.data.profile`` against ``polars.DataFrame.describe`` on one frame.

The frame: 1,000,000 rows x 20 columns, built with numpy ``default_rng(1)``: 15 numeric
columns (normal, lognormal, exponential, uniform and gamma, 1% NaN each) and 5 string
columns with Zipf-like weights over 3, 10, 50, 1,000 and 20,000 categories (the layout of
shared/research/data_monitoring.md section 3.1). Both sides get the same polars frame,
already in memory; building it is not timed. Each side runs once to warm up, then the
median of 3 is printed with the ratio. Peak RSS is the process's ``ru_maxrss`` after
both, so it includes the frame itself.

Target (issue 4, section 7): profile within 3x of polars ``describe``.

    uv run python benchmarks/profile_vs_polars.py            # 1M rows
    uv run python benchmarks/profile_vs_polars.py --rows 100000
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from mlsteward.data.profile import profile


def make_frame(rows: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    makers = [
        lambda: rng.normal(0, 1, rows),
        lambda: rng.lognormal(0, 1, rows),
        lambda: rng.exponential(1, rows),
        lambda: rng.uniform(0, 10, rows),
        lambda: rng.gamma(2, 2, rows),
    ]
    for i in range(15):
        x = makers[i % 5]()
        x[rng.random(rows) < 0.01] = np.nan
        cols[f"num_{i}"] = x
    for i, card in enumerate((3, 10, 50, 1_000, 20_000)):
        weights = 1.0 / np.arange(1, card + 1)
        weights /= weights.sum()
        codes = rng.choice(card, size=rows, p=weights)
        names = np.array([f"c{j}" for j in range(card)])
        cols[f"cat_{i}"] = names[codes]
    return pl.DataFrame(cols)


def median_time(fn: Callable[[], object], repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    polars_s = median_time(frame.describe)
    steward_s = median_time(lambda: profile(frame))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"frame: {args.rows:,} rows x {frame.width} columns")
    print(f"{'tool':<28}{'median of 3 (s)':>18}")
    print(f"{'polars DataFrame.describe':<28}{polars_s:>18.3f}")
    print(f"{'mlsteward profile':<28}{steward_s:>18.3f}")
    print(f"ratio profile / describe: {steward_s / polars_s:.2f}x (target <= 3x)")
    print(f"peak RSS of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
