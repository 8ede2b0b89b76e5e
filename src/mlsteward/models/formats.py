"""The one registry of model formats, keyed by a stable id.

Built in: ``skops`` (scikit-learn estimators and pipelines, no code at load beyond an
allow-list of types), ``onnx`` (a graph run by onnxruntime; no code at load),
``pickle`` and ``cloudpickle`` (run arbitrary code at load: only with ``trust=True``).
Third parties register a `ModelFormat` instance (or class) under the
``mlsteward.model_formats`` entry-point group. Ids are never reused; a renamed id is
kept in `REDIRECTS`.
"""

from __future__ import annotations

import importlib.metadata
import pickle
from functools import cache
from pathlib import Path
from typing import Any

from mlsteward.errors import ModelError
from mlsteward.models.runners import OnnxRunner, PythonRunner, Runner
from mlsteward.models.trust import Trust

__all__ = [
    "REDIRECTS",
    "ModelFormat",
    "choose_format",
    "get_format",
    "library_versions",
    "model_formats",
]

GROUP = "mlsteward.model_formats"

#: retired or renamed format ids -> the id that replaced them
REDIRECTS: dict[str, str] = {}


class ModelFormat:
    """A way to store a model in one file; subclass it to add a format.

    Attributes:
        id: the stable id recorded in every package (never reused).
        suffix: the model file's suffix, with its dot.
        executes_code: loading runs code from the file (then only with ``trust=True``).
        description: what it stores, for listings and errors.
        libraries: distributions whose versions are recorded with the model.
    """

    id: str = ""
    suffix: str = ""
    executes_code: bool = False
    description: str = ""
    libraries: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<model format {self.id!r}>"

    def accepts(self, model: Any) -> bool:
        """Whether `choose_format` may pick this format for ``model``."""
        return False

    def save(self, model: Any, path: Path) -> None:
        """Write ``model`` to ``path``."""
        raise NotImplementedError

    def untrusted_types(self, path: Path, trusted: Trust) -> list[str]:
        """What in the file at ``path`` is not trusted by ``trusted`` (read without running it)."""
        return []

    def load(self, path: Path, trusted: Trust) -> Any:
        """Read the model at ``path``; call only once `untrusted_types` came back empty."""
        raise NotImplementedError

    def runner(self, model: Any) -> Runner:
        """A runner for ``model`` (what `load` returned, or what `accepts` accepted)."""
        return PythonRunner(model)

    def classes(self, model: Any) -> list[Any] | None:
        """The class labels of a classifier, when the format can tell without running it."""
        return self.runner(model).classes


def _corrupt(path: Path, fmt: str, exc: BaseException) -> ModelError:
    return ModelError(
        f"{path.name} is not a readable {fmt} model: {type(exc).__name__}: {exc}",
        code="model-corrupt",
        hint="the package was not written by save_model, or was damaged; save the model again",
    )


# -- skops ------------------------------------------------------------------------------


class SkopsFormat(ModelFormat):
    id = "skops"
    suffix = ".skops"
    description = "scikit-learn estimators and pipelines (skops.io)"
    libraries = ("scikit-learn", "skops", "numpy", "scipy")

    def accepts(self, model: Any) -> bool:
        if not type(model).__module__.startswith("sklearn") and not hasattr(model, "fit"):
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(self, model: Any, path: Path) -> None:
        import skops.io

        skops.io.dump(model, path)

    def untrusted_types(self, path: Path, trusted: Trust) -> list[str]:
        import skops.io

        try:
            found = skops.io.get_untrusted_types(file=path)
        except Exception as exc:  # any parse failure of a foreign file: not a model
            raise _corrupt(path, self.id, exc) from exc
        if trusted.code:
            return []
        return sorted(set(found) - trusted.types)

    def load(self, path: Path, trusted: Trust) -> Any:
        import skops.io

        allowed = skops.io.get_untrusted_types(file=path) if trusted.code else trusted.types
        try:
            return skops.io.load(path, trusted=sorted(allowed))
        except Exception as exc:
            if type(exc).__name__ == "UntrustedTypesFoundException":
                raise ModelError(
                    f"skops refused {path.name}: {exc}",
                    code="model-untrusted",
                    hint="list the types in [tool.steward.models] trusted_types",
                ) from exc
            raise _corrupt(path, self.id, exc) from exc


# -- ONNX ---------------------------------------------------------------------------------


