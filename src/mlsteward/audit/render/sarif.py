"""SARIF 2.1.0 for GitHub code scanning (``github/codeql-action/upload-sarif``).

What GitHub needs, and this log guarantees:

- one run whose ``tool.driver`` describes every rule that has a result, with its
  documentation as ``help.markdown`` and a default level from its severity;
- every result has a physical location with a repository-relative ``uri`` (base
  ``%SRCROOT%``) and a ``startLine`` of at least 1: GitHub rejects results without one,
  so a repository-level finding is anchored at line 1 of its file, or of ``README.md``
  when it names no file;
- ``partialFingerprints`` from the audit's own line-independent fingerprint, so an alert
  survives code moving around it;
- suppressed findings carry ``suppressions`` (``inSource`` for inline comments,
  ``external`` for configuration) with the team's reason, and when a baseline was used
  every result says whether it is ``new`` or ``unchanged``.

The log holds no timestamps or absolute paths: the same report gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from mlsteward.audit.report import Finding, Report, RuleResult
from mlsteward.audit.rule import DOC_SECTIONS, Rule
from mlsteward.errors import UnknownIdError

__all__ = ["INFORMATION_URI", "LEVELS", "SCHEMA_URI", "render", "sarif_log"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mlsteward/mlsteward"
#: severity -> SARIF level (result and rule default)
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
#: severity -> GitHub's ``problem.severity`` for non-security alerts
_PROBLEM = {"high": "error", "medium": "warning", "low": "recommendation"}
#: where a finding that names no file is shown (GitHub needs a file for every alert)
ANCHOR = "README.md"
_SUPPRESSION_KIND = {"inline": "inSource"}  # config, per-path -> external
FINGERPRINT_KEY = "mlstewardFingerprint/v1"


def render(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    """The report as a SARIF log (a dict ready for `json.dumps`)."""
    by_code = {r.code: r for r in report.rules}
    codes = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(codes)}
    baseline = _baseline_used(report)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mlsteward",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(code, by_code.get(code), report) for code in codes],
            }
        },
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {
            "%SRCROOT%": {"description": {"text": "The root of the audited repository."}}
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], baseline) for f in report.findings],
        "properties": {
            "profile": report.profile,
            "readinessScore": None if report.score is None else round(report.score, 1),
            "mlTestScore": report.ml_test_score.final,
            "readiness": report.readiness,
        },
    }
    provenance = _provenance(report)
    if provenance:
        run["versionControlProvenance"] = [provenance]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _baseline_used(report: Report) -> bool:
    return report.baseline_used


def _lookup(code: str) -> Rule | None:
    from mlsteward.audit.registry import get_rule

    try:
        return get_rule(code)
    except UnknownIdError:  # a rule pack that is no longer installed
        return None


def _rule(code: str, result: RuleResult | None, report: Report) -> dict[str, Any]:
    rule = _lookup(code)
    finding = next(f for f in report.findings if f.code == code)
    name = rule.name if rule else finding.name
    severity = rule.severity if rule else finding.severity
    title = rule.title if rule else (result.title if result else name)
    practices = rule.practices if rule else (result.practices if result else ())
    summary = (rule.summary if rule else "") or title
    family = code.rstrip("0123456789")
    out: dict[str, Any] = {
        "id": code,
        "name": name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": summary},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {
            "tags": [family, *practices],
            "precision": _precision(rule, family),
            "problem.severity": _PROBLEM[severity],
        },
    }
    if rule is not None:
        out["help"] = {"text": _help_text(rule), "markdown": rule.markdown()}
    return out


def _precision(rule: Rule | None, family: str) -> str:
    # Reading errors are facts; code rules match a syntax pattern; repository rules infer
    # a practice from the files present, which a team can follow in ways not seen.
    if family == "AUD":
        return "very-high"
    return "high" if rule is None or rule.scope == "code" else "medium"


def _help_text(rule: Rule) -> str:
    parts = [f"{rule.code} {rule.name}: {rule.title}"]
    parts += [f"{s}: {rule.doc[s]}" for s in DOC_SECTIONS if rule.doc.get(s)]
    if rule.practices:
        parts.append(f"Practices: {', '.join(rule.practices)}.")
    parts.append(f"Run `steward audit explain {rule.code}` for this page in the terminal.")
    return "\n\n".join(parts)


def _location(f: Finding) -> dict[str, Any]:
    path = (f.path or ANCHOR).replace("\\", "/").lstrip("/")
    region: dict[str, Any] = {"startLine": 1}
    # a notebook's line numbers count its code cells, not the JSON file GitHub would show
    if f.path and f.line and f.line >= 1 and not path.endswith(".ipynb"):
        region["startLine"] = f.line
        if f.column is not None and f.column >= 0:
            region["startColumn"] = f.column + 1  # the AST's 0-based offset; SARIF is 1-based
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def _result(f: Finding, rule_index: int, baseline: bool) -> dict[str, Any]:
    message = f.message
    if f.path is None:
        message += " (repository-level finding, shown on README.md)"
    out: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": message},
        "locations": [_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    if f.suppressed is not None:
        out["suppressions"] = [
            {
                "kind": _SUPPRESSION_KIND.get(f.suppressed.kind, "external"),
                "status": "accepted",
                "justification": f.suppressed.reason,
            }
        ]
    if baseline:
        out["baselineState"] = "unchanged" if f.baseline == "unchanged" else "new"
    return out


def _invocation(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"executionSuccessful": True}
    if report.errors:
        out["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": e}} for e in report.errors
        ]
    return out


def _provenance(report: Report) -> dict[str, Any] | None:
    git = report.repository.get("git") or {}
    remote, commit = git.get("remote"), git.get("commit")
    if not isinstance(remote, str) or not commit:
        return None
    try:
        parts = urlsplit(remote)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None  # an scp-style or local remote is not a URI
    # never publish credentials a remote URL may carry
    netloc = parts.hostname + (f":{port}" if port else "")
    out: dict[str, Any] = {
        "repositoryUri": urlunsplit((parts.scheme, netloc, parts.path, "", "")),
        "revisionId": str(commit),
    }
    if git.get("branch"):
        out["branch"] = str(git["branch"])
    out["mappedTo"] = {"uriBaseId": "%SRCROOT%"}
    return out
