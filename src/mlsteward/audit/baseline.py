"""Baselines: accept today's findings, fail only on new ones.

A baseline file lists finding fingerprints. A fingerprint hashes the rule code, the path
and the finding's context (the normalised source line for code findings), never the line
number, so moving code around does not make old findings new. Baselines only shrink:
``steward audit --write-baseline`` writes the current findings; entries that no longer
match are reported as fixed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mlsteward._internal.atomic import write_text_atomic
from mlsteward.audit.report import Finding
from mlsteward.errors import BaselineError

__all__ = ["BASELINE_VERSION", "apply_baseline", "fingerprint", "read_baseline", "write_baseline"]

BASELINE_VERSION = 1


def fingerprint(code: str, path: str | None, context: str, occurrence: int = 0) -> str:
    """A stable id for a finding: code, path, whitespace-folded context, occurrence number."""
    norm = " ".join(context.split())
    raw = f"{code}\0{path or ''}\0{norm}\0{occurrence}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def read_baseline(path: Path) -> dict[str, dict[str, object]]:
    """Fingerprint -> entry from a baseline file.

    Raises:
        BaselineError: the file is missing, not JSON, or of another version.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BaselineError(
            f"baseline file {path} does not exist",
            code="baseline-missing",
            hint=f"create it with `steward audit --write-baseline {path}`",
        ) from exc
    except (OSError, ValueError) as exc:
        raise BaselineError(
            f"baseline file {path} is not valid JSON: {exc}",
            code="baseline-invalid",
            hint="regenerate it with `steward audit --write-baseline`",
        ) from exc
    version = data.get("version") if isinstance(data, dict) else None
    if version != BASELINE_VERSION:
        raise BaselineError(
            f"baseline file {path} has version {version!r}, expected {BASELINE_VERSION}",
            code="baseline-version",
            hint="regenerate it with `steward audit --write-baseline`",
        )
    entries = data.get("findings", [])
    if not isinstance(entries, list):
        raise BaselineError(
            f"baseline file {path}: 'findings' must be a list",
            code="baseline-invalid",
            hint="regenerate it with `steward audit --write-baseline`",
        )
    return {str(e["fingerprint"]): e for e in entries if isinstance(e, dict) and "fingerprint" in e}


def apply_baseline(findings: list[Finding], baseline: dict[str, dict[str, object]]) -> list[str]:
    """Mark findings in the baseline as unchanged; return fingerprints that are fixed."""
    seen = set()
    for f in findings:
        if f.fingerprint in baseline:
            f.baseline = "unchanged"
            seen.add(f.fingerprint)
    return sorted(set(baseline) - seen)


def write_baseline(path: Path, findings: list[Finding]) -> int:
    """Write every unsuppressed finding to a baseline file; returns how many."""
    entries = [
        {"fingerprint": f.fingerprint, "code": f.code, "path": f.path, "message": f.message}
        for f in sorted(findings, key=lambda f: (f.code, f.path or "", f.fingerprint))
        if f.suppressed is None
    ]
    doc = {"version": BASELINE_VERSION, "tool": "mlsteward", "findings": entries}
    write_text_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return len(entries)