def _tensors(graph: Any) -> Any:
    """Every tensor in a graph and its subgraphs (initializers and attribute tensors)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: Any) -> Any:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("g"):
            yield from _tensors(attr.g)
        for sub in attr.graphs:
            yield from _tensors(sub)


def _external(proto: Any) -> list[str]:
    from onnx import TensorProto

    names = [t.name for t in _tensors(proto.graph) if t.data_location == TensorProto.EXTERNAL]
    for function in proto.functions:
        for node in function.node:
            names += [
                t.name for t in _node_tensors(node) if t.data_location == TensorProto.EXTERNAL
            ]
    return names


def _refuse_external(proto: Any, where: str) -> None:
    names = _external(proto)
    if names:
        raise ModelError(
            f"{where} keeps tensor(s) in external data files ({', '.join(names[:5])}); "
            "external data can point outside the model's directory and is refused",
            code="model-external-data",
            hint="load the weights into the model first: onnx.load(path) reads them, then "
            "pass the ModelProto (onnx.external_data_helper.convert_model_from_external_data)",
        )


class OnnxFormat(ModelFormat):
    id = "onnx"
    suffix = ".onnx"
    description = "an ONNX graph (onnx.ModelProto or its bytes), run by onnxruntime"
    libraries = ("onnx", "onnxruntime", "numpy")

    def _proto(self, model: Any) -> Any:
        import onnx

        if isinstance(model, onnx.ModelProto):
            return model
        proto = onnx.ModelProto()
        proto.ParseFromString(bytes(model))
        return proto

    def accepts(self, model: Any) -> bool:
        if isinstance(model, bytes | bytearray):
            try:
                return bool(self._proto(model).HasField("graph"))
            except Exception:  # protobuf's DecodeError: not an ONNX model
                return False
        return type(model).__module__.startswith("onnx") and type(model).__name__ == "ModelProto"

    def save(self, model: Any, path: Path) -> None:
        proto = self._proto(model)
        _refuse_external(proto, "the ONNX model")
        path.write_bytes(proto.SerializeToString())

    def load(self, path: Path, trusted: Trust) -> Any:
        import onnxruntime

        data = path.read_bytes()
        try:
            proto = self._proto(data)
        except Exception as exc:
            raise _corrupt(path, self.id, exc) from exc
        _refuse_external(proto, path.name)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            # From bytes, not a path: there is no directory to resolve external data in.
            return onnxruntime.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise _corrupt(path, self.id, exc) from exc

    def runner(self, model: Any) -> Runner:
        import onnxruntime

        if isinstance(model, onnxruntime.InferenceSession):
            return OnnxRunner(model)
        proto = self._proto(model)
        _refuse_external(proto, "the ONNX model")
        session = onnxruntime.InferenceSession(
            proto.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return OnnxRunner(session, self.classes(proto))

    def classes(self, model: Any) -> list[Any] | None:
        import onnxruntime

        if isinstance(model, onnxruntime.InferenceSession):
            return None
        for node in self._proto(model).graph.node:
            for attr in node.attribute:
                if attr.name == "classlabels_int64s" and attr.ints:
                    return list(attr.ints)
                if attr.name == "classlabels_strings" and attr.strings:
                    return [s.decode("utf-8") for s in attr.strings]
        return None


# -- pickle and cloudpickle -----------------------------------------------------------------

_STRINGS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "SHORT_BINSTRING",
    "BINSTRING",
    "STRING",
}


def pickle_globals(data: bytes) -> list[str]:
    """The callables and classes a pickle names, read with pickletools (nothing is run)."""
    import pickletools

    found: list[str] = []
    recent: list[str] = []
    memo: dict[int, str | None] = {}
    top: str | None = None
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            found.append(str(arg).replace(" ", "."))
        if name in _STRINGS:
            top = str(arg)
            recent.append(top)
            continue
        if name == "MEMOIZE":
            memo[len(memo)] = top
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(str(arg))] = top
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            got = memo.get(int(str(arg)))
            if got is not None:
                recent.append(got)
            top = got
            continue
        elif name == "STACK_GLOBAL":
            found.append(".".join(recent[-2:]) if len(recent) >= 2 else "?")
        top = None
    return sorted(set(found))


class PickleFormat(ModelFormat):
    id = "pickle"
    suffix = ".pkl"
    executes_code = True
    description = "any picklable Python object (runs code at load: trust=True only)"
    libraries: tuple[str, ...] = ("numpy",)

    def accepts(self, model: Any) -> bool:
        return True

    def _dump(self, model: Any, fh: Any) -> None:
        pickle.dump(model, fh, protocol=5)

    def save(self, model: Any, path: Path) -> None:
        with path.open("wb") as fh:
            self._dump(model, fh)

    def untrusted_types(self, path: Path, trusted: Trust) -> list[str]:
        if trusted.code:
            return []
        try:
            return pickle_globals(path.read_bytes()) or ["(no callable named)"]
        except Exception as exc:  # pickletools' ValueError on a foreign or truncated file
            raise _corrupt(path, self.id, exc) from exc

    def load(self, path: Path, trusted: Trust) -> Any:
        if not trusted.code:  # the caller skipped untrusted_types; never unpickle then
            raise ModelError(
                f"{path.name} is a {self.id} file and was not trusted",
                code="model-untrusted",
                hint="pass trust=True (--trust) if you trust who made it",
            )
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)  # noqa: S301 (the caller vouched for it: trust=True)
        except Exception as exc:
            raise _corrupt(path, self.id, exc) from exc


class CloudpickleFormat(PickleFormat):
    id = "cloudpickle"
    suffix = ".cloudpickle"
    description = "Python objects with closures and lambdas (runs code at load: trust=True only)"
    libraries = ("cloudpickle", "numpy")

    def _dump(self, model: Any, fh: Any) -> None:
        import cloudpickle

        cloudpickle.dump(model, fh, protocol=5)


# -- the registry -----------------------------------------------------------------------------

BUILTIN: tuple[ModelFormat, ...] = (
    SkopsFormat(),
    OnnxFormat(),
    PickleFormat(),
    CloudpickleFormat(),
)


def _plugin_error(name: str, why: str) -> ModelError:
    return ModelError(
        f"the model format plugin {name!r} ({GROUP}) is broken: {why}",
        code="model-format-plugin",
        hint="fix or uninstall the package that registers it",
    )


@cache
def model_formats() -> dict[str, ModelFormat]:
    """Every format by id: the built-in ones, then those of installed plugins.

    Raises:
        ModelError: a plugin that does not load, is not a `ModelFormat`, or reuses an id
            (code ``model-format-plugin``).
    """
    found = {f.id: f for f in BUILTIN}
    for ep in importlib.metadata.entry_points(group=GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a third party's import error, whatever it is
            raise _plugin_error(ep.name, f"{type(exc).__name__}: {exc}") from exc
        fmt = obj() if isinstance(obj, type) else obj
        if not isinstance(fmt, ModelFormat) or not fmt.id or not fmt.suffix.startswith("."):
            raise _plugin_error(ep.name, "it is not a ModelFormat with an id and a .suffix")
        if fmt.id in found or fmt.id in REDIRECTS:
            raise _plugin_error(ep.name, f"the id {fmt.id!r} is already taken")
        found[fmt.id] = fmt
    return found


def _listing() -> str:
    return "; ".join(f"{f.id}: {f.description}" for f in model_formats().values())


def get_format(format_id: str) -> ModelFormat:
    """The format with this id (following redirects).

    Raises:
        ModelError: no such format (code ``model-format``).
    """
    formats = model_formats()
    key = REDIRECTS.get(format_id, format_id) if isinstance(format_id, str) else format_id
    if isinstance(key, str) and key in formats:
        return formats[key]
    raise ModelError(
        f"no model format {format_id!r}; formats: {', '.join(formats)}",
        code="model-format",
        hint=f"pass one of the format ids ({_listing()})",
    )


def choose_format(model: Any) -> ModelFormat:
    """The first format that takes ``model`` and runs no code at load.

    Raises:
        ModelError: none does (code ``model-format``); pickle is never chosen for you.
    """
    for fmt in model_formats().values():
        if not fmt.executes_code and fmt.accepts(model):
            return fmt
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    safe = ", ".join(
        f"{f.id} ({f.description})" for f in model_formats().values() if not f.executes_code
    )
    raise ModelError(
        f"no safe model format takes a {kind}; safe formats: {safe}",
        code="model-format",
        hint="convert the model to ONNX, or, if you trust whoever will load it, pass "
        "format='pickle' (or 'cloudpickle') with trust=True",
    )


def library_versions(fmt: ModelFormat) -> dict[str, str]:
    """The installed versions of the format's libraries (and Python's)."""
    import platform

    versions = {"python": platform.python_version()}
    for name in fmt.libraries:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
