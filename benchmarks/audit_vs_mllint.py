#!/usr/bin/env python3
"""Whole-process wall time and peak memory: `steward audit` against mllint 0.12.2.

Both tools run as whole processes (start-up included) on the same repositories in the
same run. Each tool first runs once per repository as a warm-up (page cache, pylint's
~/.cache/pylint stats, Python bytecode caches); that run is not timed into the median.
Then the timed runs alternate mllint, steward, mllint, steward, ... so that drift on the
machine hits both alike, and the median of each tool's runs is reported.

Peak memory is ru_maxrss from os.wait4 on each child: on Linux that is the largest
resident set of any single process in the child's tree (mllint's Go binary or one of the
linters it starts), not the sum of processes running at the same time.

Only the standard library is used. See benchmarks/README.md, section "audit vs mllint".

    python3 benchmarks/audit_vs_mllint.py                      # every dir under /tmp/repos
    python3 benchmarks/audit_vs_mllint.py /tmp/repos/nanoGPT --runs 5 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DEFAULT_REPOS = Path("/tmp/repos")
DEFAULT_MLLINT_VENV = Path("/tmp/mllint-venv")
MLLINT_TIMEOUT_S = 600.0
STEWARD_TIMEOUT_S = 600.0
# "under 2 s on a repository of about 4,000 files": checked for trees this large or larger.
LARGE_REPO_FILES = 3000
TARGET_S = 2.0


@dataclass
class Sample:
    seconds: float
    exit_code: int | None  # None: killed at the timeout
    max_rss_kib: int
    cpu_seconds: float  # user + sys of the whole process tree
    timed_out: bool = False
    stderr_tail: str = ""
    loadavg_1m: float = 0.0  # at the end of the run: other work on the machine shows here


@dataclass
class ToolResult:
    warmup: Sample | None = None
    runs: list[Sample] = field(default_factory=list)

    def timed_out(self) -> bool:
        return any(s.timed_out for s in [*self.runs, *([self.warmup] if self.warmup else [])])

    def median_seconds(self) -> float | None:
        done = [s.seconds for s in self.runs if not s.timed_out]
        return statistics.median(done) if done and len(done) == len(self.runs) else None

    def peak_rss_mib(self) -> float | None:
        rss = [s.max_rss_kib for s in self.runs]
        return max(rss) / 1024 if rss else None

    def median_cpu(self) -> float | None:
        cpu = [s.cpu_seconds for s in self.runs if not s.timed_out]
        return statistics.median(cpu) if cpu else None

    def exit_codes(self) -> list[int | None]:
        return [s.exit_code for s in self.runs]


@dataclass
class RepoResult:
    repo: str
    path: str
    files: int
    mllint: ToolResult
    steward: ToolResult


def run_measured(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Sample:
    """Run argv as one process tree; wall time, exit code and rusage of that tree."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # so a timeout can end the linters mllint started
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # we reaped it ourselves; keep Popen consistent
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace") if code != 0 else ""
    return Sample(
        seconds=seconds,
        exit_code=None if fired.is_set() else code,
        max_rss_kib=usage.ru_maxrss,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        timed_out=fired.is_set(),
        stderr_tail=tail,
        loadavg_1m=os.getloadavg()[0],
    )


