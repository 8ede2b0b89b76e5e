"""The audit report: one model that every output format renders.

`Report.to_dict` is the JSON document, whose shape is versioned by `SCHEMA_VERSION` and
described by ``docs/schema/audit-report.schema.json`` (a test validates every report against
it). The report holds no timestamps and no absolute paths, so two audits of the same
commit give the same bytes, and reports can be diffed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlsteward.audit.rule import SEVERITY_ORDER, Evidence, Status, Strength

__all__ = [
    "ADOPTION_LEVELS",
    "SCHEMA_VERSION",
    "CategoryScore",
    "Finding",
    "Gate",
    "MLTestScore",
    "PracticeResult",
    "Report",
    "RuleResult",
    "Suppression",
]

SCHEMA_VERSION = "1.0"

#: the SE-ML survey's adoption scale, plus the two states that are not a level
ADOPTION_LEVELS = ("not_adopted", "partially", "mostly", "completely")
ADOPTION_VALUE = {"not_adopted": 0.0, "partially": 1 / 3, "mostly": 2 / 3, "completely": 1.0}


@dataclass(frozen=True)
class Suppression:
    kind: str  # inline | config | per-path | baseline
    reason: str
    path: str | None = None
    line: int | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    message: str
    path: str | None
    line: int | None
    #: 0-based column offset, as the AST gives it (SARIF adds 1)
    column: int | None = None
    fingerprint: str = ""
    suppressed: Suppression | None = None
    baseline: str = "new"  # new | unchanged

    @property
    def active(self) -> bool:
        """Counts for the gate: not suppressed and not already in the baseline."""
        return self.suppressed is None and self.baseline == "new"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "fingerprint": self.fingerprint,
            "suppressed": self.suppressed.as_dict() if self.suppressed else None,
            "baseline": self.baseline,
        }


@dataclass
class RuleResult:
    code: str
    name: str
    title: str
    severity: str
    status: Status
    score: float
    practices: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    note: str = ""
    ignored: str | None = None  # the reason, when config ignores the rule

    @property
    def strength(self) -> Strength | None:
        if self.status not in (Status.PASSED, Status.PARTIAL) or not self.evidence:
            return None
        return max(e.strength for e in self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "title": self.title,
            "severity": self.severity,
            "status": self.status.value,
            "score": round(self.score, 3),
            "strength": self.strength.label if self.strength else None,
            "practices": list(self.practices),
            "evidence": [e.as_dict() for e in self.evidence],
            "note": self.note,
            "ignored": self.ignored,
        }


@dataclass
class PracticeResult:
    id: str
    title: str
    catalog: str
    category: str
    adoption: str  # one of ADOPTION_LEVELS, or not_applicable, unknown
    score: float | None
    strength: Strength | None
    rules: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    note: str = ""
    points: float | None = None  # ML Test Score tests only: 0, 0.5 or 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "catalog": self.catalog,
            "category": self.category,
            "adoption": self.adoption,
            "score": None if self.score is None else round(self.score, 3),
            "strength": self.strength.label if self.strength else None,
            "rules": list(self.rules),
            "evidence": [e.as_dict() for e in self.evidence],
            "note": self.note,
        }
        if self.points is not None:
            out["points"] = self.points
        return out


@dataclass
class MLTestScore:
    data: float
    model: float
    infrastructure: float
    monitoring: float
    final: float
    band: str
    applicable: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "model": self.model,
            "infrastructure": self.infrastructure,
            "monitoring": self.monitoring,
            "final": self.final,
            "band": self.band,
            "applicable": self.applicable,
        }


@dataclass
class CategoryScore:
    catalog: str
    category: str
    adoption: float | None  # 0..1 over the practices whose adoption is known
    known: int
    applicable: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "category": self.category,
            "adoption": None if self.adoption is None else round(self.adoption, 3),
            "known": self.known,
            "applicable": self.applicable,
            "total": self.total,
        }


@dataclass
class Gate:
    passed: bool = True
    reasons: list[str] = field(default_factory=list)
    fail_under: float | None = None
    fail_on: str | None = None


@dataclass
class Report:
    repository: dict[str, Any]
    profile: str
    context: dict[str, bool]
    score: float | None
    ml_test_score: MLTestScore
    categories: list[CategoryScore]
    practices: list[PracticeResult]
    rules: list[RuleResult]
    findings: list[Finding]
    unused_suppressions: list[Suppression] = field(default_factory=list)
    gate: Gate = field(default_factory=Gate)
    tool_version: str = ""
    config_source: str | None = None
    errors: list[str] = field(default_factory=list)
    #: whether findings were compared with a baseline file
    baseline_used: bool = False

    @property
    def readiness(self) -> str:
        return self.ml_test_score.band

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.active]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in self.active_findings():
            out[f.severity] += 1
        return out

    def adoption_counts(self) -> dict[str, int]:
        out = dict.fromkeys((*ADOPTION_LEVELS, "not_applicable", "unknown"), 0)
        for p in self.practices:
            out[p.adoption] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "mlsteward", "version": self.tool_version},
            "repository": self.repository,
            "profile": self.profile,
            "context": self.context,
            "config_source": self.config_source,
            "summary": {
                "score": None if self.score is None else round(self.score, 1),
                "readiness": self.readiness,
                "ml_test_score": self.ml_test_score.final,
                "findings": self.counts(),
                "adoption": self.adoption_counts(),
            },
            "gate": {
                "passed": self.gate.passed,
                "reasons": self.gate.reasons,
                "fail_under": self.gate.fail_under,
                "fail_on": self.gate.fail_on,
                "baseline": self.baseline_used,
            },
            "ml_test_score": self.ml_test_score.as_dict(),
            "categories": [c.as_dict() for c in self.categories],
            "practices": [p.as_dict() for p in self.practices],
            "rules": [r.as_dict() for r in self.rules],
            "findings": [f.as_dict() for f in self.findings],
            "unused_suppressions": [s.as_dict() for s in self.unused_suppressions],
            "errors": self.errors,
        }
