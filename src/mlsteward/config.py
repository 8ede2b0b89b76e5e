"""Settings: ``[tool.steward]`` in pyproject.toml, or a ``steward.toml`` beside it.

Settings are frozen dataclasses checked by one small engine (`_check`): each field
declares its type and, where it matters, its allowed values. pydantic is the choice for
HTTP schemas, but its import alone costs more than a whole small audit, so the audit path
keeps to the standard library here.

A ``steward.toml`` holds the same keys at its top level (``profile = "poc"``) and wins
over pyproject.toml; the two are not merged, so what a team reads is what runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlsteward.errors import ConfigError

__all__ = [
    "PROFILES",
    "SEVERITIES",
    "AuditSettings",
    "Context",
    "Declaration",
    "Settings",
    "load_settings",
    "parse_settings",
]

PROFILES = ("poc", "production")
SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Context:
    """Facts about the project that decide which practices apply.

    ``None`` means "not said": the profile's default is used (a ``production`` project
    is taken to be deployed, a ``poc`` one is not).
    """

    deployed: bool | None = None
    personal_data: bool | None = None
    labels: bool | None = None
    features: bool | None = None
    users: bool | None = None
    #: the repository trains, evaluates or serves a model (derived from the code if unset)
    model: bool | None = None


@dataclass(frozen=True)
class Declaration:
    """A practice the team declares it follows, with the document that backs it."""

    practice: str
    evidence: str = ""
    note: str = ""


@dataclass(frozen=True)
class AuditSettings:
    """What the audit checks and what fails it."""

    select: tuple[str, ...] = ()
    ignore: Mapping[str, str] = field(default_factory=dict)
    per_path_ignores: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    baseline: str | None = None
    fail_under: float | None = None
    fail_on: str | None = None


@dataclass(frozen=True)
class Settings:
    """All of ``[tool.steward]``; ``source`` names the file it came from, if any."""

    profile: str = "production"
    context: Context = field(default_factory=Context)
    audit: AuditSettings = field(default_factory=AuditSettings)
    declare: tuple[Declaration, ...] = ()
    store: str | None = None
    objects: str | None = None
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def load_settings(root: Path) -> Settings:
    """Read the settings of the project at ``root``.

    Raises:
        ConfigError: the file is not valid TOML or a value has the wrong type.
    """
    for name, table_path in (("steward.toml", ()), ("pyproject.toml", ("tool", "steward"))):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{name} is not valid TOML: {exc}",
                code="config-toml",
                hint=f"fix the syntax of {name}; `python -m tomllib` is not needed, any TOML "
                "linter points at the line",
            ) from exc
        table: Any = data
        for key in table_path:
            table = table.get(key, {}) if isinstance(table, dict) else {}
        if name == "pyproject.toml" and not table:
            continue
        return parse_settings(table, source=name)
    return Settings()


# -- the one checking engine ----------------------------------------------------------------


def _expect(where: str, value: Any, kind: type | tuple[type, ...], expected: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        value = object()  # bool is an int in Python, never in a config file
    if not isinstance(value, kind):
        raise ConfigError(
            f"{where} must be {expected}, got {value!r}",
            code="config-type",
            hint=f"set {where} to {expected} (see docs/configuration.md)",
        )
    return value


def _reasons(where: str, value: Any) -> dict[str, str]:
    """A table of CODE = "reason"; every ignore must say why."""
    table = _expect(where, value, dict, 'a table of CODE = "reason"')
    out: dict[str, str] = {}
    for code, reason in table.items():
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{where}.{code} needs a reason, got {reason!r}",
                code="config-ignore-reason",
                hint=f'write {code} = "why this does not apply here"; a reason is required so '
                "that reviewers can judge the ignore",
            )
        out[str(code)] = reason.strip()
    return out


def _strings(where: str, value: Any) -> tuple[str, ...]:
    items = _expect(where, value, list, "a list of strings")
    for item in items:
        _expect(where, item, str, "a list of strings")
    return tuple(items)


def _unknown(where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(allowed))}",
            code="config-unknown-key",
            hint="check the spelling; keys use dashes (fail-under, per-path-ignores)",
        )


def _context(table: Any) -> Context:
    table = _expect("[tool.steward.context]", table, dict, "a table")
    allowed = {f.name.replace("_", "-") for f in fields(Context)} | {
        f.name for f in fields(Context)
    }
    _unknown("[tool.steward.context]", table, allowed)
    values = {
        key.replace("-", "_"): _expect(f"context.{key}", value, bool, "true or false")
        for key, value in table.items()
    }
    return Context(**values)


def _audit(table: Any) -> AuditSettings:
    where = "[tool.steward.audit]"
    table = _expect(where, table, dict, "a table")
    _unknown(
        where,
        table,
        {"select", "ignore", "per-path-ignores", "exclude", "baseline", "fail-under", "fail-on"},
    )
    per_path = {
        pattern: _reasons(f"audit.per-path-ignores.{pattern}", codes)
        for pattern, codes in _expect(
            "audit.per-path-ignores", table.get("per-path-ignores", {}), dict, "a table"
        ).items()
    }
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ConfigError(
            f"audit.fail-on must be one of {', '.join(SEVERITIES)}, got {fail_on!r}",
            code="config-value",
            hint='use fail-on = "high" to fail only on high-severity findings',
        )
    fail_under = table.get("fail-under")
    if fail_under is not None:
        fail_under = float(_expect("audit.fail-under", fail_under, (int, float), "a number"))
    baseline = table.get("baseline")
    if baseline is not None:
        _expect("audit.baseline", baseline, str, "a path")
    return AuditSettings(
        select=_strings("audit.select", table.get("select", [])),
        ignore=_reasons("audit.ignore", table.get("ignore", {})),
        per_path_ignores=per_path,
        exclude=_strings("audit.exclude", table.get("exclude", [])),
        baseline=baseline,
        fail_under=fail_under,
        fail_on=fail_on,
    )


def _declare(table: Any) -> tuple[Declaration, ...]:
    table = _expect("[tool.steward.declare]", table, dict, "a table")
    out = []
    for practice, value in table.items():
        if isinstance(value, str):
            out.append(Declaration(practice=practice, evidence=value))
            continue
        value = _expect(f"declare.{practice}", value, dict, 'a path or { evidence = "..." }')
        _unknown(f"declare.{practice}", value, {"evidence", "note"})
        out.append(
            Declaration(
                practice=practice,
                evidence=_expect(
                    f"declare.{practice}.evidence", value.get("evidence", ""), str, "a path"
                ),
                note=_expect(f"declare.{practice}.note", value.get("note", ""), str, "text"),
            )
        )
    return tuple(out)


def parse_settings(table: Mapping[str, Any], *, source: str | None = None) -> Settings:
    """Check a raw ``[tool.steward]`` table and turn it into `Settings`.

    Tables this module does not know (``gates``, ``store``, ...) are kept in ``extra``
    for the subsystems that own them.
    """
    profile = table.get("profile", "production")
    if profile not in PROFILES:
        raise ConfigError(
            f"profile must be one of {', '.join(PROFILES)}, got {profile!r}",
            code="config-value",
            hint='use profile = "poc" for a proof of concept, "production" otherwise',
        )
    known = {"profile", "context", "audit", "declare", "store", "objects"}
    urls = {
        key: _expect(key, table[key], str, "a URL string") if key in table else None
        for key in ("store", "objects")
    }
    return Settings(
        profile=profile,
        context=_context(table.get("context", {})),
        audit=_audit(table.get("audit", {})),
        declare=_declare(table.get("declare", {})),
        store=urls["store"],
        objects=urls["objects"],
        source=source,
        extra={k: v for k, v in table.items() if k not in known},
    )
