"""mlsteward: score ML repositories against the practice catalogs, and run the practices.

The public API is what ``__all__`` lists; everything else is internal and may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mlsteward.errors import StewardError

__all__ = ["StewardError", "__version__", "audit"]


def __getattr__(name: str) -> object:
    # The audit engine imports the rule registry; keep `import mlsteward` itself light.
    if name == "audit":
        from mlsteward.audit import audit

        return audit
    raise AttributeError(f"module 'mlsteward' has no attribute {name!r}")