def git_file_count(path: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(path), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    return out.count(b"\0")


def find_mllint() -> Path | None:
    """The Go binary inside the mllint wheel, else `mllint` on PATH (a Python wrapper)."""
    hits = sorted(DEFAULT_MLLINT_VENV.glob("lib/python3*/site-packages/mllint/mllint-exe"))
    if hits:
        return hits[0]
    found = shutil.which("mllint")
    return Path(found) if found else None


def venv_bin_of(path: Path) -> Path | None:
    """The bin/ of the virtual environment that holds path, if any (for the linters)."""
    for parent in path.resolve().parents:
        if (parent / "pyvenv.cfg").is_file() and (parent / "bin").is_dir():
            return parent / "bin"
    return None


def tool_version(argv: list[str], env: dict[str, str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else f"exit {out.returncode}"


def machine_info() -> dict[str, str]:
    info = {
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kib = int(meminfo[0].split(":", 1)[1].split()[0])
        info["mem_total"] = f"{kib / 1024**2:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def steward_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def codes(tool: ToolResult) -> str:
    seen = sorted({("T/O" if c is None else str(c)) for c in tool.exit_codes()})
    return ",".join(seen) or "-"


def table(results: list[RepoResult]) -> str:
    head = (
        "| repository | files | mllint s | steward s | ratio | mllint MiB | steward MiB "
        "| mllint CPU s | steward CPU s | exit m/s | < 2 s @ ~4k |"
    )
    rows = [head, "|" + "---|" * 11]
    for r in results:
        m, s = r.mllint.median_seconds(), r.steward.median_seconds()
        ratio = m / s if m is not None and s else None
        m_txt = fmt(m)
        ratio_txt = fmt(ratio, ".1f")
        if r.mllint.timed_out():
            m_txt = f"timeout (> {MLLINT_TIMEOUT_S:.0f})"
            ratio_txt = f"> {MLLINT_TIMEOUT_S / s:.0f}" if s else "-"
        s_txt = f"timeout (> {STEWARD_TIMEOUT_S:.0f})" if r.steward.timed_out() else fmt(s, ".3f")
        check = "n/a"
        if r.files >= LARGE_REPO_FILES:
            check = "-" if s is None else ("yes" if s < TARGET_S else "**no**")
        rows.append(
            f"| {r.repo} | {r.files:,} | {m_txt} | {s_txt} | {ratio_txt}"
            f" | {fmt(r.mllint.peak_rss_mib(), '.0f')} | {fmt(r.steward.peak_rss_mib(), '.0f')}"
            f" | {fmt(r.mllint.median_cpu())} | {fmt(r.steward.median_cpu())}"
            f" | {codes(r.mllint)} / {codes(r.steward)} | {check} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("repos", nargs="*", type=Path, help=f"default: every dir under {DEFAULT_REPOS}")
    add("--mllint", type=Path, help="mllint binary (default: the Go binary in /tmp/mllint-venv)")
    add("--tools-bin", type=Path, help="put first on PATH for mllint (default: --mllint's venv)")
    add("--steward", type=Path, default=REPO_ROOT / ".venv/bin/steward")
    add("--runs", type=int, default=3, help="timed runs per tool and repository (median)")
    add("--json", type=Path, help="write every sample and the set-up here")
    add("--skip-mllint", action="store_true", help="time steward alone")
    args = parser.parse_args(argv)

    repos = args.repos or sorted(p for p in DEFAULT_REPOS.iterdir() if p.is_dir())
    repos = [p.resolve() for p in repos]
    for p in repos:
        if not (p / ".git").exists():
            parser.error(f"{p} is not a git work tree (make it with benchmarks/repos.sh)")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    mllint = args.mllint or find_mllint()
    if not args.skip_mllint and (mllint is None or not mllint.exists()):
        parser.error("mllint not found: give --mllint (see benchmarks/README.md)")
    if not args.steward.exists():
        parser.error(f"steward not found at {args.steward}")

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    # Both tools run as a user runs them: Python may keep its bytecode caches (a session
    # or CI shell that sets PYTHONDONTWRITEBYTECODE recompiles every module on every run,
    # which taxes steward's start-up and mllint's Python linters alike).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    tools_bin = args.tools_bin or (venv_bin_of(mllint) if mllint else None)
    mllint_env = dict(env)
    if tools_bin:
        mllint_env["PATH"] = f"{tools_bin}{os.pathsep}{env.get('PATH', '')}"
    mllint_env["NO_COLOR"] = "1"

    setup = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "runs": args.runs,
        "steward": str(args.steward),
        "steward_version": tool_version([str(args.steward), "--version"], env),
        "steward_revision": steward_revision(),
        "mllint": str(mllint),
        "mllint_version": (
            "skipped" if args.skip_mllint else tool_version([str(mllint), "version"], mllint_env)
        ),
        "mllint_tools_path": str(tools_bin),
    }
    if tools_bin and not args.skip_mllint:
        setup["mllint_tools"] = {
            t: tool_version([str(tools_bin / t), flag], mllint_env)
            for t, flag in (
                ("pylint", "--version"),
                ("mypy", "--version"),
                ("black", "--version"),
                ("isort", "--version-number"),
                ("bandit", "--version"),
                ("dvc", "--version"),
            )
        }
    print(json.dumps(setup, indent=2), file=sys.stderr)

    results: list[RepoResult] = []
    with tempfile.TemporaryDirectory(prefix="mllint-out-") as scratch:
        report = Path(scratch) / "report.md"
        # mllint joins an absolute project path onto its working directory, so it runs
        # inside the repository on "."; -f replaces the report file of the previous run.
        mllint_argv = [str(mllint), "run", ".", "--progress-plain", "-f", "-o", str(report)]

        for path in repos:
            steward_argv = [
                str(args.steward),
                "audit",
                str(path),
                "--format",
                "json",
                "-o",
                os.devnull,
                "--exit-zero",
            ]
            res = RepoResult(path.name, str(path), git_file_count(path), ToolResult(), ToolResult())
            print(f"{path.name}: {res.files} files", file=sys.stderr, flush=True)
            for i in range(args.runs + 1):
                label = "warm-up" if i == 0 else f"run {i}"
                pairs: list[tuple[str, ToolResult, list[str], dict[str, str], float]] = [
                    ("steward", res.steward, steward_argv, env, STEWARD_TIMEOUT_S)
                ]
                if not args.skip_mllint:
                    mllint_run = ("mllint", res.mllint, mllint_argv, mllint_env, MLLINT_TIMEOUT_S)
                    pairs.insert(0, mllint_run)
                for name, tool, cmd, tool_env, timeout in pairs:
                    if tool.timed_out():
                        # Once past the limit it will be again: 600 s more says nothing new.
                        print(f"  {label:8} {name:8} skipped: timed out before", file=sys.stderr)
                        continue
                    sample = run_measured(cmd, path, tool_env, timeout)
                    if i == 0:
                        tool.warmup = sample
                    else:
                        tool.runs.append(sample)
                    status = "TIMEOUT" if sample.timed_out else f"exit {sample.exit_code}"
                    print(
                        f"  {label:8} {name:8} {sample.seconds:8.3f} s"
                        f"  {sample.max_rss_kib / 1024:7.0f} MiB"
                        f"  cpu {sample.cpu_seconds:7.2f} s"
                        f"  load {sample.loadavg_1m:5.2f}  {status}",
                        file=sys.stderr,
                        flush=True,
                    )
                    if sample.exit_code not in (0, None) and sample.stderr_tail and i == 0:
                        tail = sample.stderr_tail.strip().replace("\n", "\n    ")
                        print(f"    stderr: {tail}", file=sys.stderr)
            results.append(res)

    machine = setup["machine"]
    assert isinstance(machine, dict)
    print(
        f"\n{setup['date']}  {machine.get('cpus')} CPUs, {machine.get('mem_total')}; "
        f"median of {args.runs} timed runs after 1 warm-up; "
        f"steward {setup['steward_revision']}, {setup['mllint_version']}"
    )
    print(table(results))
    if args.json:
        payload = {"setup": setup, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
