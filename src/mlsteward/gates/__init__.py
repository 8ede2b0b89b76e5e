"""Validation gates: a policy per alias, checked by one engine, leaving verdict records.

from mlsteward.gates import run_gate

verdict = run_gate("churn", 3, policy="production", data="churn-eval@2", label="churned")
verdict.passed, verdict.checks
"""

from mlsteward.gates.checks import CHECKS, Check, CheckResult, Evaluation
from mlsteward.gates.engine import GateReport, Verdict, evaluate, read_frame, run_gate

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "Evaluation",
    "GateReport",
    "Verdict",
    "evaluate",
    "read_frame",
    "run_gate",
]
