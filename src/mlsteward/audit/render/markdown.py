"""Markdown for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Summary table first (readiness score, ML Test Score by section and its band, findings by
severity, the gate), then adoption by category with a text bar, the practices to adopt
next, the findings grouped by severity, and the full practice list with its evidence in
collapsed blocks. The comment never exceeds GitHub's 65,536-character limit: parts are
added in that order of importance and, when something does not fit, a note says how
much was left out and where to see it all. Text from the repository is escaped, so a
file name cannot inject markup or mention a user.
"""

from __future__ import annotations

from collections import Counter

from mlsteward.audit.render.terminal import CATALOG_LABELS, adopt_next, location, mts_sections
from mlsteward.audit.report import ADOPTION_LEVELS, Finding, PracticeResult, Report
from mlsteward.audit.rule import SEVERITY_ORDER, Evidence
from mlsteward.reports.markdown import (
    DETAILS_END,
    Budget,
    code,
    details_start,
    escape,
    table,
    text_bar,
)

__all__ = ["LIMIT", "MAX_FINDINGS", "render"]

#: GitHub's limit on the body of an issue or pull-request comment, in characters
LIMIT = 65_536
#: findings listed at most; a review comment is read, not searched
MAX_FINDINGS = 150
_ADOPTION_ORDER = (*reversed(ADOPTION_LEVELS), "unknown", "not_applicable")
_EVIDENCE_PER_PRACTICE = 3


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _label(adoption: str) -> str:
    return adoption.replace("_", " ")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _header(report: Report) -> str:
    repo = report.repository
    git = repo.get("git") or {}
    bits = []
    if git.get("commit"):
        bits.append(
            f"commit {code(str(git['commit'])[:10])} on {code(git.get('branch') or 'detached')}"
        )
    bits.append(f"profile {escape(report.profile)}")
    bits.append(f"mlsteward {escape(report.tool_version)}")
    return f"## mlsteward audit: {escape(repo.get('name', ''))}\n\n" + " · ".join(bits) + "\n\n"


def _summary(report: Report) -> str:
    mts = report.ml_test_score
    if report.score is None:
        score = "n/a (no SE-ML practice could be judged)"
    else:
        score = f"**{report.score:.0f}**/100 {text_bar(report.score / 100, 20)}"
    sections = " · ".join(
        f"{name} {'n/a' if value is None else f'{value:g}/{mts.applicable.get(name, 0)}'}"
        for name, value in mts_sections(report)
    )
    counts = report.counts()
    found = " · ".join(
        f"{counts[s]} {s}" if not counts[s] else f"**{counts[s]} {s}**"
        for s in sorted(counts, key=lambda s: -SEVERITY_ORDER[s])
    )
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    baseline = sum(1 for f in report.findings if f.suppressed is None and f.baseline == "unchanged")
    if suppressed or baseline:
        found += f" (also {suppressed} suppressed, {baseline} in baseline)"
    rows = [
        ["Readiness score", score],
        ["ML Test Score", f"**{mts.final:g}**, the lowest section (points/tests): {sections}"],
        ["Readiness", f"_{escape(mts.band)}_"],
        ["New findings", found],
    ]
    gate = report.gate
    if gate.fail_under is not None or gate.fail_on is not None or not gate.passed:
        verdict = "passed" if gate.passed else "**failed**: " + escape("; ".join(gate.reasons))
        rows.append(["Gate", verdict])
    return table(["Measure", "Result"], rows) + "\n"


def _categories(report: Report) -> str:
    rows = []
    last = ""
    for c in report.categories:
        catalog = CATALOG_LABELS.get(c.catalog, c.catalog)
        judged = "not applicable" if c.applicable == 0 else f"{c.known} of {c.applicable}"
        rows.append(
            [
                escape(catalog) if catalog != last else "",
                escape(c.category),
                text_bar(c.adoption, 10),
                _pct(c.adoption),
                judged,
            ]
        )
        last = catalog
    head = "### Adoption by category\n\n"
    return head + table(["Catalog", "Category", "Adoption", "", "Judged"], rows, "lllrr") + "\n"


def _adopt_next(report: Report) -> str:
    steps = adopt_next(report)
    if not steps:
        return ""
    lines = ["### Adopt next", ""]
    for s in steps:
        p = s.practice
        line = f"- **{escape(p.id)}** {escape(p.title)} ({_label(p.adoption)})"
        if s.rule is not None:
            line += f": fix {code(s.rule.code)} {escape(s.rule.name)}"
            if s.findings:
                line += f" ({_plural(s.findings, 'finding')})"
        lines.append(line)
    return "\n".join(lines) + "\n\n"


def _finding_line(f: Finding) -> str:
    return f"- {code(f.code)} {code(location(f))} {escape(f.message)}\n"


