"""Runners: how a loaded model object turns a checked input table into predictions.

A Python estimator (skops, pickle) is called through its ``predict`` and
``predict_proba`` methods, given a DataFrame when it was fitted on named columns
(``feature_names_in_``) and a 2-D array otherwise. An ONNX session is run with the input
columns mapped to its graph inputs: one tensor ``[None, n]`` gets the columns stacked in
signature order (the usual skl2onnx case); several inputs are matched to columns by name.
Its outputs are read the skl2onnx way: ``*label*`` is the prediction, ``*probabilit*``
the class probabilities (a tensor, or ZipMap's list of dicts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mlsteward.errors import ModelError
from mlsteward.models.signature import as_numpy

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["OnnxRunner", "PythonRunner", "Runner"]


class Runner(Protocol):
    """What `LoadedModel` calls: predictions and probabilities for a checked table."""

    @property
    def classes(self) -> list[Any] | None: ...

    def predict(self, table: pa.Table) -> np.ndarray: ...

    def predict_proba(self, table: pa.Table) -> np.ndarray | None: ...


def _scalars(values: Any) -> list[Any]:
    import numpy as np

    return list(np.asarray(values).tolist())


class PythonRunner:
    """Calls a Python estimator's own methods."""

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def classes(self) -> list[Any] | None:
        found = getattr(self.model, "classes_", None)
        return None if found is None else _scalars(found)

    def _features(self, table: pa.Table) -> Any:
        if hasattr(self.model, "feature_names_in_"):
            return table.to_pandas()
        import numpy as np

        return np.column_stack([as_numpy(c) for c in table.columns])

    def predict(self, table: pa.Table) -> np.ndarray:
        import numpy as np

        return np.asarray(self.model.predict(self._features(table)))

    def predict_proba(self, table: pa.Table) -> np.ndarray | None:
        import numpy as np

        method = getattr(self.model, "predict_proba", None)
        if method is None:
            return None
        return np.asarray(method(self._features(table)))


_ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxRunner:
    """Runs an onnxruntime session; ``classes`` are read from the graph when known."""

    def __init__(self, session: Any, classes: Sequence[Any] | None = None) -> None:
        self.session = session
        self._classes = list(classes) if classes is not None else None
        outputs = [o.name for o in session.get_outputs()]
        self._label = next((n for n in outputs if "label" in n.lower()), outputs[0])
        self._proba = next((n for n in outputs if "probabilit" in n.lower()), None)

    @property
    def classes(self) -> list[Any] | None:
        return self._classes

    def _feeds(self, table: pa.Table) -> dict[str, Any]:
        import numpy as np

        inputs = self.session.get_inputs()
        names = table.column_names
        if len(inputs) == 1 and len(inputs[0].shape) == 2:
            graph = inputs[0]
            width = graph.shape[1]
            if isinstance(width, int) and width != len(names):
                raise self._unmapped(
                    f"its input {graph.name!r} takes {width} columns, the "
                    f"signature has {len(names)}"
                )
            dtype = _ONNX_DTYPES.get(graph.type, "float32")
            matrix = np.column_stack([as_numpy(c) for c in table.columns]).astype(dtype)
            return {graph.name: matrix}
        feeds = {}
        for graph in inputs:
            if graph.name not in names:
                raise self._unmapped(f"its input {graph.name!r} is not a signature column")
            values = as_numpy(table.column(graph.name))
            dtype = _ONNX_DTYPES.get(graph.type, "float32")
            feeds[graph.name] = values.astype(dtype).reshape(-1, 1)
        return feeds

    def _unmapped(self, why: str) -> ModelError:
        return ModelError(
            f"the ONNX graph's inputs cannot be fed from the signature: {why}",
            code="model-onnx-inputs",
            hint="export the model with one float input [None, n_columns] (skl2onnx's "
            "default), or name each graph input after a signature column",
        )

    def predict(self, table: pa.Table) -> np.ndarray:
        import numpy as np

        (label,) = self.session.run([self._label], self._feeds(table))
        array = np.asarray(label)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array.ravel()
        return array

    def predict_proba(self, table: pa.Table) -> np.ndarray | None:
        import numpy as np

        if self._proba is None:
            return None
        (proba,) = self.session.run([self._proba], self._feeds(table))
        if isinstance(proba, list):  # ZipMap: one {class: probability} per row
            keys = list(proba[0]) if proba else list(self._classes or [])
            if self._classes is None:
                self._classes = keys
            return np.array([[row[k] for k in keys] for row in proba], dtype="float64")
        return np.asarray(proba)
