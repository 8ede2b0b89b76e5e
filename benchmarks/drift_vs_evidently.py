#!/usr/bin/env python3
"""Profile + drift of mlsteward against Evidently's ``DataDriftPreset``, time and peak memory.

What is compared: the answer "which columns drifted between a reference and a current
table" on 1,000,000 rows x 20 columns a side (15 numeric with 1% NaN: normal, lognormal,
exponential, uniform, gamma; 5 string columns with Zipf weights over 3, 10, 50, 1,000 and
20,000 categories). ``default_rng(1)`` makes the reference, ``default_rng(2)`` the current,
into which three shifts are planted: ``num_0`` +0.5 sd, ``num_1`` (lognormal) x1.5,
``cat_1``'s top category twice as frequent; and ``num_14``'s missing rate goes from 1% to 5%
(not a distribution shift: mlsteward reports it as a missing-rate jump, apart). Both sides
are written once as Parquet, so both tools read the same bytes.

- Evidently (its own virtualenv, ``--evidently-python``): ``pandas.read_parquet`` of both
  files (not timed), then ``Report([DataDriftPreset()]).run(reference_data=...,
  current_data=...)`` and ``snapshot.dict()`` (timed: the drifted columns are read from it).
- mlsteward (this repository's ``.venv``): ``mlsteward.data.compare.drift(reference,
  current)`` when that module exists, else the same by hand (profile the reference, profile
  the current with ``reference=`` so the bins are shared, map both profiles to
  ``ColumnSummary`` and ``detect_drift``), then ``to_dict()``. Timed on three inputs: pandas
  frames from ``pandas.read_parquet`` (what Evidently gets; the headline), Arrow tables from
  ``pyarrow.parquet.read_table`` (reading not timed), and the two Parquet paths (reading
  timed).

Every timed run is a fresh child process, so peak memory (``ru_maxrss`` of the child, which
includes the frames it loaded) is measured the same way for both; the time runs from after
loading (and after importing the libraries, pandas included: pyarrow's ``to_numpy``
imports it) to the list of drifted columns; CPU time (user +
system of the child over the same span) is printed beside it. The runs go round-robin
(Evidently, then each mlsteward input, again), so load from other work on the machine hits
every tool alike. The median of ``--runs`` (mlsteward) and of ``--evidently-runs`` is printed
with the targets of issue 4, section 7: at least 30x faster than Evidently, peak memory under
1 GB.

Set-up (outside this repository; Evidently 0.7.23 does not import with pandas 3)::

    python3 -m venv /tmp/evidently-venv
    /tmp/evidently-venv/bin/pip install evidently==0.7.23 pyarrow 'pandas<3'

Commands::

    uv run python benchmarks/drift_vs_evidently.py --evidently-python /tmp/evidently-venv/bin/python
    uv run python benchmarks/drift_vs_evidently.py --skip-evidently --rows 100000
    uv run python benchmarks/drift_vs_evidently.py --data-dir /tmp/drift-bench --json /tmp/d.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DATA_VERSION = 1  # bump when the generator changes, so a kept --data-dir is rebuilt
CARDINALITIES = (3, 10, 50, 1_000, 20_000)
PLANTED = "num_0 +0.5 sd, num_1 x1.5, cat_1 top category x2 (num_14 missing 1% -> 5%)"
SHIFTED = ("cat_1", "num_0", "num_1")
EVIDENTLY = "Evidently DataDriftPreset (pandas)"


# -- the data ----------------------------------------------------------------------------------


def make_table(rows: int, seed: int, *, current: bool) -> Any:
    """One side as a pyarrow Table; ``current=True`` plants the shifts."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    makers = [
        lambda: rng.normal(0, 1, rows),
        lambda: rng.lognormal(0, 1, rows),
        lambda: rng.exponential(1, rows),
        lambda: rng.uniform(0, 10, rows),
        lambda: rng.gamma(2, 2, rows),
    ]
    cols: dict[str, Any] = {}
    for i in range(15):
        x = makers[i % 5]()
        if current and i == 0:
            x += 0.5  # N(0, 1): half a standard deviation
        if current and i == 1:
            x *= 1.5
        missing = 0.05 if current and i == 14 else 0.01
        x[rng.random(rows) < missing] = np.nan
        cols[f"num_{i}"] = pa.array(x, from_pandas=True)  # NaN as null, as pandas shows it
    for i, card in enumerate(CARDINALITIES):
        weights = 1.0 / np.arange(1, card + 1)
        if current and i == 1:
            weights[0] *= 2
        weights /= weights.sum()
        codes = rng.choice(card, size=rows, p=weights).astype(np.int32)
        names = pa.array([f"c{j}" for j in range(card)], pa.string())
        cols[f"cat_{i}"] = pa.DictionaryArray.from_arrays(codes, names).cast(pa.string())
    return pa.table(cols)


