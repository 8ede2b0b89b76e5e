#!/usr/bin/env python3
"""Wall time of adding one large file: `steward data add` against `dvc add`.

Both run as whole processes (start-up included) on the same machine in the same run,
each in a fresh project holding its own copy of the same file of random bytes:

- DVC: ``git init`` and ``dvc init`` (not timed), then ``dvc add big.bin`` (timed).
- steward: ``git init``, a pyproject, and ``steward data list`` to create the store (not
  timed, the counterpart of ``dvc init``), then ``steward data add big.bin --name big``
  (timed).

Then each adds the unchanged file again (timed): DVC answers from its state database,
steward from its stat cache. The pairs alternate order run by run so drift on the
machine hits both, and the median of each is reported.

The copy's mtime is set an hour back, as for a file that has sat on disk a while (a
file written a second ago is not trusted to either tool's stat cache). The page cache
cannot be dropped here (no root in the container), so both tools read a
warm file: the copy into the project has just been written, and ``sync`` runs before
each timed command so neither pays for the other's write-back.

Only the standard library is used. See benchmarks/README.md, section "add vs dvc".

    python3 benchmarks/add_vs_dvc.py                       # 1 GiB, 3 runs
    python3 benchmarks/add_vs_dvc.py --size-mib 256 --runs 5 --json /tmp/add.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
CHUNK = 64 << 20


def make_input(path: Path, size: int) -> None:
    """A file of ``size`` random bytes (kept between runs when it already fits)."""
    if path.exists() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(CHUNK, left)
            fh.write(os.urandom(n))
            left -= n


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STEWARD_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="b",
        GIT_AUTHOR_EMAIL="b@example.com",
        GIT_COMMITTER_NAME="b",
        GIT_COMMITTER_EMAIL="b@example.com",
    )
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{proc.stdout}{proc.stderr}")
    return proc


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    os.sync()
    start = time.perf_counter()
    proc = run(argv, cwd, env)
    return time.perf_counter() - start, proc.stdout


def fresh_project(base: Path, name: str, source: Path, env: dict[str, str]) -> Path:
    root = base / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    run(["git", "init", "-q"], root, env)
    shutil.copyfile(source, root / "big.bin")
    # A dataset has usually sat on disk a while before it is added; a file written in
    # the last second or two would not be trusted to a stat cache (racily clean).
    old = time.time() - 3600
    os.utime(root / "big.bin", (old, old))
    return root


def one_pair(
    i: int, base: Path, source: Path, dvc: str, steward: str, env: dict[str, str]
) -> dict[str, float]:
    times: dict[str, float] = {}
    order = ("dvc", "steward") if i % 2 == 0 else ("steward", "dvc")
    for tool in order:
        root = fresh_project(base, f"{tool}-{i}", source, env)
        if tool == "dvc":
            run([dvc, "init", "-q"], root, env)
            run([dvc, "config", "core.analytics", "false"], root, env)
            times["dvc add"], _ = timed([dvc, "add", "-q", "big.bin"], root, env)
            assert (root / "big.bin.dvc").exists()
            times["dvc re-add"], _ = timed([dvc, "add", "-q", "big.bin"], root, env)
        else:
            (root / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n')
            run([steward, "data", "list"], root, env)  # creates the store: like `dvc init`
            argv = [steward, "data", "add", "big.bin", "--name", "big", "--quiet"]
            times["steward add"], out = timed(argv, root, env)
            assert out.startswith("big@1 "), out
            times["steward re-add"], out = timed(argv, root, env)
            assert out.startswith("unchanged: big@1"), out
        shutil.rmtree(root)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dvc", default="/tmp/dvc-venv/bin/dvc")
    parser.add_argument("--steward", default=str(REPO_ROOT / ".venv" / "bin" / "steward"))
    parser.add_argument("--workdir", default="/tmp/add-vs-dvc")
    parser.add_argument("--json", help="write every sample and the set-up here")
    args = parser.parse_args()

    env = clean_env()
    base = Path(args.workdir)
    source = base / f"random-{args.size_mib}MiB.bin"
    make_input(source, args.size_mib << 20)
    dvc_version = run([args.dvc, "--version"], base, env).stdout.strip()
    samples = []
    for i in range(args.runs):
        pair = one_pair(i, base, source, args.dvc, args.steward, env)
        samples.append(pair)
        load = os.getloadavg()[0]
        print(
            f"run {i + 1}: " + "  ".join(f"{k} {v:.2f} s" for k, v in pair.items()),
            f"(load {load:.1f})",
            file=sys.stderr,
        )

    def median(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    print(f"\n{args.size_mib} MiB of random bytes, median of {args.runs}, warm page cache")
    print(f"dvc {dvc_version}; steward at {REPO_ROOT}; {platform.platform()}\n")
    print("| step | dvc s | steward s | dvc / steward |")
    print("|---|---:|---:|---:|")
    for step in ("add", "re-add"):
        d, s = median(f"dvc {step}"), median(f"steward {step}")
        label = "add (fresh project)" if step == "add" else "re-add unchanged"
        print(f"| {label} | {d:.2f} | {s:.2f} | {d / s:.2f} |")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "size_mib": args.size_mib,
                    "dvc": dvc_version,
                    "machine": platform.platform(),
                    "cpus": os.cpu_count(),
                    "samples": samples,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
