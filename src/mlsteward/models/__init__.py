"""Model formats (skops, ONNX, trusted pickle), signatures, and the loading policy.

See docs/models.md. Names load lazily so ``import mlsteward.models`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

if TYPE_CHECKING:  # the real names for type checkers; at run time they load lazily
    from mlsteward.models.formats import ModelFormat as ModelFormat
    from mlsteward.models.formats import choose_format as choose_format
    from mlsteward.models.formats import get_format as get_format
    from mlsteward.models.formats import model_formats as model_formats
    from mlsteward.models.package import LoadedModel as LoadedModel
    from mlsteward.models.package import ModelPackage as ModelPackage
    from mlsteward.models.package import load_model as load_model
    from mlsteward.models.package import package_file as package_file
    from mlsteward.models.package import read_package as read_package
    from mlsteward.models.package import save_model as save_model
    from mlsteward.models.signature import ColumnSpec as ColumnSpec
    from mlsteward.models.signature import Signature as Signature
    from mlsteward.models.signature import infer_signature as infer_signature
    from mlsteward.models.trust import Trust as Trust
    from mlsteward.models.trust import trusted_types as trusted_types

_EXPORTS = {
    "choose_format": "mlsteward.models.formats",
    "ColumnSpec": "mlsteward.models.signature",
    "get_format": "mlsteward.models.formats",
    "infer_signature": "mlsteward.models.signature",
    "load_model": "mlsteward.models.package",
    "LoadedModel": "mlsteward.models.package",
    "model_formats": "mlsteward.models.formats",
    "ModelFormat": "mlsteward.models.formats",
    "ModelPackage": "mlsteward.models.package",
    "package_file": "mlsteward.models.package",
    "read_package": "mlsteward.models.package",
    "save_model": "mlsteward.models.package",
    "Signature": "mlsteward.models.signature",
    "Trust": "mlsteward.models.trust",
    "trusted_types": "mlsteward.models.trust",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
