"""mlsteward: score ML repositories against the practice catalogs, and run the practices.

The public API is what ``__all__`` lists; everything else is internal and may change::

    import mlsteward as steward

    with steward.start_run(name="train", params={"lr": 0.1}) as run:
        run.use_dataset("reviews")
        run.log_metric("loss", 0.3, step=1)
        run.log_model(model, name="churn", example=X)  # churn@1, provenance: this run
    steward.promote("churn", 1, "production", reason="first release")
    steward.search_runs("metrics.loss < 0.5", order_by="metrics.loss", limit=10)
    steward.run_gate("churn", 3, policy="production", data="eval@2", label="churned")
    steward.promote("churn", 3, "production", reason="passed its gate on eval@2")
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr
from mlsteward.errors import StewardError

__version__ = "0.1.0"

# Imported on first use: `steward audit` must not pay for SQLAlchemy, and a training
# script must not pay for the audit's rule registry.
_LAZY = {
    "Project": "mlsteward.project",
    "Run": "mlsteward.tracking",
    "active_run": "mlsteward.tracking",
    "add_dataset": "mlsteward.data",
    "audit": "mlsteward.audit",
    "get_run": "mlsteward.tracking",
    "promote": "mlsteward.registry",
    "register_model": "mlsteward.registry",
    "rollback": "mlsteward.registry",
    "run_gate": "mlsteward.gates",
    "search_runs": "mlsteward.tracking",
    "seed_everything": "mlsteward.tracking",
    "start_run": "mlsteward.tracking",
}

__all__ = [
    "Project",
    "Run",
    "StewardError",
    "__version__",
    "active_run",
    "add_dataset",
    "audit",
    "get_run",
    "promote",
    "register_model",
    "rollback",
    "run_gate",
    "search_runs",
    "seed_everything",
    "start_run",
]

__getattr__ = _lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return __all__
