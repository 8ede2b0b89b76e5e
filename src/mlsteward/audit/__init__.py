"""``steward audit``: score a repository against the practice catalogs, with evidence."""

from __future__ import annotations

from mlsteward.audit.engine import AuditOptions, audit, evaluate_gate, resolve_root
from mlsteward.audit.report import Finding, Report

__all__ = ["AuditOptions", "Finding", "Report", "audit", "evaluate_gate", "resolve_root"]
