"""One exception tree for mlsteward.

Every error a user can cause carries a stable ``code`` and a ``hint`` that says what to
do; the codes are documented in ``docs/errors.md`` (a test keeps the two in step)::

    StewardError                      root: catch this to catch everything we raise
    ├── UsageError                    the call itself is wrong (exit code 2)
    │   ├── ConfigError               [tool.steward] / steward.toml is malformed
    │   ├── UnknownIdError            a rule code or catalog id that does not exist
    │   └── PathError                 a path that is missing or escapes its root
    └── AuditError                    the audit could not produce a report at all
        └── BaselineError             a baseline file that cannot be read

Problems *inside* an audited repository (a syntax error, broken YAML) are not
exceptions: they become findings and the audit goes on.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "BaselineError",
    "ConfigError",
    "PathError",
    "StewardError",
    "UnknownIdError",
    "UsageError",
]


class StewardError(Exception):
    """Root of every error mlsteward raises on purpose.

    Args:
        message: what went wrong, naming what was expected and what came.
        code: a stable kebab-case identifier, documented in docs/errors.md.
        hint: what the user can do about it.
    """

    code: str = "steward-error"
    exit_code: int = 1

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} [{self.code}]"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(StewardError):
    """The command or call is wrong: bad options, unknown names, bad config."""

    code = "usage-error"
    exit_code = 2


class ConfigError(UsageError):
    """The project's configuration cannot be read or does not validate."""

    code = "config-invalid"


class UnknownIdError(UsageError):
    """A rule code, catalog id or profile name that does not exist."""

    code = "unknown-id"


class PathError(UsageError):
    """A path that does not exist, is of the wrong kind, or escapes its root."""

    code = "path-invalid"


class AuditError(StewardError):
    """The audit could not produce a report at all."""

    code = "audit-failed"
    exit_code = 2


class BaselineError(AuditError):
    """A baseline file is missing, malformed or of an unknown version."""

    code = "baseline-invalid"
