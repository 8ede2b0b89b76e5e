"""Model registry: registered models, immutable versions with provenance, aliases, rollback.

See docs/registry.md. Names load lazily so ``import mlsteward.registry`` stays cheap.
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

_EXPORTS = {
    "AliasMove": "mlsteward.registry.aliases",
    "Card": "mlsteward.registry.cards",
    "ModelSummary": "mlsteward.registry.versions",
    "ModelVersion": "mlsteward.registry.versions",
    "TrainingData": "mlsteward.registry.versions",
    "VersionDetail": "mlsteward.registry.versions",
    "alias_history": "mlsteward.registry.aliases",
    "delete_version": "mlsteward.registry.versions",
    "get_version": "mlsteward.registry.versions",
    "list_models": "mlsteward.registry.versions",
    "list_versions": "mlsteward.registry.versions",
    "load_version": "mlsteward.registry.versions",
    "model_card": "mlsteward.registry.cards",
    "promote": "mlsteward.registry.aliases",
    "register_model": "mlsteward.registry.register",
    "rollback": "mlsteward.registry.aliases",
    "show_version": "mlsteward.registry.versions",
    "write_card": "mlsteward.registry.cards",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
