"""The one registry of audit rules, keyed by stable code.

Built-in rules live in the modules of `mlsteward.audit.rules` (one module per family);
third parties register a module under the ``mlsteward.rules`` entry-point group. Codes
are never reused; a renamed code is kept in `REDIRECTS` so old suppressions still work.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points

from mlsteward.audit.rule import DECLARED, Rule
from mlsteward.errors import UnknownIdError

__all__ = ["FAMILIES", "REDIRECTS", "all_rules", "get_rule", "select_rules"]

#: family prefix -> what it covers (one module per family under audit/rules/)
FAMILIES: dict[str, str] = {
    "VCS": "version control, data and model versioning",
    "ENV": "dependencies and reproducible environments",
    "TST": "tests",
    "CI": "continuous integration",
    "CQ": "code quality",
    "SML": "ML code smells (AST)",
    "EXP": "experiment tracking and training",
    "DAT": "data validation and schemas",
    "MOD": "model validation before serving",
    "DPL": "deployment",
    "MON": "monitoring, prediction logging, drift",
    "GOV": "governance and trust",
    "TEAM": "team and collaboration",
    "REC": "mlsteward records",
    "AUD": "the audit itself (unreadable input)",
}

#: retired or renamed codes -> the code that replaced them
REDIRECTS: dict[str, str] = {}


@cache
def all_rules() -> dict[str, Rule]:
    """Import every rule module once and return the rules by code, sorted.

    Raises:
        ValueError: two rules declare the same code (a broken rule pack).
    """
    import mlsteward.audit.rules as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    for ep in entry_points(group="mlsteward.rules"):
        ep.load()
    rules: dict[str, Rule] = {}
    for r in DECLARED:
        if r.code in rules or r.code in REDIRECTS:
            raise ValueError(
                f"rule code {r.code} is declared twice ({rules[r.code].name}, {r.name})"
            )
        rules[r.code] = r
    return dict(sorted(rules.items()))


def get_rule(code: str) -> Rule:
    """Return the rule with this code (following redirects).

    Raises:
        UnknownIdError: no rule has this code.
    """
    rules = all_rules()
    code = REDIRECTS.get(code.upper(), code.upper())
    if code in rules:
        return rules[code]
    by_name = {r.name: r for r in rules.values()}
    if code.lower() in by_name:
        return by_name[code.lower()]
    raise UnknownIdError(
        f"no rule {code!r}",
        code="unknown-rule",
        hint="`steward audit rules` lists every rule code and name",
    )


def _matches(code: str, patterns: Iterable[str]) -> bool:
    return any(code.startswith(p.upper()) for p in patterns)


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules whose code starts with a ``select`` prefix (all if none) and no ``ignore`` one.

    Raises:
        UnknownIdError: a prefix matches no rule at all (a typo would otherwise silently
            select or ignore nothing).
    """
    rules = all_rules()
    select, ignore = list(select), list(ignore)
    for pattern in [*select, *ignore]:
        if not any(c.startswith(pattern.upper()) for c in rules):
            raise UnknownIdError(
                f"{pattern!r} matches no rule code",
                code="unknown-rule",
                hint="select and ignore take codes or code prefixes, e.g. SML or CI001; "
                "`steward audit rules` lists them",
            )
    return [
        r
        for code, r in rules.items()
        if (not select or _matches(code, select)) and not _matches(code, ignore)
    ]
