"""Model packages: a model saved with its signature and trust record, stored as one tree.

A package is a directory stored in the object store as a tree (`artifacts.trees`)::

    model.<suffix>        the model, in its format
    steward-model.json    manifest: format, file, signature, trust record, library versions
    example.parquet       the first rows of the example input (when there is one)

`save_model` runs the model on its example before anything is stored, so a model that
fails on its own input is never packaged; it writes no metadata row (the registry
records the artifact and the version). `load_model` verifies every byte against its
hash, reads the manifest strictly, checks trust (the project's config and the caller's
``trust=True``, never the manifest's own trust record) and only then reads the model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsteward.artifacts import open_objects
from mlsteward.artifacts.trees import TreeEntry, put_tree, read_tree
from mlsteward.errors import ModelError, StewardError
from mlsteward.models.formats import (
    ModelFormat,
    choose_format,
    get_format,
    library_versions,
    model_formats,
)
from mlsteward.models.runners import Runner
from mlsteward.models.signature import Signature, input_specs, output_specs, to_table
from mlsteward.models.trust import Trust, project_trust, untrusted_error
from mlsteward.project import Project
from mlsteward.store.events import actor

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = [
    "EXAMPLE",
    "EXAMPLE_ROWS",
    "MANIFEST",
    "LoadedModel",
    "ModelPackage",
    "load_model",
    "read_manifest",
    "read_package",
    "save_model",
]

MANIFEST = "steward-model.json"
EXAMPLE = "example.parquet"
FORMAT = "steward-model/1"
#: rows of the example kept in the package: enough to show and test the input
EXAMPLE_ROWS = 1000
_KEYS = {
    "format",
    "model_format",
    "file",
    "model_class",
    "signature",
    "trust",
    "libraries",
    "classes",
    "example",
}
_TRUST_KEYS = {"trusted", "by", "time", "types"}


@dataclass(frozen=True)
class ModelPackage:
    """A saved model: where its tree is and what its manifest says.

    ``digest``, ``size``, ``files`` and ``uri`` describe the tree in the object store;
    `artifact_fields` gives them as `store.artifacts.insert_artifact` takes them.
    """

    format: str
    signature: Signature
    trust: Mapping[str, Any]
    digest: str
    size: int
    files: int
    uri: str
    model_class: str = ""
    classes: tuple[Any, ...] | None = None
    libraries: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_tree(self) -> bool:
        return True

    def artifact_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``insert_artifact(conn, name=..., **fields)``."""
        return {
            "kind": "model",
            "digest": self.digest,
            "is_tree": True,
            "size": self.size,
            "files": self.files,
            "uri": self.uri,
        }


def _json_scalars(values: Any) -> list[Any] | None:
    if values is None:
        return None
    return [v if isinstance(v, str | int | float | bool) else str(v) for v in values]


def _run(runner: Runner, table: pa.Table, what: str) -> Any:
    try:
        return runner.predict(table)
    except StewardError:
        raise
    except Exception as exc:  # the model's own failure, whatever its type
        if what == "example":
            raise ModelError(
                f"the model fails on its own example: {type(exc).__name__}: {exc}",
                code="model-example",
                hint="pass an example the model accepts (the same columns and types it was "
                "trained on); nothing was stored",
            ) from exc
        raise ModelError(
            f"the model failed to predict: {type(exc).__name__}: {exc}",
            code="model-predict",
            hint="the input matched the signature; check its values (missing values, "
            "unseen categories) against what the model was trained on",
        ) from exc