def write_data(data_dir: Path, rows: int) -> tuple[Path, Path]:
    """``reference.parquet`` and ``current.parquet`` in ``data_dir`` (kept when they fit)."""
    import pyarrow.parquet as pq

    ref, cur, meta = (data_dir / n for n in ("reference.parquet", "current.parquet", "meta.json"))
    want = {"rows": rows, "version": DATA_VERSION}
    if ref.exists() and cur.exists() and meta.exists() and json.loads(meta.read_text()) == want:
        return ref, cur
    data_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(make_table(rows, 1, current=False), ref)
    pq.write_table(make_table(rows, 2, current=True), cur)
    meta.write_text(json.dumps(want))
    return ref, cur


# -- measuring inside a child process ----------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _evidently_worker(data_dir: Path) -> dict[str, Any]:
    import evidently
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref = pd.read_parquet(data_dir / "reference.parquet")
    cur = pd.read_parquet(data_dir / "current.parquet")
    loaded = _peak_mb()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
    run_s = time.perf_counter() - t0
    doc = snapshot.dict()
    flagged = []
    for metric in doc["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        value, threshold = metric["value"], config["threshold"]
        # p-value tests (KS, chi-square, Z) drift below the threshold, distances at or above
        p_value = "p_value" in str(config.get("method", ""))
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(config["column"])
    return {
        "seconds": time.perf_counter() - t0,
        "run_seconds": run_s,
        "cpu_seconds": _cpu_s() - cpu0,
        "peak_mb": _peak_mb(),
        "loaded_mb": loaded,
        "flagged": sorted(flagged),
        "missing_jumps": [],
        "version": evidently.__version__,
    }


def _summary(col: Any) -> Any:
    """A profile column as a drift ``ColumnSummary`` (docs/drift.md, "From a profile")."""
    import datasketches as ds
    import numpy as np

    from mlsteward.data.drift import ColumnSummary
    from mlsteward.data.stats import DEFAULT_PROBS

    base = {"count": col.count, "nulls": col.nulls + col.nan, "distinct": int(col.distinct)}
    if col.kind in ("int", "float", "datetime"):
        m = col.moments
        if m.n == 0:
            return ColumnSummary("numeric", infinities=col.posinf + col.neginf, **base)
        hist = col.histogram
        return ColumnSummary(
            "numeric",
            infinities=col.posinf + col.neginf,
            mean=m.mean,
            std=math.sqrt(m.m2 / m.n),
            probs=DEFAULT_PROBS,
            quantiles=np.asarray(col.kll.get_quantiles(DEFAULT_PROBS.tolist()), np.float64),
            edges=None if hist is None else np.asarray(hist.edges, np.float64),
            hist_counts=None if hist is None else np.asarray(hist.counts, np.float64),
            **base,
        )
    items: dict[Any, float] = {}
    complete = True
    if col.items is not None and not col.items.is_empty():
        found = col.items.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
        items = {str(f[0]): float(f[1]) for f in found}
        complete = all(f[2] == f[3] for f in found) and sum(items.values()) == float(
            col.items.total_weight
        )
    return ColumnSummary("categorical", items=items, items_complete=complete, **base)


def steward_drift_fn(*, by_hand: bool = False) -> tuple[Callable[[Any, Any], Any], str]:
    """The drift function and its name, imported (outside any timing, as Evidently is).

    ``mlsteward.data.compare.drift`` when it exists (and not ``by_hand``), else the same steps
    by hand: profile the reference, profile the current on its bins, ``detect_drift``.
    """
    if not by_hand:
        try:
            from mlsteward.data.compare import drift
        except ImportError:
            pass
        else:
            return drift, "mlsteward.data.compare.drift"
    from mlsteward.data.drift import detect_drift
    from mlsteward.data.profile import profile_data

    def by_hand_drift(reference: Any, current: Any) -> Any:
        ref = profile_data(reference)
        cur = profile_data(current, reference=ref)
        ref_s = {name: _summary(c) for name, c in ref.columns.items()}
        cur_s = {name: _summary(c) for name, c in cur.columns.items()}
        return detect_drift(ref_s, cur_s)

    return by_hand_drift, "profile_data x2 + detect_drift (by hand)"


def _steward_worker(data_dir: Path, source: str, by_hand: bool) -> dict[str, Any]:
    import pandas  # noqa: F401  (pyarrow's to_numpy imports it; Evidently's side has it too)
    import pyarrow.parquet as pq

    import mlsteward

    drift, how = steward_drift_fn(by_hand=by_hand)

    paths = (data_dir / "reference.parquet", data_dir / "current.parquet")
    inputs: tuple[Any, Any]
    if source == "pandas":
        import pandas as pd

        inputs = (pd.read_parquet(paths[0]), pd.read_parquet(paths[1]))
    elif source == "arrow":
        inputs = (pq.read_table(paths[0]), pq.read_table(paths[1]))
    else:
        inputs = paths
    loaded = _peak_mb()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    result = drift(*inputs)
    doc = result.to_dict()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_s() - cpu0,
        "peak_mb": _peak_mb(),
        "loaded_mb": loaded,
        "flagged": sorted(doc["drifted_columns"]),
        "missing_jumps": sorted(doc["missing_jumps"]),
        "how": how,
        "version": getattr(mlsteward, "__version__", "?"),
        "columns": {c["name"]: [c["method"], c["value"], c["threshold"]] for c in doc["columns"]},
    }


