"""The per-column state on its own: moments merge exactly, HyperLogLog merges as a union."""

from __future__ import annotations

import numpy as np
import pytest

from mlsteward.data.columns import HyperLogLog, Moments


def test_hyperloglog_estimates_and_merges_as_the_union() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.random(30_000), rng.random(20_000)
    left, right, both = HyperLogLog(12), HyperLogLog(12), HyperLogLog(12)
    left.update_floats(a)
    right.update_floats(b)
    both.update_floats(np.concatenate([a, b, a[:5_000]]))  # repeats do not count twice
    merged = left.merge(right)
    assert merged.get_estimate() == pytest.approx(50_000, rel=0.05)
    assert merged.get_estimate() == pytest.approx(both.get_estimate(), rel=1e-12)


def test_moments_merge_like_one_pass() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(1e6, 3.0, 10_001)  # a large offset: the naive formula loses digits
    parts = [
        Moments(p.size, float(p.mean()), float(((p - p.mean()) ** 2).sum()), p.min(), p.max())
        for p in np.array_split(x, 7)
    ]
    total = parts[0]
    for p in parts[1:]:
        total = total.merge(p)
    assert total.n == x.size
    assert total.mean == pytest.approx(x.mean(), rel=1e-12)
    assert total.m2 / (total.n - 1) == pytest.approx(x.var(ddof=1), rel=1e-9)
    assert (total.min, total.max) == (x.min(), x.max())