def save_model(
    project: Project,
    model: Any,
    *,
    example: Any,
    format: str | None = None,
    trust: bool = False,
) -> ModelPackage:
    """Run ``model`` on ``example``, infer its signature and store it as a package.

    Args:
        project: whose object store receives the package.
        model: the model object (a scikit-learn estimator, an ONNX model, ...).
        example: a few rows of its input (DataFrame, Arrow table, dict of lists, 2-D array).
        format: a format id; chosen from the model when left out (never pickle).
        trust: required for formats that execute code at load; recorded in the package.

    Raises:
        ModelError: no format (``model-format``); a code-executing format without
            ``trust`` (``model-untrusted``); a model that fails on its example or an
            unusable example (``model-example``, ``model-input``); a format that cannot
            write the model (``model-save``, ``model-external-data``).
    """
    fmt = get_format(format) if format is not None else choose_format(model)
    if not fmt.accepts(model):
        raise ModelError(
            f"the {fmt.id} format does not take a "
            f"{type(model).__module__}.{type(model).__qualname__} ({fmt.description})",
            code="model-format",
            hint="leave format out to choose one that takes the model",
        )
    if fmt.executes_code and not trust:
        raise ModelError(
            f"the {fmt.id} format executes code when the model is loaded; saving in it "
            "needs trust=True, which is recorded with the model",
            code="model-untrusted",
            hint=f"pass trust=True (--trust) to save as {fmt.id}, or leave format out to "
            "save with skops (scikit-learn) or ONNX, which run no code",
        )
    return _store_package(project, fmt, model, example, trust, lambda path: _save(fmt, model, path))


def package_file(
    project: Project, digest: str, *, format: str, example: Any, trust: bool = False
) -> ModelPackage:
    """Turn a model file already in the object store into a package, as `save_model` would.

    The file is checked before anything in it runs: its bytes against ``digest``, its
    types against the project's trusted list (or ``trust``). Then it is loaded, run on
    ``example`` to infer its signature, and stored, byte for byte, with a manifest.

    Raises:
        ModelError: an unknown ``format`` (``model-format``), an untrusted file
            (``model-untrusted``), a model that fails on its example (``model-example``).
        IntegrityError: the stored file does not match ``digest``.
    """
    fmt = get_format(format)
    trusted = project_trust(project, trust=trust)
    objects = open_objects(project)
    with tempfile.TemporaryDirectory(prefix="steward-model-") as tmp:
        source = Path(tmp) / f"model{fmt.suffix}"
        objects.copy_to(digest, source)  # verified before it appears
        offending = fmt.untrusted_types(source, trusted)
        if offending:
            raise untrusted_error(
                project, fmt.id, offending, trusted, executes_code=fmt.executes_code
            )
        model = fmt.load(source, trusted)
        return _store_package(
            project, fmt, model, example, trust, lambda path: shutil.copyfile(source, path)
        )


