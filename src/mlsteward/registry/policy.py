"""Gate policies as declared in the repository: ``[tool.steward.gates.<alias>]``.

A policy is data: the table as written, checked once, and a hash of its canonical JSON.
A verdict records that hash, so a passing verdict counts only for the policy as it is
now: edit the policy and every version must pass it again. The gate engine
(`mlsteward.gates`) evaluates the checks; the registry only asks whether a version
holds a passing verdict for the alias it is promoted to, and how long it sat at canary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsteward.errors import GateError
from mlsteward.project import Project

__all__ = ["GatePolicy", "load_policies", "parse_policy", "policy_for"]


@dataclass(frozen=True)
class GatePolicy:
    """One alias's policy: ``name`` is the alias, ``settings`` the table as declared."""

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the settings: what a verdict is bound to."""
        text = json.dumps(self.settings, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def canary_minutes(self) -> float:
        """Minutes a version must have held the canary alias before it may take this one."""
        return float(self.settings.get("canary_minutes", 0))

    @property
    def canary_alias(self) -> str:
        """The alias that counts as the canary stage (``canary`` unless declared)."""
        return str(self.settings.get("canary_alias", "canary"))


def parse_policy(name: str, table: Any) -> GatePolicy:
    """Check one declared policy table.

    Raises:
        GateError: the table is not a table, or a key has a value of the wrong kind
            (code ``gate-policy``).
    """
    if not isinstance(table, Mapping):
        raise GateError(
            f"[tool.steward.gates.{name}] must be a table, got {type(table).__name__}",
            code="gate-policy",
            hint=f"write it as [tool.steward.gates.{name}] with keys such as "
            'metrics = { accuracy = ">= 0.8" }',
        )
    minutes = table.get("canary_minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise GateError(
            f"[tool.steward.gates.{name}] canary_minutes must be a number of minutes >= 0, "
            f"got {minutes!r}",
            code="gate-policy",
            hint="e.g. canary_minutes = 30",
        )
    alias = table.get("canary_alias", "canary")
    if not isinstance(alias, str) or not alias:
        raise GateError(
            f"[tool.steward.gates.{name}] canary_alias must be an alias name, got {alias!r}",
            code="gate-policy",
            hint='e.g. canary_alias = "canary"',
        )
    return GatePolicy(name, dict(table))


def load_policies(project: Project) -> dict[str, GatePolicy]:
    """Every policy the project declares, by alias."""
    raw = project.settings.extra.get("gates", {})
    if not isinstance(raw, Mapping):
        raise GateError(
            f"[tool.steward.gates] must be a table of policies, got {type(raw).__name__}",
            code="gate-policy",
            hint="declare one table per alias: [tool.steward.gates.production]",
        )
    return {str(name): parse_policy(str(name), table) for name, table in raw.items()}


def policy_for(project: Project, alias: str) -> GatePolicy | None:
    """The policy guarding ``alias``, or None when promotion to it is free."""
    return load_policies(project).get(alias)
