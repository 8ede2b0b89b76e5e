"""The Dask path on a real local cluster with worker processes equals the local profile."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from mlsteward.data.profile import profile

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 1, n)
    x[rng.random(n) < 0.03] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "i": rng.integers(0, 50, n),
            "s": rng.choice([f"c{i}" for i in range(30)], n),
        }
    )


def test_partitions_profiled_on_workers_merge_to_the_local_profile(client: object) -> None:
    pdf = frame(120_000, 1)
    ddf = dd.from_pandas(pdf, npartitions=6)
    local, remote = profile(pdf), profile(ddf)
    assert remote.rows == local.rows == len(pdf)
    for name, want in local.columns.items():
        got = remote.columns[name]
        assert (got.count, got.nulls, got.nan, got.moments.n) == (
            want.count, want.nulls, want.nan, want.moments.n,
        )  # fmt: skip
        assert got.mean == pytest.approx(want.mean, rel=1e-9, nan_ok=True)
        assert got.variance == pytest.approx(want.variance, rel=1e-9, nan_ok=True)
        assert (got.min, got.max) == (want.min, want.max)
        assert got.distinct == want.distinct
        assert got.frequent() == want.frequent()
        for q in (0.1, 0.5, 0.9):
            if not np.isnan(want.quantile(q)):
                f = np.sort(pdf[name].dropna().to_numpy(dtype=float))
                est, eps = got.quantile(q), got.rank_error
                low = np.searchsorted(f, est, side="left") / len(f)
                high = np.searchsorted(f, est, side="right") / len(f)  # ties span a range
                assert low - eps <= q <= high + eps


def test_frozen_bins_reach_the_workers(client: object) -> None:
    ref = profile(frame(50_000, 2))
    cur = frame(60_000, 3)
    remote = profile(dd.from_pandas(cur, npartitions=4), reference=ref)
    local = profile(cur, reference=ref)
    assert remote.columns["x"].histogram == local.columns["x"].histogram
    assert remote.columns["s"].histogram == local.columns["s"].histogram


def test_profile_dask_is_the_partition_by_partition_path(client: object) -> None:
    from mlsteward.data.distributed import profile_dask

    pdf = frame(40_000, 4)
    direct = profile_dask(dd.from_pandas(pdf, npartitions=5))
    local = profile(pdf)
    assert direct.rows == local.rows
    assert direct.columns["x"].mean == pytest.approx(local.columns["x"].mean, rel=1e-9)