def _store_package(
    project: Project,
    fmt: ModelFormat,
    model: Any,
    example: Any,
    trust: bool,
    write: Callable[[Path], object],
) -> ModelPackage:
    """Write ``model``'s file with ``write``, run the example, and store the package tree."""
    table = to_table(example)
    inputs = input_specs(table)
    with tempfile.TemporaryDirectory(prefix="steward-model-") as tmp:
        folder = Path(tmp) / "package"
        folder.mkdir()
        path = folder / f"model{fmt.suffix}"
        write(path)
        output = _run(_runner(fmt, model), table, "example")
        signature = Signature(inputs, output_specs(output))
        record = {
            "trusted": bool(trust),
            "by": actor(),
            "time": time.time(),
            "types": fmt.untrusted_types(path, Trust()),
        }
        _write_example(table, folder / EXAMPLE)
        manifest = {
            "format": FORMAT,
            "model_format": fmt.id,
            "file": path.name,
            "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
            "signature": signature.to_dict(),
            "trust": record,
            "libraries": library_versions(fmt),
            "classes": _json_scalars(fmt.classes(model)),
            "example": EXAMPLE,
        }
        (folder / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        objects = open_objects(project)
        tree = put_tree(objects, folder)
    classes = manifest["classes"]
    return ModelPackage(
        format=fmt.id,
        signature=signature,
        trust=record,
        digest=tree.digest,
        size=tree.size,
        files=tree.files,
        uri=objects.uri(tree.digest),
        model_class=str(manifest["model_class"]),
        classes=tuple(classes) if isinstance(classes, list) else None,
        libraries=manifest["libraries"],  # type: ignore[arg-type]
    )


def _runner(fmt: ModelFormat, model: Any) -> Runner:
    try:
        return fmt.runner(model)
    except StewardError:
        raise
    except Exception as exc:  # e.g. onnxruntime refusing a graph it cannot run
        raise ModelError(
            f"the model cannot be run: {type(exc).__name__}: {exc}",
            code="model-example",
            hint="check that the model is complete and valid for its format; nothing was stored",
        ) from exc


def _save(fmt: ModelFormat, model: Any, path: Path) -> None:
    try:
        fmt.save(model, path)
    except StewardError:
        raise
    except Exception as exc:  # the format library's own refusal, whatever its type
        raise ModelError(
            f"the {fmt.id} format cannot write a {type(model).__qualname__}: "
            f"{type(exc).__name__}: {exc}",
            code="model-save",
            hint="choose another format (format=...), or remove the part it cannot store",
        ) from exc


def _write_example(table: pa.Table, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.write_table(table.slice(0, EXAMPLE_ROWS).replace_schema_metadata(None), path)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ModelError(
            f"the example cannot be stored as Parquet: {type(exc).__name__}: {exc}",
            code="model-example",
            hint="give the example plain column types (numbers, text, booleans, dates)",
        ) from exc


# -- loading ---------------------------------------------------------------------------------


def _corrupt(digest: str, why: str) -> ModelError:
    return ModelError(
        f"the model package {digest} is not usable: {why}",
        code="model-corrupt",
        hint="it was not written by save_model, or by a version with a format plugin not "
        "installed here; save the model again",
    )


def read_manifest(data: bytes, digest: str = "?") -> dict[str, Any]:
    """A package manifest's content, checked strictly.

    Raises:
        ModelError: not a ``steward-model/1`` manifest (code ``model-corrupt``).
    """
    try:
        doc: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(digest, f"{MANIFEST} is not UTF-8 JSON") from exc
    if not isinstance(doc, dict) or set(doc) != _KEYS:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise _corrupt(digest, f"{MANIFEST} has keys {got}; expected {sorted(_KEYS)}")
    if doc["format"] != FORMAT:
        raise _corrupt(digest, f"{MANIFEST} format is {doc['format']!r}; expected {FORMAT!r}")
    for key in ("model_format", "file", "model_class"):
        if not isinstance(doc[key], str) or not doc[key]:
            raise _corrupt(digest, f"{MANIFEST} {key} is not text")
    trust = doc["trust"]
    if not isinstance(trust, dict) or set(trust) != _TRUST_KEYS:
        raise _corrupt(digest, f"{MANIFEST} trust is not a record of {sorted(_TRUST_KEYS)}")
    if not isinstance(doc["libraries"], dict):
        raise _corrupt(digest, f"{MANIFEST} libraries is not a table")
    if doc["classes"] is not None and not isinstance(doc["classes"], list):
        raise _corrupt(digest, f"{MANIFEST} classes is not a list")
    if doc["example"] is not None and not isinstance(doc["example"], str):
        raise _corrupt(digest, f"{MANIFEST} example is not a file name")
    doc["signature"] = Signature.from_dict(doc["signature"])
    return doc


@dataclass(frozen=True)
class LoadedModel:
    """A model read back from the object store, ready to predict."""

    format: str
    signature: Signature
    model: Any
    digest: str
    trust: Mapping[str, Any]
    libraries: Mapping[str, str]
    runner: Runner = field(repr=False)
    declared_classes: tuple[Any, ...] | None = field(default=None, repr=False)

    @property
    def classes(self) -> list[Any] | None:
        """The class labels, in the order of `predict_proba`'s columns, when known."""
        found = self.runner.classes
        if found is not None:
            return found
        return list(self.declared_classes) if self.declared_classes is not None else None

    def predict(self, data: Any) -> np.ndarray:
        """Predictions for ``data``, checked against the signature first.

        Raises:
            ModelError: ``model-input`` / ``model-signature`` for input that does not
                match; ``model-predict`` when the model itself fails.
        """
        return _run(self.runner, self.signature.conform(data), "predict")  # type: ignore[no-any-return]

    def predict_proba(self, data: Any) -> np.ndarray | None:
        """Class probabilities for ``data``, or None for a model that gives none."""
        table = self.signature.conform(data)
        try:
            return self.runner.predict_proba(table)
        except StewardError:
            raise
        except Exception as exc:  # the model's own failure, whatever its type
            raise ModelError(
                f"the model failed to give probabilities: {type(exc).__name__}: {exc}",
                code="model-predict",
                hint="the input matched the signature; check its values",
            ) from exc


def _package_manifest(
    project: Project, digest: str
) -> tuple[dict[str, Any], dict[str, TreeEntry]] | None:
    objects = open_objects(project)
    entries = {e.path: e for e in read_tree(objects, digest)}
    if MANIFEST not in entries:
        return None
    return read_manifest(objects.read_bytes(entries[MANIFEST].hash), digest), entries


def read_package(project: Project, digest: str) -> ModelPackage | None:
    """What the package at ``digest`` holds (read from its manifest; no model is loaded).

    None for a tree that is not a model package (it has no ``steward-model.json``).

    Raises:
        IntegrityError: a tampered tree or manifest (``object-corrupt``, ``manifest-invalid``).
        NotFoundError: no such object (``object-missing``).
        ModelError: a manifest that does not validate (``model-corrupt``).
    """
    found = _package_manifest(project, digest)
    if found is None:
        return None
    manifest, entries = found
    classes = manifest["classes"]
    return ModelPackage(
        format=manifest["model_format"],
        signature=manifest["signature"],
        trust=manifest["trust"],
        digest=digest,
        size=sum(e.size for e in entries.values()),
        files=len(entries),
        uri=open_objects(project).uri(digest),
        model_class=manifest["model_class"],
        classes=tuple(classes) if classes is not None else None,
        libraries=manifest["libraries"],
    )


def load_model(project: Project, digest: str, *, trust: bool = False) -> LoadedModel:
    """Read the package at ``digest``, verify it, check trust, and load the model.

    Nothing from the model file runs before its bytes have verified and its trust
    checks have passed; the package's own trust record is information, never a grant.

    Raises:
        IntegrityError: an object does not match its hash (``object-corrupt``).
        NotFoundError: the package is not in the object store (``object-missing``).
        ModelError: an unreadable package (``model-corrupt``); an untrusted type or a
            code-executing format without ``trust`` (``model-untrusted``).
        ConfigError: ``[tool.steward.models]`` does not validate.
    """
    trusted = project_trust(project, trust=trust)
    objects = open_objects(project)
    found = _package_manifest(project, digest)
    if found is None:
        raise _corrupt(digest, f"the tree holds no {MANIFEST}")
    manifest, entries = found
    fmt = model_formats().get(manifest["model_format"])
    if fmt is None:
        raise _corrupt(
            digest,
            f"unknown model format {manifest['model_format']!r} "
            f"(known: {', '.join(model_formats())})",
        )
    entry = entries.get(manifest["file"])
    if entry is None or manifest["file"] == MANIFEST:
        raise _corrupt(digest, f"the model file {manifest['file']!r} is not in the package")
    with tempfile.TemporaryDirectory(prefix="steward-model-") as tmp:
        path = Path(tmp) / f"model{fmt.suffix}"
        objects.copy_to(entry.hash, path)  # verified before it appears
        offending = fmt.untrusted_types(path, trusted)
        if offending:
            raise untrusted_error(
                project, fmt.id, offending, trusted, executes_code=fmt.executes_code
            )
        model = fmt.load(path, trusted)
    try:
        runner = fmt.runner(model)
    except StewardError:
        raise
    except Exception as exc:  # a plugin's runner failing on what its own load returned
        raise _corrupt(digest, f"its {fmt.id} model cannot be run: {exc}") from exc
    classes = manifest["classes"]
    return LoadedModel(
        format=fmt.id,
        signature=manifest["signature"],
        model=model,
        digest=digest,
        trust=manifest["trust"],
        libraries=manifest["libraries"],
        runner=runner,
        declared_classes=tuple(classes) if classes is not None else None,
    )