def _findings(b: Budget, report: Report) -> int:
    """Add the new findings, at most `MAX_FINDINGS`; return how many are not shown."""
    active = report.active_findings()
    if not active:
        b.add("### Findings\n\nNo new findings.\n\n")
        return 0
    left, listed = 0, 0
    b.add(f"### Findings ({len(active)} new)\n\n")
    for sev in sorted(SEVERITY_ORDER, key=lambda s: -SEVERITY_ORDER[s]):
        group = [f for f in active if f.severity == sev]
        if not group:
            continue
        head = f"#### {sev.capitalize()} ({len(group)})\n\n"
        if listed >= MAX_FINDINGS or not b.add(head + _finding_line(group[0])):
            left += len(group)
            continue
        listed += 1
        for i, f in enumerate(group[1:], start=1):
            if listed >= MAX_FINDINGS or not b.add(_finding_line(f)):
                left += len(group) - i
                break
            listed += 1
        b.force("\n")
    if left:
        b.force(f"{_plural(left, 'more finding')} not listed here.\n\n")
    return left


def _set_aside(b: Budget, report: Report) -> int:
    """Add unused suppressions and the findings set aside; return how many did not fit."""
    left = 0
    unused = report.unused_suppressions
    head = (
        f"### Unused suppressions ({len(unused)})\n\nThey match nothing any more: delete them.\n\n"
    )
    if unused and b.add(head):
        for s in unused:
            where = (s.path or "") + (f":{s.line}" if s.line else "")
            what = " ".join(code(x) for x in (s.code, where) if x)
            left += not b.add(f"- {escape(s.kind)} {what}: {escape(s.reason)}\n")
        b.force("\n")
    held = [f for f in report.findings if not f.active]
    end = DETAILS_END + "\n"
    if held and b.add(details_start(f"Suppressed or in the baseline ({len(held)})"), keep=len(end)):
        for f in held:
            why = (
                f"{f.suppressed.kind}: {f.suppressed.reason}" if f.suppressed else "in the baseline"
            )
            line = f"- {code(f.code)} {code(location(f))} {escape(f.message)} ({escape(why)})\n"
            left += not b.add(line, keep=len(end))
        b.force(end)
    elif held:
        left += len(held)
    return left


def _evidence(items: tuple[Evidence, ...]) -> str:
    parts = []
    for e in items[:_EVIDENCE_PER_PRACTICE]:
        text = escape(e.text)
        if e.path:
            text += " " + code(e.path + (f":{e.line}" if e.line else ""))
        parts.append(text)
    if len(items) > _EVIDENCE_PER_PRACTICE:
        parts.append(f"(+{len(items) - _EVIDENCE_PER_PRACTICE} more)")
    return "; ".join(parts)


def _practice_row(p: PracticeResult) -> list[str]:
    adoption = _label(p.adoption)
    if p.points is not None:
        adoption += f" ({p.points:g} pt)"
    evidence = _evidence(p.evidence)
    if p.note:
        evidence = f"{evidence} _{escape(p.note)}_" if evidence else f"_{escape(p.note)}_"
    return [
        code(p.id),
        escape(p.title),
        adoption,
        escape(p.strength.label) if p.strength else "",
        " ".join(code(r) for r in p.rules),
        evidence,
    ]


def _practices(b: Budget, report: Report) -> int:
    """Add the practice tables, one collapsed block per catalog; return the rows left out."""
    left = 0
    counts = report.adoption_counts()
    summary = " · ".join(f"{counts[a]} {_label(a)}" for a in _ADOPTION_ORDER if counts[a])
    b.add(f"### Practices ({len(report.practices)})\n\n{escape(summary)}\n\n")
    catalogs = list(dict.fromkeys(p.catalog for p in report.practices))
    for catalog in catalogs:
        group = [p for p in report.practices if p.catalog == catalog]
        by = Counter(p.adoption for p in group)
        label = CATALOG_LABELS.get(catalog, catalog)
        title = f"{label}: {len(group)} practices, " + ", ".join(
            f"{by[a]} {_label(a)}" for a in _ADOPTION_ORDER if by[a]
        )
        head = details_start(title)
        head += table(["Id", "Practice", "Adoption", "Strength", "Rules", "Evidence"], [])
        close = DETAILS_END + "\n"
        if not b.add(head, keep=len(close)):
            left += len(group)
            continue
        for p in group:
            left += not b.add("| " + " | ".join(_practice_row(p)) + " |\n", keep=len(close))
        b.force(close)
    return left


def render(report: Report) -> str:
    b = Budget(LIMIT)
    b.force(_header(report))
    b.force(_summary(report))
    if report.errors:
        b.add(
            "> [!WARNING]\n> Some rules crashed, so their practices are unknown: "
            + escape("; ".join(report.errors))[:2000]
            + "\n\n"
        )
    b.add(_categories(report))
    b.add(_adopt_next(report))
    findings_left = _findings(b, report) + _set_aside(b, report)
    practices_left = _practices(b, report)
    if findings_left or practices_left:
        b.force(
            f"> [!NOTE]\n> Shortened for a comment (at most {MAX_FINDINGS} findings, "
            f"{LIMIT:,} characters): {_plural(findings_left, 'finding')} and "
            f"{_plural(practices_left, 'practice')} not shown. "
            "`steward audit --format html` writes the full report.\n\n"
        )
    active = report.active_findings()
    first = active[0].code if active else "CODE"
    b.force(
        f"<sub>`steward audit explain {first}` says why a rule matters and how to fix it.</sub>\n"
    )
    return b.text()
