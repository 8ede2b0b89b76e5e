"""A run's edges in the lineage graph: the dataset versions it consumed, the artifacts it made.

`log_artifact` stores a project file (or a directory, as a tree) in the object store
first and records it after, so a record never points at bytes that are not there; the
artifact row, its ``produced`` edge and the event are one transaction. `use_dataset`
records a ``consumed`` edge to the artifact behind a dataset version.
"""

from __future__ import annotations

from pathlib import Path

from mlsteward.artifacts import open_objects
from mlsteward.artifacts.trees import put_path
from mlsteward.errors import RecordError
from mlsteward.project import Project
from mlsteward.store.artifacts import KINDS, ArtifactRow, add_edge, insert_artifact
from mlsteward.store.database import Store
from mlsteward.store.datasets import DatasetVersionRow, resolve_version
from mlsteward.store.events import append_event

__all__ = ["MODEL_SUFFIXES", "infer_kind", "log_artifact", "use_dataset"]

MODEL_SUFFIXES = frozenset(
    {
        ".skops",
        ".onnx",
        ".pt",
        ".pth",
        ".safetensors",
        ".joblib",
        ".pkl",
        ".pickle",
        ".h5",
        ".keras",
        ".ckpt",
        ".bin",
    }
)


def infer_kind(path: Path) -> str:
    """``model`` for a model file's suffix, else ``file``."""
    return "model" if path.suffix.lower() in MODEL_SUFFIXES else "file"


def log_artifact(
    project: Project,
    store: Store,
    run_id: str,
    path: str | Path,
    *,
    kind: str | None = None,
    name: str | None = None,
) -> ArtifactRow:
    """Store ``path`` (inside the project) and record that run ``run_id`` produced it.

    Raises:
        PathError: the path is missing or outside the project (``path-missing``,
            ``path-outside``).
        RecordError: an unknown kind (``artifact-kind``); the file or directory changed
            while it was stored (``data-changed``), or a directory holds a link or a
            special file (``data-not-regular``).
    """
    if kind is not None and kind not in KINDS:
        raise RecordError(
            f"artifact kind {kind!r} is not one of {', '.join(KINDS)}",
            code="artifact-kind",
            hint="leave kind out to infer it (model or file), or pass one of the kinds listed",
        )
    resolved = project.resolve(path)
    objects = open_objects(project)
    stored = put_path(objects, resolved)  # a file rewritten meanwhile raises data-changed
    digest, size, files, is_tree = stored.digest, stored.size, stored.files, stored.is_tree
    label = name if name is not None else project.relative(resolved)
    with store.write() as conn:
        row = insert_artifact(
            conn,
            kind=kind or infer_kind(resolved),
            digest=digest,
            is_tree=is_tree,
            size=size,
            files=files,
            uri=objects.uri(digest),
            name=label,
        )
        add_edge(conn, run_id, row.id, "produced")
        append_event(
            conn,
            "run.log_artifact",
            run_id,
            {"artifact": row.id, "kind": row.kind, "hash": digest, "name": label},
        )
    return row


def use_dataset(store: Store, run_id: str, ref: str) -> DatasetVersionRow:
    """Record that run ``run_id`` consumed dataset version ``ref``; return that version.

    Raises:
        RecordError: a malformed reference (``dataset-name``).
        NotFoundError: no such dataset or version (``not-found``).
    """
    if not isinstance(ref, str):
        raise RecordError(
            f"a dataset reference is a str like 'reviews' or 'reviews@3', got {ref!r:.80}",
            code="dataset-name",
            hint="pass the dataset's name, optionally with @VERSION",
        )
    with store.write() as conn:
        version = resolve_version(conn, ref)
        add_edge(conn, run_id, version.artifact_id, "consumed")
        append_event(
            conn,
            "run.use_dataset",
            run_id,
            {"dataset": version.name, "version": version.version, "artifact": version.artifact_id},
        )
    return version
