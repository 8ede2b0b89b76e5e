"""The reproducibility check (ML Test Score, Infra 1): train twice, compare the metrics.

The policy names the user's own training command; the gate runs it twice in the
project root (no shell, with a timeout), takes the newest run each invocation logged
with mlsteward, and compares the named metrics of the two runs within a tolerance.
"""

from __future__ import annotations

import math
import subprocess
import time
from typing import Any

from mlsteward.gates.checks import CheckResult, Evaluation

__all__ = ["check_reproducibility"]


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def _train_once(project: Any, argv: tuple[str, ...], timeout: float) -> tuple[Any, str | None]:
    """Run the command; return the newest run it logged (or None) and why it failed."""
    from sqlalchemy import select

    from mlsteward.store.database import open_store
    from mlsteward.store.schema import runs
    from mlsteward.store.views import get_run

    started = time.time()
    try:
        done = subprocess.run(
            list(argv), cwd=project.root, timeout=timeout, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
    except FileNotFoundError:
        return None, f"command {argv[0]!r} not found"
    except subprocess.TimeoutExpired:
        return None, f"the command ran over its timeout of {timeout:g} s"
    if done.returncode != 0:
        return None, f"the command exited with {done.returncode}: {_tail(done.stderr)}"
    with open_store(project).read() as conn:
        newest = conn.execute(
            select(runs.c.id)
            .where(runs.c.start_time >= started)
            .order_by(runs.c.start_time.desc())
            .limit(1)
        ).scalar()
        if newest is None:
            return None, "the command logged no run with mlsteward"
        return get_run(conn, newest), None


def check_reproducibility(ev: Evaluation) -> CheckResult:
    """Run the policy's training command twice and compare the named metrics."""
    spec = ev.policy.reproducibility
    assert spec is not None
    expected = {
        "command": " ".join(spec.argv),
        "metrics": list(spec.metrics),
        "tolerance": spec.tolerance,
    }
    if ev.project is None:
        return CheckResult(
            "reproducibility", False, {}, expected, "no project to run the command in"
        )
    found: list[Any] = []
    for attempt in (1, 2):
        run, problem = _train_once(ev.project, spec.argv, spec.timeout)
        if problem is not None:
            return CheckResult(
                "reproducibility", False, {"runs": [r.id for r in found]}, expected,
                f"training run {attempt}: {problem}",
            )  # fmt: skip
        found.append(run)
    first, second = found
    measured: dict[str, Any] = {"runs": [first.id, second.id]}
    problems = []
    for name in spec.metrics:
        a, b = first.metrics.get(name), second.metrics.get(name)
        measured[name] = [a, b]
        if a is None or b is None:
            problems.append(f"{name} was not logged by both runs")
        elif not (abs(a - b) <= spec.tolerance or (math.isnan(a) and math.isnan(b))):
            problems.append(f"{name}: {a:.6g} vs {b:.6g} (differ by {abs(a - b):.3g})")
    return CheckResult(
        "reproducibility",
        not problems,
        measured,
        expected,
        "; ".join(problems)
        or f"two trainings agree on {', '.join(spec.metrics)} within {spec.tolerance:g}",
    )
