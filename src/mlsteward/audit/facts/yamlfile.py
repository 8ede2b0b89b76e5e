"""YAML, TOML and JSON from repository files: a parse error is a problem, not a crash."""

from __future__ import annotations

import json
import tomllib
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["load_json", "load_toml", "load_yaml"]


@cache
def _loader() -> Any:
    """The safe loader (C version when present), also reading YAML 1.1's ``=`` value tag.

    Kustomize files contain a bare ``=`` (``delimiter: =``), which PyYAML resolves to the
    ``tag:yaml.org,2002:value`` tag and its safe loader cannot construct; it is a string.
    A subclass keeps the change out of PyYAML's own loader.
    """
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("StewardSafeLoader", (base,), {})
    loader.add_constructor("tag:yaml.org,2002:value", lambda ld, node: ld.construct_scalar(node))
    return loader


def load_yaml(facts: Facts, rel: str, text: str, *, multi: bool = False) -> Any:
    """Parse YAML with the safe loader (C version when present); None on error.

    ``multi`` returns every document of a multi-document file as a list.
    """
    import yaml

    loader = _loader()
    try:
        if multi:
            return [d for d in yaml.load_all(text, Loader=loader) if d is not None]
        return yaml.load(text, Loader=loader)  # noqa: S506 - the loader is a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        facts.problem("config", rel, f"invalid YAML: {reason}", line)
    except (ValueError, RecursionError) as exc:
        facts.problem("config", rel, f"invalid YAML: {exc}")
    return None


def load_toml(facts: Facts, rel: str, text: str) -> dict[str, Any] | None:
    """Parse TOML; None (and a problem) on error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        facts.problem("config", rel, f"invalid TOML: {exc}")
        return None


def load_json(facts: Facts, rel: str, text: str) -> Any:
    """Parse JSON; None (and a problem) on error."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        facts.problem("config", rel, f"invalid JSON: {exc}")
        return None
