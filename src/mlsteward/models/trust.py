"""What a loader may trust: types the project's config lists, and code the caller vouches for.

The list of trusted skops types comes from the project's configuration only::

    [tool.steward.models]
    trusted_types = ["sklearn.tree._tree.Tree"]

never from the artifact being loaded: whoever can write an artifact would otherwise
decide what it may run (the MLflow ``skops_trusted_types`` lesson, research/serving.md
section 4). ``trust=True`` from the caller vouches for the whole artifact: it allows the
formats that execute code at load (pickle, cloudpickle) and any skops type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mlsteward.errors import ConfigError, ModelError
from mlsteward.project import Project

__all__ = [
    "ModelDeclaration",
    "ModelsConfig",
    "Trust",
    "models_config",
    "project_trust",
    "trusted_types",
    "untrusted_error",
]

_KEYS = {"trusted_types"}
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Trust:
    """What a load may run: the ``types`` listed in config, and ``code`` if vouched for."""

    types: frozenset[str] = frozenset()
    code: bool = False


def _where(project: Project) -> str:
    return "[models]" if project.settings.source == "steward.toml" else "[tool.steward.models]"


@dataclass(frozen=True)
class ModelDeclaration:
    """What ``[tool.steward.models.<name>]`` declares about one model (for its cards)."""

    intended_use: str | None = None
    limitations: str | None = None


@dataclass(frozen=True)
class ModelsConfig:
    """``[tool.steward.models]``: trusted types, and one table of declarations per model."""

    trusted_types: frozenset[str] = frozenset()
    declared: Mapping[str, ModelDeclaration] = field(default_factory=dict)


_DECLARED = ("intended_use", "limitations")


def models_config(project: Project) -> ModelsConfig:
    """The project's ``[tool.steward.models]`` table, checked: the one reader of it.

    Raises:
        ConfigError: the table or a model's table is not a table, has an unknown key
            (``model-config-value``), ``trusted_types`` is not a list of dotted type
            names, or a declaration is not text (``model-config-type`` /
            ``model-config-value``).
    """
    where = _where(project)
    table = project.settings.extra.get("models", {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where} must be a table, got {table!r:.80}",
            code="model-config-type",
            hint=f'write it as a table: {where} then trusted_types = ["module.Type"]',
        )
    # a sub-table is one model's own settings ([tool.steward.models.<name>], model cards)
    unknown = sorted(k for k, v in table.items() if k not in _KEYS and not isinstance(v, dict))
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known: trusted_types, and "
            "one table per model name",
            code="model-config-value",
            hint="check the spelling (trusted_types, with an underscore)",
        )
    items = table.get("trusted_types", [])
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(
            f"{where} trusted_types must be a list of strings, got {items!r:.80}",
            code="model-config-type",
            hint='write trusted_types = ["sklearn.tree._tree.Tree"]',
        )
    bad = [i for i in items if not _TYPE_NAME.fullmatch(i)]
    if bad:
        raise ConfigError(
            f"{where} trusted_types holds {bad[0]!r}, which is not a full type name "
            "(module.Type; no wildcards)",
            code="model-config-value",
            hint="list each type by the full name the refusal message gives, "
            'e.g. "sklearn.tree._tree.Tree"',
        )
    declared = {
        str(name): _declaration(f"{where[:-1]}.{name}]", model)
        for name, model in table.items()
        if isinstance(model, dict)
    }
    return ModelsConfig(frozenset(items), declared)


def _declaration(where: str, table: Mapping[str, object]) -> ModelDeclaration:
    unknown = sorted(set(table) - set(_DECLARED))
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known: {', '.join(_DECLARED)}",
            code="model-config-value",
            hint='declare intended_use = "..." and limitations = "..." (model cards show them)',
        )
    values: list[str | None] = []
    for key in _DECLARED:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"{where} {key} must be text, got {value!r:.60}",
                code="model-config-type",
                hint=f'e.g. {key} = "..." (a string; use triple quotes for several lines)',
            )
        values.append(value.strip() if value and value.strip() else None)
    return ModelDeclaration(*values)


def trusted_types(project: Project) -> frozenset[str]:
    """The skops types the project's configuration trusts (see `models_config`)."""
    return models_config(project).trusted_types


def project_trust(project: Project, *, trust: bool) -> Trust:
    """The project's trusted types, and whether the caller vouched for code."""
    return Trust(trusted_types(project), bool(trust))


def toml_line(types: Iterable[str]) -> str:
    """``trusted_types = [...]`` with ``types``, sorted, ready to paste."""
    inner = ", ".join(f'"{t}"' for t in sorted(set(types)))
    return f"trusted_types = [{inner}]"


def untrusted_error(
    project: Project, format_id: str, offending: list[str], trust: Trust, *, executes_code: bool
) -> ModelError:
    """The refusal for a model whose ``offending`` types (or code) are not trusted."""
    shown = ", ".join(offending[:20]) + (
        f" and {len(offending) - 20} more" if len(offending) > 20 else ""
    )
    if executes_code:
        return ModelError(
            f"the model is in the {format_id} format, which executes code when loaded; "
            f"it was not trusted (it calls: {shown or 'nothing named'})",
            code="model-untrusted",
            hint="if you trust who made it, pass trust=True (--trust on the command line); "
            "otherwise save the model with skops (scikit-learn) or ONNX, which run no code",
        )
    return ModelError(
        f"the {format_id} model holds type(s) the project does not trust: {shown}",
        code="model-untrusted",
        hint=f"if you trust them, add to {_where(project)}: "
        f"{toml_line([*trust.types, *offending])} (or pass trust=True / --trust to vouch "
        "for this artifact alone)",
    )
