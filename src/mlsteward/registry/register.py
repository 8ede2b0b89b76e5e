"""Registering a model version with its provenance.

A version is immutable: the model's bytes (an artifact in the object store), its format,
signature and trust, and its provenance: the run that produced it, that run's git commit
and dirty flag, and the dataset versions it was trained on. Registration without all
three is refused (``provenance-missing``) unless forced, and a forced version says so
for ever (``forced``, and its ``model.register`` event).

Versions number from 1 per name. The number is taken inside the write transaction that
inserts the version (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's row lock on the model),
so concurrent registrations of one name get distinct, gapless numbers. The artifact row,
its ``produced`` edge, the version, its training data and the event are one transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from mlsteward.errors import RegistryError
from mlsteward.project import Project
from mlsteward.registry.records import check_model_name, subject
from mlsteward.registry.versions import ModelVersion, get_version
from mlsteward.store.artifacts import ArtifactRow, add_edge, get_artifact, insert_artifact
from mlsteward.store.database import open_store
from mlsteward.store.datasets import resolve_version
from mlsteward.store.events import actor, append_event
from mlsteward.store.runs import new_id
from mlsteward.store.schema import (
    artifacts,
    dataset_versions,
    edges,
    model_datasets,
    model_versions,
    registered_models,
)
from mlsteward.store.views import RunView, get_run

if TYPE_CHECKING:
    from mlsteward.models import ModelPackage

__all__ = ["register_model"]


@dataclass(frozen=True)
class _Source:
    """What a registration records: the bytes, how to read them, and where they came from."""

    run: RunView | None
    artifact: ArtifactRow | None  # an existing artifact, or None for a newly saved package
    train: tuple[str, ...]  # dataset version ids
    missing: tuple[str, ...]


def register_model(
    model: Any = None,
    name: str | None = None,
    *,
    run: Any = None,
    example: Any = None,
    artifact: str | None = None,
    datasets: Iterable[str] = (),
    force: bool = False,
    description: str = "",
    format: str | None = None,
    trust: bool = False,
    project: Project | str | Path | None = None,
) -> ModelVersion:
    """Register the next version of model ``name`` with its provenance.

    Give either ``model`` (an object, saved in a safe format with ``example`` as its
    signature's example input) or an existing model artifact: ``artifact`` (an id), or by
    default the newest model artifact ``run`` produced.

    Args:
        model: the model object to save, or None to register an artifact.
        name: the registered model's name.
        run: the producing run: a `Run`, a run id, id prefix or unique name.
        example: an example input: needed with ``model``; with a plain model file
            (``.skops``, ``.onnx``) it turns the file into a package with a signature,
            which gates and `load_version` need.
        artifact: an artifact id of kind ``model``.
        datasets: training dataset versions (``["reviews@3"]``); default: the ones the
            run consumed.
        force: register even without run, commit or training data; marked for ever.
        description: what this version is.
        format: a model format id for ``model`` (default: the first that fits).
        trust: allow a pickle-based format for ``model`` (recorded).
        project: a Project, a path inside one, or None for the working directory's.

    Raises:
        RegistryError: a bad name (``model-name``); neither or both of model and artifact
            (``model-source``); no example (``example-missing``); missing provenance
            (``provenance-missing``); an artifact that is not a model
            (``artifact-not-model``), was not produced by ``run``
            (``artifact-not-produced``) or has no known format (``artifact-format``).
        NotFoundError: an unknown run, artifact or dataset version.
    """
    name = check_model_name(name)
    if not isinstance(description, str):
        raise RegistryError(
            f"description must be text, got {type(description).__name__}",
            code="model-source",
            hint='pass description="..."',
        )
    refs = _dataset_refs(datasets)
    run_ref = _run_ref(run)
    if model is not None and artifact is not None:
        raise RegistryError(
            f"register_model got both a model object and artifact {artifact!r}; "
            "expected one of them",
            code="model-source",
            hint="pass the model object, or artifact=ID of a model a run logged, not both",
        )
    if model is None and artifact is None and run_ref is None:
        raise RegistryError(
            f"nothing to register as {name!r}: no model object, artifact or run was given",
            code="model-source",
            hint="pass the model (with example=...), or a run that logged a model artifact",
        )
    if model is None and example is not None and artifact is None and run_ref is None:
        raise RegistryError(
            f"an example for {name!r} was given, but no model, artifact or run",
            code="model-source",
            hint="pass the model object, or the run / artifact whose model file it is for",
        )
    if model is not None and example is None:
        raise RegistryError(
            f"registering a model object as {name!r} needs an example input; got none",
            code="example-missing",
            hint="pass example= a few rows of the input the model predicts on",
        )
    proj = Project.of(project)
    store = open_store(proj)
    with store.read() as conn:
        source = _source(conn, run_ref, artifact if model is None else None, refs, model is None)
    if source.missing and not force:
        raise RegistryError(
            f"model {name!r} has no provenance: missing {', '.join(source.missing)}",
            code="provenance-missing",
            hint="register from a run (with a git commit) that used its training data "
            "(run.use_dataset or --data NAME@V), or pass force=True / --force to register "
            "it anyway, marked as forced for ever",
        )
    package: ModelPackage | None = None
    if model is not None:
        from mlsteward.models import save_model

        package = save_model(proj, model, example=example, format=format, trust=trust)
        kind = _kind(package)
    else:
        assert source.artifact is not None  # _source found it or raised
        kind = _describe(proj, source.artifact)
        if example is not None and not source.artifact.is_tree:
            # a plain model file with an example: package it (checked, run once, its
            # signature inferred) so that it loads like any other version
            from mlsteward.models import package_file

            package = package_file(
                proj, source.artifact.hash, format=kind["format"], example=example, trust=trust
            )
            kind = _kind(package)
    with store.write() as conn:
        if package is not None:
            stored = insert_artifact(
                conn,
                kind="model",
                digest=package.digest,
                is_tree=True,
                size=package.size,
                files=package.files,
                uri=package.uri,
                name=f"models/{name}" if source.artifact is None else source.artifact.name,
            )
        else:
            assert source.artifact is not None
            stored = source.artifact
        run_id = source.run.id if source.run is not None else None
        if run_id is not None:
            add_edge(conn, run_id, stored.id, "produced")
        model_id = _lock_model(conn, name)
        number = 1 + int(
            conn.execute(
                select(func.coalesce(func.max(model_versions.c.version), 0)).where(
                    model_versions.c.model_id == model_id
                )
            ).scalar_one()
        )
        version_id, who = new_id(), actor()
        conn.execute(
            model_versions.insert().values(
                id=version_id,
                model_id=model_id,
                version=number,
                artifact_id=stored.id,
                format=kind["format"],
                signature=json.dumps(kind["signature"], sort_keys=True, default=str),
                trust=json.dumps(kind["trust"], sort_keys=True, default=str),
                run_id=run_id,
                git_commit=source.run.git_commit if source.run else None,
                git_dirty=source.run.git_dirty if source.run else None,
                forced=bool(source.missing),
                description=description,
                created=time.time(),
                actor=who,
                deleted=None,
            )
        )
        for dataset_id in source.train:
            conn.execute(
                model_datasets.insert().values(
                    version_id=version_id, dataset_version_id=dataset_id, role="train"
                )
            )
        append_event(
            conn,
            "model.register",
            subject(name, number),
            {
                "version": version_id,
                "artifact": stored.id,
                "hash": stored.hash,
                "format": kind["format"],
                "run": run_id,
                "datasets": list(source.train),
                "forced": bool(source.missing),
                "missing": list(source.missing),
            },
            who=who,
        )
    return get_version(f"{name}@{number}", project=proj)


def _kind(package: ModelPackage) -> dict[str, Any]:
    return {
        "format": package.format,
        "signature": package.signature.to_dict(),
        "trust": dict(package.trust),
    }


def _run_ref(run: Any) -> str | None:
    if run is None:
        return None
    if isinstance(run, str):
        return run
    run_id = getattr(run, "id", None)  # a tracking Run; tracking sits above the registry
    if isinstance(run_id, str):
        return run_id
    raise RegistryError(
        f"run must be a Run, a run id or a run name, got {type(run).__name__}",
        code="model-source",
        hint="pass run=the Run from start_run, or its id",
    )


def _dataset_refs(refs: Iterable[str]) -> tuple[str, ...]:
    if isinstance(refs, str):
        refs = (refs,)
    out = tuple(refs)
    for ref in out:
        if not isinstance(ref, str):
            raise RegistryError(
                f"a training dataset is a reference like 'reviews@3', got {ref!r:.80}",
                code="model-source",
                hint='pass datasets=["NAME@VERSION", ...]',
            )
    return out


def _source(
    conn: Connection,
    run_ref: str | None,
    artifact_id: str | None,
    refs: tuple[str, ...],
    from_artifact: bool,
) -> _Source:
    run = get_run(conn, run_ref) if run_ref is not None else None
    found: ArtifactRow | None = None
    if artifact_id is not None:
        found = get_artifact(conn, artifact_id)
        if found.kind != "model":
            raise RegistryError(
                f"artifact {artifact_id} ({found.name}) is of kind {found.kind!r}; "
                "expected a model",
                code="artifact-not-model",
                hint="log the model file with run.log_artifact(path, kind='model')",
            )
        producers = _producers(conn, found.id)
        if run is None and producers:
            run = get_run(conn, producers[0])
        elif run is not None and run.id not in producers:
            raise RegistryError(
                f"run {run.id} did not produce artifact {artifact_id} ({found.name})",
                code="artifact-not-produced",
                hint="leave --run out to use the run that produced it, or give that run's "
                "own model artifact",
            )
    elif from_artifact and run is not None:
        found = _newest_model(conn, run)
    if run is not None and not refs:
        train = _consumed(conn, run.id)
    else:
        train = tuple(dict.fromkeys(resolve_version(conn, ref).id for ref in refs))
    missing = []
    if run is None:
        missing.append("producing run")
    if run is None or not run.git_commit:
        missing.append("git commit")
    if not train:
        missing.append("training data")
    return _Source(run, found, train, tuple(missing))


def _producers(conn: Connection, artifact_id: str) -> list[str]:
    return list(
        conn.execute(
            select(edges.c.run_id)
            .where(edges.c.artifact_id == artifact_id, edges.c.direction == "produced")
            .order_by(edges.c.time.desc(), edges.c.id.desc())
        ).scalars()
    )


def _newest_model(conn: Connection, run: RunView) -> ArtifactRow:
    rows = conn.execute(
        select(artifacts)
        .join(edges, edges.c.artifact_id == artifacts.c.id)
        .where(edges.c.run_id == run.id, edges.c.direction == "produced")
        .order_by(edges.c.time.desc(), edges.c.id.desc())
    ).all()
    for row in rows:
        if row.kind == "model":
            return ArtifactRow(**row._mapping)
    have = ", ".join(f"{r.name} ({r.kind})" for r in rows[:10]) or "none"
    raise RegistryError(
        f"run {run.name!r} ({run.id}) produced no model artifact (its artifacts: {have})",
        code="artifact-not-model",
        hint="log the model file in the run with run.log_artifact('model.skops'), or use "
        "run.log_model(model, name=..., example=...)",
    )


def _consumed(conn: Connection, run_id: str) -> tuple[str, ...]:
    ids = conn.execute(
        select(dataset_versions.c.id)
        .join(edges, edges.c.artifact_id == dataset_versions.c.artifact_id)
        .where(edges.c.run_id == run_id, edges.c.direction == "consumed")
        .order_by(edges.c.time, edges.c.id)
    ).scalars()
    return tuple(dict.fromkeys(ids))


def _describe(project: Project, row: ArtifactRow) -> dict[str, Any]:
    """Format, signature and trust of an existing artifact: a package's own, or the suffix's."""
    from mlsteward.models import model_formats, read_package

    if row.is_tree:
        package = read_package(project, row.hash)
        if package is not None:
            return {
                "format": package.format,
                "signature": package.signature.to_dict(),
                "trust": dict(package.trust),
            }
    by_suffix = {fmt.suffix: fmt.id for fmt in model_formats().values()}
    suffix = Path(row.name).suffix.lower()
    if row.is_tree or suffix not in by_suffix:
        raise RegistryError(
            f"artifact {row.id} ({row.name}) is no model file mlsteward can read: expected a "
            f"steward model package or a file ending in {', '.join(sorted(by_suffix))}",
            code="artifact-format",
            hint="save the model with skops or ONNX and log that file, or use "
            "run.log_model(model, name=..., example=...)",
        )
    return {"format": by_suffix[suffix], "signature": {}, "trust": {}}


def _lock_model(conn: Connection, name: str) -> str:
    """Get or create the model's row and hold it until commit; return its id."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(registered_models).values(
        id=new_id(), name=name, description="", created=time.time()
    )
    conn.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    # PostgreSQL: FOR UPDATE serialises registrations of one name (SQLite's BEGIN
    # IMMEDIATE already has; SQLAlchemy leaves the clause out there).
    return str(
        conn.execute(
            select(registered_models.c.id).where(registered_models.c.name == name).with_for_update()
        ).scalar_one()
    )