# -- the parent --------------------------------------------------------------------------------


def run_child(python: str, args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [python, str(Path(__file__).resolve()), *args, "--out", out.name]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
        if proc.returncode != 0:
            sys.exit(f"child failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(Path(out.name).read_text())
        return result


def load_average() -> float:
    return os.getloadavg()[0]


def measure(jobs: list[tuple[str, str, list[str], int]]) -> dict[str, list[dict[str, Any]]]:
    """Run every job its number of times, round-robin, so drift on the machine hits all."""
    samples: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in jobs}
    for round_ in range(max(runs for *_, runs in jobs)):
        for label, python, child_args, runs in jobs:
            if round_ >= runs:
                continue
            r = run_child(python, child_args)
            r["load_1min"] = load_average()
            samples[label].append(r)
            print(
                f"  {label} run {round_ + 1}/{runs}: {r['seconds']:.2f} s "
                f"(load {r['load_1min']:.2f})",
                file=sys.stderr,
                flush=True,
            )
    return samples


def summarise(label: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    last = found[-1]
    return {
        "label": label,
        "runs": len(found),
        "seconds": statistics.median(r["seconds"] for r in found),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in found),
        "peak_mb": max(r["peak_mb"] for r in found),
        "loaded_mb": max(r["loaded_mb"] for r in found),
        "flagged": last["flagged"],
        "missing_jumps": last["missing_jumps"],
    }


def print_table(rows: int, summary: list[dict[str, Any]]) -> None:
    print(f"data: {rows:,} rows x 20 columns a side (15 numeric, 5 categorical, up to 20,000")
    print(f"      categories); planted: {PLANTED}")
    head = f"{'tool (input)':<44}{'runs':>5}{'median s':>10}{'CPU s':>8}{'peak MB':>9}"
    print(head + f"{'load MB':>9}  flagged (missing-rate jumps)")
    for s in summary:
        flagged = ", ".join(s["flagged"]) or "-"
        jumps = f" ({', '.join(s['missing_jumps'])})" if s["missing_jumps"] else ""
        print(
            f"{s['label']:<44}{s['runs']:>5}{s['seconds']:>10.2f}{s['cpu_seconds']:>8.2f}"
            f"{s['peak_mb']:>9.0f}{s['loaded_mb']:>9.0f}  {flagged}{jumps}"
        )
    print("('load MB' is the peak after reading the inputs, before the timed part)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="mlsteward runs per input")
    parser.add_argument("--evidently-runs", type=int, default=1)
    parser.add_argument("--evidently-python", default="/tmp/evidently-venv/bin/python")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument(
        "--inputs",
        default="pandas,arrow,paths",
        help="mlsteward inputs to time, comma-separated (pandas,arrow,paths)",
    )
    parser.add_argument("--by-hand", action="store_true", help="ignore compare.drift")
    parser.add_argument("--data-dir", type=Path, help="keep the Parquet files here")
    parser.add_argument("--json", type=Path, help="write every sample and the set-up here")
    parser.add_argument("--worker", choices=["evidently", "pandas", "arrow", "paths"])
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:  # inside a child process
        if args.worker == "evidently":
            result = _evidently_worker(args.data)
        else:
            result = _steward_worker(args.data, args.worker, args.by_hand)
        args.out.write_text(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        t0 = time.perf_counter()
        write_data(data_dir, args.rows)
        print(f"data in {data_dir} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        jobs = []
        if not args.skip_evidently:
            ev_args = ["--worker", "evidently", "--data", str(data_dir)]
            jobs.append((EVIDENTLY, args.evidently_python, ev_args, args.evidently_runs))
        extra = ["--by-hand"] if args.by_hand else []
        for source in args.inputs.split(","):
            label = f"mlsteward drift ({'Parquet paths' if source == 'paths' else source})"
            st_args = ["--worker", source, "--data", str(data_dir), *extra]
            jobs.append((label, sys.executable, st_args, args.runs))
        load_before = load_average()
        samples = measure(jobs)
        load_after = load_average()

    summary = [summarise(label, found) for label, found in samples.items()]
    if not args.skip_evidently:
        version = samples[EVIDENTLY][0]["version"]
        summary[0]["label"] = f"Evidently {version} DataDriftPreset (pandas)"
    print_table(args.rows, summary)
    steward = [s for s in summary if s["label"].startswith("mlsteward")]
    how = next(iter(samples[steward[0]["label"]]))["how"] if steward else "-"
    print(f"mlsteward path: {how}")
    print(
        f"planted shifts: {', '.join(SHIFTED)}; 1-min load average {load_before:.2f} -> "
        f"{load_after:.2f}; {os.cpu_count()} CPUs"
    )
    if steward:
        first = steward[0]
        if not args.skip_evidently:
            ratio = summary[0]["seconds"] / first["seconds"]
            cpu_ratio = summary[0]["cpu_seconds"] / first["cpu_seconds"]
            verdict = "met" if ratio >= 30 else "MISSED"
            print(
                f"Evidently / {first['label']}: {ratio:.1f}x faster in wall time "
                f"(target >= 30x: {verdict}); {cpu_ratio:.1f}x in CPU time"
            )
        peak = max(s["peak_mb"] for s in steward)
        verdict = "met" if peak < 1024 else "MISSED"
        print(f"mlsteward peak memory: {peak:.0f} MB (target < 1 GB: {verdict})")
    if args.json:
        doc = {
            "rows": args.rows,
            "planted": PLANTED,
            "summary": summary,
            "samples": samples,
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
