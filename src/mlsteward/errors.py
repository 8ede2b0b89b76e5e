"""One exception tree for mlsteward.

Every error a user can cause carries a stable ``code`` and a ``hint`` that says what to
do; the codes are documented in ``docs/errors.md`` (a test keeps the two in step)::

    StewardError                      root: catch this to catch everything we raise
    ├── UsageError                    the call itself is wrong (exit code 2)
    │   ├── ConfigError               [tool.steward] / steward.toml is malformed
    │   ├── UnknownIdError            a rule code or catalog id that does not exist
    │   └── PathError                 a path that is missing or escapes its root
    │   └── NotFoundError             a run, dataset, version or object that is not there
    ├── AuditError                    the audit could not produce a report at all
    │   └── BaselineError             a baseline file that cannot be read
    ├── StoreError                    the metadata store cannot serve the request
    │   ├── StoreSchemaError          its schema is newer or older than this code
    │   ├── StoreLockedError          another process holds it for too long
    │   └── StoreCorruptError         the file is not a store, or is damaged
    ├── ObjectStoreError              the content-addressed object store
    │   └── IntegrityError            an object whose bytes do not match its hash
    ├── RecordError                   a record that cannot be written as asked
    ├── ModelError                    a model that cannot be saved, loaded or trusted
    ├── RegistryError                 a registry request refused (provenance, alias, policy)
    └── GateError                     a gate policy or its evaluation data is unusable

Problems *inside* an audited repository (a syntax error, broken YAML) are not
exceptions: they become findings and the audit goes on.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "BaselineError",
    "ConfigError",
    "GateError",
    "IntegrityError",
    "ModelError",
    "NotFoundError",
    "ObjectStoreError",
    "PathError",
    "RecordError",
    "RegistryError",
    "StewardError",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreSchemaError",
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


class NotFoundError(UsageError):
    """A run, dataset, version, artifact or object id that the store does not hold."""

    code = "not-found"


class StoreError(StewardError):
    """The metadata store cannot be opened or cannot serve the request."""

    code = "store-error"


class StoreSchemaError(StoreError):
    """The store's schema is not the one this version of mlsteward reads."""

    code = "store-schema"


class StoreLockedError(StoreError):
    """Another process held the store's write lock for longer than the timeout."""

    code = "store-locked"


class StoreCorruptError(StoreError):
    """The store's file is not a database, or the database is damaged."""

    code = "store-corrupt"


class ObjectStoreError(StewardError):
    """The object store cannot be read or written."""

    code = "object-store"


class IntegrityError(ObjectStoreError):
    """An object's bytes do not hash to its address: it was tampered with or damaged."""

    code = "object-corrupt"


class RecordError(UsageError):
    """A record (param, metric, tag, dataset) that cannot be stored as given."""

    code = "record-invalid"


class ModelError(StewardError):
    """A model that no format can save, that fails on its own example, or that is not trusted."""

    code = "model-error"


class RegistryError(UsageError):
    """A registry request refused: no provenance, an alias in use, a promotion not allowed."""

    code = "registry-error"


class GateError(UsageError):
    """A gate policy that cannot be checked, or evaluation data it cannot use."""

    code = "gate-error"
