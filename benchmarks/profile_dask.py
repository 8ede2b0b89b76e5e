#!/usr/bin/env python3
"""Profile one table on a local Dask cluster with 1 and 2 worker processes, and in one process.

What is compared: ``mlsteward.data.distributed.profile_dask`` on a
``distributed.LocalCluster(n_workers=N, processes=True, threads_per_worker=1,
dashboard_address=None)`` for N = 1 and 2, against the single-process ``profile_data`` on
the same files. The table is the reference side of benchmarks/drift_vs_evidently.py
(1,000,000 rows x 20 columns, ``default_rng(1)``), written as ``--partitions`` (8) Parquet
files of equal size; ``dask.dataframe.read_parquet`` of that directory gives one partition
per file, and ``profile_data(directory)`` reads the same files in one process. Every path
reads the Parquet inside its timed part (the Dask workers read their own files).

Each path runs once to warm up (imports in the worker processes; not counted), then the
median of ``--runs`` (3) is printed with the speed-up of 2 workers over 1. Cluster start-up
and shutdown are not timed. Peak RSS is ``ru_maxrss`` of each worker process (asked of the
workers after the runs) and of this process. The three profiles are checked to agree:
counts, nulls and NaNs exactly, means to 1e-9 (relative), medians within the KLL rank error.

``--malloc-variant`` runs the clusters again without ``MALLOC_TRIM_THRESHOLD_=65536``, which
distributed's nanny puts in every worker's environment by default ("no trim" rows): with it,
glibc returns each large freed block to the OS at once, and numpy's temporaries are
page-faulted in again on every allocation.

Set-up: none beyond the project's environment (dask and distributed are dev dependencies).

    uv run python benchmarks/profile_dask.py                 # 1M rows, 8 partitions
    uv run python benchmarks/profile_dask.py --malloc-variant
    uv run python benchmarks/profile_dask.py --rows 100000 --runs 1 --json /tmp/dask.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from drift_vs_evidently import make_table  # noqa: E402  (the same table, one generator)

from mlsteward.data.profile import Profile, profile_data  # noqa: E402


def write_parts(data_dir: Path, rows: int, partitions: int) -> Path:
    """The reference table as ``partitions`` Parquet files under ``data_dir/parts``."""
    import pyarrow.parquet as pq

    parts = data_dir / f"parts-{rows}-{partitions}"
    if parts.is_dir() and len(list(parts.glob("*.parquet"))) == partitions:
        return parts
    parts.mkdir(parents=True, exist_ok=True)
    table = make_table(rows, 1, current=False)
    step = math.ceil(rows / partitions)
    for i in range(partitions):
        pq.write_table(table.slice(i * step, step), parts / f"part-{i:03d}.parquet")
    return parts


def timed(
    fn: Callable[[], Profile], runs: int, settle: Callable[[], None] = lambda: None
) -> tuple[list[float], Profile]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        settle()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def _scheduler_tasks(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


def _worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def on_cluster(
    parts: Path, workers: int, runs: int, *, malloc_trim: bool = True
) -> tuple[list[float], Profile, list[float]]:
    """Times of ``profile_dask`` on a fresh local cluster (start-up not timed).

    ``malloc_trim=False`` drops ``MALLOC_TRIM_THRESHOLD_=65536`` from the environment the
    nanny gives its workers (distributed's default, which makes glibc hand every large
    freed block back to the OS, so numpy's temporaries are page-faulted in again each time).
    """
    import dask
    import distributed  # noqa: F401  (loads distributed's configuration defaults)

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not malloc_trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # the nanny writes these into this process's os.environ and leaves them there, where
    # the next cluster's workers would inherit them whatever its configuration says
    saved = {key: os.environ.get(key) for key in environ}
    try:
        return _on_cluster(parts, workers, runs, environ)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _on_cluster(
    parts: Path, workers: int, runs: int, environ: dict[str, Any]
) -> tuple[list[float], Profile, list[float]]:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from mlsteward.data.distributed import profile_dask

    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):

        def settle() -> None:
            # the tasks have deterministic keys: a run started before the scheduler has
            # forgotten the last one's results would reuse them (a 0.02 s "run")
            while client.run_on_scheduler(_scheduler_tasks):
                time.sleep(0.01)

        ddf = dd.read_parquet(str(parts))
        times, prof = timed(lambda: profile_dask(ddf), runs, settle)
        peaks = sorted(client.run(_worker_peak_mb).values())
    return times, prof, peaks


def agreement(profiles: dict[str, Profile]) -> list[str]:
    """What differs between the profiles beyond the sketches' error bounds (empty: agree)."""
    names = list(profiles)
    base = profiles[names[0]]
    problems = []
    for label in names[1:]:
        other = profiles[label]
        if other.rows != base.rows or list(other.columns) != list(base.columns):
            problems.append(f"{label}: rows or columns differ")
            continue
        for name, a in base.columns.items():
            b = other.columns[name]
            if (a.count, a.nulls, a.nan, a.moments.n) != (b.count, b.nulls, b.nan, b.moments.n):
                problems.append(f"{label} {name}: counts differ")
            if a.moments.n and not math.isclose(a.mean, b.mean, rel_tol=1e-9, abs_tol=1e-12):
                problems.append(f"{label} {name}: mean {a.mean!r} vs {b.mean!r}")
            if a.kll is not None and a.moments.n:
                # both medians sit within the rank error of the true one
                rank = b.cdf([a.quantile(0.5)])[0]
                if abs(rank - 0.5) > 2 * a.rank_error:
                    problems.append(f"{label} {name}: median rank {rank:.4f}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="cluster sizes, comma-separated")
    parser.add_argument(
        "--malloc-variant",
        action="store_true",
        help="also run the clusters without distributed's MALLOC_TRIM_THRESHOLD_=65536",
    )
    parser.add_argument("--data-dir", type=Path, help="keep the Parquet files here")
    parser.add_argument("--json", type=Path, help="write every sample and the set-up here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dask-bench-") as tmp:
        parts = write_parts(args.data_dir or Path(tmp), args.rows, args.partitions)
        load_before = os.getloadavg()[0]
        rows: list[dict[str, Any]] = []
        profiles: dict[str, Profile] = {}
        times, prof = timed(lambda: profile_data(parts), args.runs)
        label = "profile_data, one process"
        profiles[label] = prof
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({"label": label, "workers": 0, "times": times, "peaks": [peak]})
        for trim in (True, False) if args.malloc_variant else (True,):
            for n in (int(w) for w in args.workers.split(",")):
                times, prof, peaks = on_cluster(parts, n, args.runs, malloc_trim=trim)
                label = f"profile_dask, {n} worker{'s' if n > 1 else ''}"
                label += "" if trim else ", no trim"
                profiles[label] = prof
                rows.append(
                    {"label": label, "workers": n, "trim": trim, "times": times, "peaks": peaks}
                )
        load_after = os.getloadavg()[0]

    print(f"table: {args.rows:,} rows x 20 columns in {args.partitions} Parquet files")
    print(f"{'path':<38}{'median s':>10}{'runs (s)':>20}{'peak MB per process':>22}")
    for r in rows:
        r["median"] = statistics.median(r["times"])
        spread = " ".join(f"{t:.2f}" for t in r["times"])
        peaks = " ".join(f"{p:.0f}" for p in r["peaks"])
        print(f"{r['label']:<38}{r['median']:>10.2f}{spread:>20}{peaks:>22}")
    for trim in (True, False):
        by_workers = {r["workers"]: r["median"] for r in rows if r.get("trim", True) == trim}
        if 1 in by_workers and 2 in by_workers:
            what = "" if trim else " (no trim)"
            print(f"speed-up of 2 workers over 1{what}: {by_workers[1] / by_workers[2]:.2f}x")
    problems = agreement(profiles)
    print("profiles agree (counts, nulls, means, medians): " + ("yes" if not problems else "NO"))
    for p in problems:
        print("  " + p)
    print(
        f"median of {args.runs} after one warm-up; cluster start-up not timed; "
        f"{os.cpu_count()} CPUs; 1-min load average {load_before:.2f} -> {load_after:.2f}"
    )
    if args.json:
        doc = {
            "rows": args.rows,
            "partitions": args.partitions,
            "results": rows,
            "agree": not problems,
            "problems": problems,
            "load_1min": [load_before, load_after],
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
        }
        args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
