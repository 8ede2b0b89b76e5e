"""Suppressions: inline ``# steward: ignore[CODE]`` comments, config ignores, per-path ignores.

Every suppression is reported (SARIF ``suppressions``), never silently dropped, and one
that no longer matches anything is listed as unused so it can be deleted.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlsteward.audit.facts.files import glob_match
from mlsteward.audit.facts.python import Module
from mlsteward.audit.report import Finding, Suppression

__all__ = ["INLINE", "InlineIgnore", "apply_suppressions", "inline_ignores"]

#: ``# steward: ignore`` (everything on the line) or ``# steward: ignore[SML014, SML011]``,
#: optionally followed by a reason
INLINE = re.compile(r"#\s*steward:\s*ignore(?:\[(?P<codes>[A-Za-z0-9_,\s-]+)\])?(?P<reason>.*)$")


@dataclass(frozen=True)
class InlineIgnore:
    path: str
    line: int
    codes: frozenset[str]  # empty: every code on the line
    reason: str


def _comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every real comment: a docstring that mentions the syntax is not one."""
    try:
        return [
            (tok.start[0], tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT and "steward:" in tok.string
        ]
    except (tokenize.TokenError, SyntaxError):
        return []


def inline_ignores(modules: Iterable[Module]) -> dict[tuple[str, int], InlineIgnore]:
    """Every inline ignore comment in the parsed modules, by (path, line)."""
    out: dict[tuple[str, int], InlineIgnore] = {}
    for m in modules:
        if "steward:" not in m.source:
            continue
        for i, text in _comments(m.source):
            match = INLINE.match(text)
            if match is None:
                continue
            codes = frozenset(
                c.strip().upper() for c in (match.group("codes") or "").split(",") if c.strip()
            )
            reason = match.group("reason").strip(" -:—") or "inline ignore"
            out[(m.path, i)] = InlineIgnore(m.path, i, codes, reason)
    return out


def apply_suppressions(
    findings: list[Finding],
    inline: Mapping[tuple[str, int], InlineIgnore],
    per_path: Mapping[str, Mapping[str, str]],
) -> list[Suppression]:
    """Mark suppressed findings in place; return the suppressions that matched nothing."""
    used_inline: set[tuple[str, int]] = set()
    used_path: set[tuple[str, str]] = set()
    for f in findings:
        if f.path is None:
            continue
        if f.line is not None:
            ig = inline.get((f.path, f.line))
            if ig is not None and (not ig.codes or f.code in ig.codes):
                f.suppressed = Suppression("inline", ig.reason, f.path, f.line, f.code)
                used_inline.add((f.path, f.line))
                continue
        for pattern, codes in per_path.items():
            if not glob_match(f.path, pattern):
                continue
            for code, reason in codes.items():
                if f.code.startswith(code.upper()):
                    f.suppressed = Suppression("per-path", reason, f.path, f.line, f.code)
                    used_path.add((pattern, code))
                    break
            if f.suppressed is not None:
                break
    unused = [
        Suppression("inline", ig.reason, ig.path, ig.line, ",".join(sorted(ig.codes)) or None)
        for key, ig in sorted(inline.items())
        if key not in used_inline
    ]
    unused += [
        Suppression("per-path", reason, pattern, None, code)
        for pattern, codes in per_path.items()
        for code, reason in codes.items()
        if (pattern, code) not in used_path
    ]
    return unused
