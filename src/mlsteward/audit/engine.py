"""The audit engine: facts in, rules run, findings suppressed and baselined, scores out."""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlsteward import __version__
from mlsteward.audit.baseline import apply_baseline, fingerprint, read_baseline
from mlsteward.audit.facts import Facts
from mlsteward.audit.parallel import evaluate
from mlsteward.audit.registry import select_rules
from mlsteward.audit.report import Finding, Gate, Report, RuleResult, Suppression
from mlsteward.audit.rule import SEVERITY_ORDER, Evidence, Outcome, Rule, Status
from mlsteward.audit.scoring import categories, ml_test_score, overall, practices
from mlsteward.audit.suppress import apply_suppressions, inline_ignores
from mlsteward.catalog import load_catalog
from mlsteward.config import Settings, load_settings
from mlsteward.errors import ConfigError, PathError, UsageError

__all__ = ["AuditOptions", "audit", "resolve_root"]


@dataclass(frozen=True)
class AuditOptions:
    """What the caller asks for on top of the project's own settings."""

    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    profile: str | None = None
    baseline: Path | None = None
    fail_under: float | None = None
    fail_on: str | None = None
    extra_context: dict[str, bool] = field(default_factory=dict)


def resolve_root(path: str | Path) -> Path:
    """The directory to audit, resolved.

    Raises:
        PathError: it does not exist or is not a directory.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise PathError(
            f"{path} does not exist",
            code="path-missing",
            hint="pass the directory of the repository to audit",
        )
    if not root.is_dir():
        raise PathError(
            f"{path} is not a directory",
            code="path-not-dir",
            hint="pass the repository's root directory, not a file in it",
        )
    return root.resolve()


def _settings(root: Path, facts_problem: list[tuple[str, str]]) -> Settings:
    try:
        return load_settings(root)
    except ConfigError as exc:
        # A broken pyproject.toml belongs to the audited repository: report it, go on.
        # A broken steward.toml is the caller's own configuration: stop.
        if exc.code == "config-toml" and "pyproject.toml" in exc.message:
            facts_problem.append(("pyproject.toml", exc.message))
            return Settings()
        raise


def _run(rule: Rule, facts: Facts) -> Outcome:
    if rule.applies_when:
        missing = [c for c in rule.applies_when if not facts.condition(c)]
        if missing:
            return Outcome.not_applicable(f"context {', '.join(missing)} is false")
    try:
        return rule.check(facts)
    except Exception as exc:  # one broken rule must not lose the audit
        return Outcome.unknown(f"rule crashed: {type(exc).__name__}: {exc}")


def _findings(rule: Rule, outcome: Outcome, facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[tuple[str | None, str], int] = {}
    for hit in outcome.hits:
        if hit.path is None:  # code scanning rejects a result without a file
            hit = replace(hit, path=facts.files.anchor())
        context = hit.context
        if not context and hit.line is not None and hit.path is not None and rule.scope == "code":
            module = facts.python.by_path.get(hit.path)
            context = module.line(hit.line) if module is not None else ""
        context = context or hit.message
        n = seen.get((hit.path, context), 0)
        seen[(hit.path, context)] = n + 1
        out.append(
            Finding(
                code=rule.code,
                name=rule.name,
                severity=rule.severity,
                message=hit.message,
                path=hit.path,
                line=hit.line,
                column=hit.column,
                fingerprint=fingerprint(rule.code, hit.path, context, n),
            )
        )
    return out


def audit(path: str | Path = ".", options: AuditOptions | None = None) -> Report:
    """Audit the repository at ``path`` and return the report.

    Raises:
        PathError: ``path`` is not a directory.
        ConfigError: the project's steward settings are invalid.
        UsageError: an unknown rule code or profile in the options.
        BaselineError: the baseline file cannot be read.
    """
    options = options or AuditOptions()
    root = resolve_root(path)
    early: list[tuple[str, str]] = []
    settings = _settings(root, early)
    if options.profile is not None:
        if options.profile not in ("poc", "production"):
            raise UsageError(
                f"unknown profile {options.profile!r}",
                code="unknown-profile",
                hint="use --profile poc or --profile production",
            )
        settings = replace(settings, profile=options.profile)
    facts = Facts(root, settings)
    for rel, message in early:
        facts.problem("config", rel, message)
    if options.extra_context:
        facts.set_context(options.extra_context)

    # The audit allocates millions of short-lived AST nodes and frees nothing until it
    # ends: the cyclic collector would spend most of the run scanning them for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        report = _audit(root, facts, settings, options)
    finally:
        if "python" in facts.__dict__:
            facts.python.close()  # a syntax worker nobody waited for
        if was_enabled:
            gc.enable()
    return report


def _audit(root: Path, facts: Facts, settings: Settings, options: AuditOptions) -> Report:
    cfg = settings.audit
    selected = select_rules([*cfg.select, *options.select], options.ignore)
    selected = [r for r in selected if settings.profile in r.profiles]
    for code in cfg.ignore:
        select_rules([code])  # raises on a code that matches no rule
    ignored = {code.upper(): reason for code, reason in cfg.ignore.items()}

    def ignore_reason(code: str) -> str | None:
        return next((r for c, r in ignored.items() if code.startswith(c)), None)

    # AUD rules report reading problems, so they run after every other rule has read.
    ordered = [r for r in selected if r.family != "AUD"] + [
        r for r in selected if r.family == "AUD"
    ]
    results: list[RuleResult] = []
    findings: list[Finding] = []
    unused: list[Suppression] = []
    errors: list[str] = []

    def run(rule: Rule) -> tuple[Outcome, list[Finding]]:
        outcome = _run(rule, facts)
        return outcome, _findings(rule, outcome, facts)

    evaluated = evaluate(ordered, facts, run)
    for rule in ordered:
        outcome, rule_findings = evaluated[rule.code]
        if outcome.note.startswith("rule crashed"):
            errors.append(f"{rule.code}: {outcome.note}")
        reason = ignore_reason(rule.code)
        results.append(
            RuleResult(
                rule.code,
                rule.name,
                rule.title,
                rule.severity,
                outcome.status,
                outcome.score,
                rule.practices,
                outcome.evidence,
                outcome.note,
                reason,
            )
        )
        if reason is None:
            findings.extend(rule_findings)
        elif outcome.status is Status.PASSED:  # an ignore of a rule that holds: unused
            unused.append(Suppression("config", reason, code=rule.code))

    inline = inline_ignores(facts.python) if "python" in facts.__dict__ else {}
    unused += apply_suppressions(findings, inline, cfg.per_path_ignores)
    # a rule whose every finding the team suppressed with a reason counts as followed
    by_code: dict[str, list[Finding]] = {}
    for f in findings:
        by_code.setdefault(f.code, []).append(f)
    for i, r in enumerate(results):
        fs = by_code.get(r.code, [])
        if r.status is Status.FAILED and fs and all(f.suppressed for f in fs):
            results[i] = replace(
                r,
                status=Status.PASSED,
                score=1.0,
                evidence=(*r.evidence, Evidence(f"{len(fs)} finding(s) suppressed with a reason")),
            )

    baseline_path = options.baseline or (root / cfg.baseline if cfg.baseline else None)
    baseline_used = baseline_path is not None
    if baseline_path is not None:
        for fp in apply_baseline(findings, read_baseline(baseline_path)):
            unused.append(Suppression("baseline", "fixed since the baseline was written", code=fp))

    catalog = load_catalog()
    practice_results = practices(
        catalog, results, facts.context, settings.declare, frozenset(facts.files.files)
    )
    mts = ml_test_score(practice_results)
    findings.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.code, f.path or "", f.line or 0))
    report = Report(
        repository=_repository(root, facts),
        profile=settings.profile,
        context=dict(facts.context),
        score=overall(practice_results),
        ml_test_score=mts,
        categories=categories(catalog, practice_results),
        practices=practice_results,
        rules=results,
        findings=findings,
        unused_suppressions=unused,
        tool_version=__version__,
        config_source=settings.source,
        errors=errors,
        baseline_used=baseline_used,
    )
    report.gate = evaluate_gate(
        report,
        options.fail_under if options.fail_under is not None else cfg.fail_under,
        options.fail_on if options.fail_on is not None else cfg.fail_on,
    )
    return report


def evaluate_gate(report: Report, fail_under: float | None, fail_on: str | None) -> Gate:
    """Decide whether the report passes the gate the caller set."""
    gate = Gate(fail_under=fail_under, fail_on=fail_on)
    if fail_under is not None:
        score = report.score or 0.0
        if score < fail_under:
            gate.reasons.append(f"score {score:.1f} is under --fail-under {fail_under:g}")
    if fail_on is not None:
        if fail_on not in SEVERITY_ORDER:
            raise UsageError(
                f"--fail-on must be one of {', '.join(SEVERITY_ORDER)}, got {fail_on!r}",
                code="usage-value",
                hint="use --fail-on high",
            )
        floor = SEVERITY_ORDER[fail_on]
        hits = [f for f in report.active_findings() if SEVERITY_ORDER[f.severity] >= floor]
        if hits:
            gate.reasons.append(f"{len(hits)} new finding(s) at severity {fail_on} or above")
    gate.passed = not gate.reasons
    return gate


def _repository(root: Path, facts: Facts) -> dict[str, object]:
    git = facts.git
    return {
        "name": root.name,
        "git": {
            "is_repo": git.is_repo,
            "commit": git.commit,
            "branch": git.branch,
            "remote": scrub_url(next(iter(git.remotes.values()), None)),
        },
        "files": len(facts.files),
    }


def scrub_url(url: str | None) -> str | None:
    """A remote URL without credentials (``https://user:token@host`` -> ``https://host``)."""
    if url is None:
        return None
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url)
