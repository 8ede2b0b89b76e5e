"""Model versions: list, show, delete, load.

A version is immutable once registered (`mlsteward.registry.register`). Deleting is
soft: the row stays for the history, and a version an alias points to cannot be
deleted. A reference is ``NAME`` (the newest version not deleted), ``NAME@3`` or
``NAME@ALIAS``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from mlsteward.errors import RegistryError
from mlsteward.project import Project
from mlsteward.registry.records import (
    ModelRow,
    check_model_name,
    check_number,
    check_reason,
    find_model,
    parse_model_ref,
    resolve_number,
    subject,
    when,
)
from mlsteward.store.database import open_store
from mlsteward.store.events import append_event
from mlsteward.store.schema import (
    aliases,
    artifacts,
    dataset_versions,
    datasets,
    model_datasets,
    model_versions,
    registered_models,
)

if TYPE_CHECKING:
    from mlsteward.models import LoadedModel
    from mlsteward.registry.verdicts import VerdictRow

__all__ = [
    "ModelSummary",
    "ModelVersion",
    "TrainingData",
    "VersionDetail",
    "delete_version",
    "get_version",
    "list_models",
    "list_versions",
    "load_version",
    "show_version",
]


@dataclass(frozen=True)
class TrainingData:
    """A dataset version a model version was trained (``train``) or evaluated on."""

    ref: str  # name@version
    role: str
    id: str


@dataclass(frozen=True)
class ModelVersion:
    """One immutable version of a registered model, with its provenance and aliases."""

    name: str
    version: int
    id: str
    artifact_id: str
    digest: str
    is_tree: bool
    size: int
    format: str
    signature: Mapping[str, Any]
    trust: Mapping[str, Any]
    run_id: str | None
    git_commit: str | None
    git_dirty: bool | None
    forced: bool
    description: str
    created: float
    actor: str
    deleted: float | None
    datasets: tuple[TrainingData, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "id": self.id,
            "artifact_id": self.artifact_id,
            "hash": self.digest,
            "tree": self.is_tree,
            "size": self.size,
            "format": self.format,
            "signature": dict(self.signature),
            "trust": dict(self.trust),
            "run_id": self.run_id,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "forced": self.forced,
            "description": self.description,
            "created": self.created,
            "actor": self.actor,
            "deleted": self.deleted,
            "datasets": [{"ref": d.ref, "role": d.role} for d in self.datasets],
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class ModelSummary:
    """A registered model: how many versions, the newest, and where its aliases point."""

    name: str
    description: str
    versions: int
    latest: int | None  # the newest version not deleted
    aliases: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "versions": self.versions,
            "latest": self.latest,
            "aliases": dict(self.aliases),
        }


@dataclass(frozen=True)
class VersionDetail:
    """A version with the gate verdicts recorded on it (what ``steward models show`` prints)."""

    version: ModelVersion
    verdicts: Sequence[VerdictRow]

    def to_dict(self) -> dict[str, Any]:
        return {**self.version.to_dict(), "verdicts": [v.to_dict() for v in self.verdicts]}


# -- reading ----------------------------------------------------------------------------------


def _query() -> Any:
    return (
        select(
            registered_models.c.name,
            model_versions.c.version,
            model_versions.c.id,
            model_versions.c.artifact_id,
            artifacts.c.hash.label("digest"),
            artifacts.c.is_tree,
            artifacts.c.size,
            model_versions.c.format,
            model_versions.c.signature,
            model_versions.c.trust,
            model_versions.c.run_id,
            model_versions.c.git_commit,
            model_versions.c.git_dirty,
            model_versions.c.forced,
            model_versions.c.description,
            model_versions.c.created,
            model_versions.c.actor,
            model_versions.c.deleted,
        )
        .join(registered_models, registered_models.c.id == model_versions.c.model_id)
        .join(artifacts, artifacts.c.id == model_versions.c.artifact_id)
    )


def _hydrate(conn: Connection, model: ModelRow, rows: Sequence[Any]) -> list[ModelVersion]:
    ids = [r.id for r in rows]
    used: dict[str, list[TrainingData]] = {i: [] for i in ids}
    if ids:
        for r in conn.execute(
            select(
                model_datasets.c.version_id,
                model_datasets.c.role,
                dataset_versions.c.id,
                datasets.c.name,
                dataset_versions.c.version,
            )
            .join(dataset_versions, dataset_versions.c.id == model_datasets.c.dataset_version_id)
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .where(model_datasets.c.version_id.in_(ids))
            .order_by(model_datasets.c.role.desc(), datasets.c.name, dataset_versions.c.version)
        ):
            used[r.version_id].append(TrainingData(f"{r.name}@{r.version}", r.role, r.id))
    held: dict[int, list[str]] = {}
    for a in conn.execute(
        select(aliases.c.alias, aliases.c.version)
        .where(aliases.c.model_id == model.id)
        .order_by(aliases.c.alias)
    ):
        held.setdefault(int(a.version), []).append(a.alias)
    out = []
    for r in rows:
        m = dict(r._mapping)
        m["signature"] = json.loads(m["signature"])
        m["trust"] = json.loads(m["trust"])
        m["forced"] = bool(m["forced"])
        m["git_dirty"] = None if m["git_dirty"] is None else bool(m["git_dirty"])
        m["is_tree"] = bool(m["is_tree"])
        m["size"] = int(m["size"])
        out.append(
            ModelVersion(
                **m,
                datasets=tuple(used[r.id]),
                aliases=tuple(held.get(int(r.version), ())),
            )
        )
    return out


def version_in(conn: Connection, ref: str) -> ModelVersion:
    """The version ``ref`` names, inside the caller's transaction (see `get_version`)."""
    name, which = parse_model_ref(ref)
    model = find_model(conn, name)
    number = resolve_number(conn, model, which)
    rows = conn.execute(
        _query().where(model_versions.c.model_id == model.id, model_versions.c.version == number)
    ).all()
    return _hydrate(conn, model, rows)[0]


def get_version(ref: str, *, project: Project | str | Path | None = None) -> ModelVersion:
    """The version ``ref`` names: ``name@3``, ``name@production`` or ``name`` (the newest).

    Raises:
        RegistryError: a malformed reference (``model-name``, ``alias-name``,
            ``version-number``).
        NotFoundError: ``model-not-found``, ``version-not-found`` or ``alias-not-found``.
    """
    with open_store(Project.of(project)).read() as conn:
        return version_in(conn, ref)


def show_version(ref: str, *, project: Project | str | Path | None = None) -> VersionDetail:
    """The version ``ref`` names and every gate verdict recorded on it."""
    from mlsteward.registry.verdicts import verdicts_of

    with open_store(Project.of(project)).read() as conn:
        version = version_in(conn, ref)
        return VersionDetail(version, verdicts_of(conn, version.id))


def list_versions(name: str, *, project: Project | str | Path | None = None) -> list[ModelVersion]:
    """Every version of model ``name``, newest first (deleted ones too, marked).

    Raises:
        NotFoundError: no such model (``model-not-found``).
    """
    check_model_name(name)
    with open_store(Project.of(project)).read() as conn:
        model = find_model(conn, name)
        rows = conn.execute(
            _query()
            .where(model_versions.c.model_id == model.id)
            .order_by(model_versions.c.version.desc())
        ).all()
        return _hydrate(conn, model, rows)


def list_models(*, project: Project | str | Path | None = None) -> list[ModelSummary]:
    """Every registered model, by name."""
    with open_store(Project.of(project)).read() as conn:
        counts = {
            r.model_id: (int(r.n), r.latest)
            for r in conn.execute(
                select(
                    model_versions.c.model_id,
                    func.count().label("n"),
                    func.max(model_versions.c.version)
                    .filter(model_versions.c.deleted.is_(None))
                    .label("latest"),
                ).group_by(model_versions.c.model_id)
            )
        }
        held: dict[str, dict[str, int]] = {}
        for a in conn.execute(select(aliases).order_by(aliases.c.alias)):
            held.setdefault(a.model_id, {})[a.alias] = int(a.version)
        rows = conn.execute(select(registered_models).order_by(registered_models.c.name)).all()
    out = []
    for r in rows:
        n, latest = counts.get(r.id, (0, None))
        out.append(
            ModelSummary(
                r.name,
                r.description,
                n,
                None if latest is None else int(latest),
                held.get(r.id, {}),
            )
        )
    return out


# -- deleting and loading ---------------------------------------------------------------------


def delete_version(
    name: str, version: int, *, reason: str, project: Project | str | Path | None = None
) -> ModelVersion:
    """Mark a version deleted (its rows stay for the history); refused while an alias holds it.

    Raises:
        RegistryError: an alias points to it (``version-in-use``), it is already deleted
            (``version-deleted``), or no reason (``reason-missing``).
        NotFoundError: ``model-not-found``, ``version-not-found``.
    """
    check_model_name(name)
    why = check_reason(reason, f"deleting {name}@{version}")
    number = check_number(version)
    with open_store(Project.of(project)).write() as conn:
        model = find_model(conn, name)
        resolve_number(conn, model, number)
        # the row lock (PostgreSQL) orders this against a promotion checking the version
        row = conn.execute(
            select(model_versions.c.id, model_versions.c.deleted)
            .where(model_versions.c.model_id == model.id, model_versions.c.version == number)
            .with_for_update()
        ).one()
        if row.deleted is not None:
            raise RegistryError(
                f"{name}@{number} was already deleted at {when(row.deleted)}",
                code="version-deleted",
                hint=f"`steward models history {name}` and `steward models show {name}@{number}` "
                "show its records",
            )
        holders = list(
            conn.execute(
                select(aliases.c.alias)
                .where(aliases.c.model_id == model.id, aliases.c.version == number)
                .order_by(aliases.c.alias)
            ).scalars()
        )
        if holders:
            raise RegistryError(
                f"{name}@{number} cannot be deleted: alias {', '.join(holders)} points to it",
                code="version-in-use",
                hint=f"promote another version to {holders[0]} (or roll it back) first: "
                f"`steward models promote {name} VERSION --to {holders[0]} --reason ...`",
            )
        conn.execute(
            model_versions.update().where(model_versions.c.id == row.id).values(deleted=time.time())
        )
        append_event(conn, "model.delete", subject(name, number), {"reason": why})
        return version_in(conn, f"{name}@{number}")


def load_version(
    ref: str, *, trust: bool = False, project: Project | str | Path | None = None
) -> LoadedModel:
    """Load the model version ``ref`` names (content hash checked first; see models).

    Raises:
        RegistryError: the version is deleted (``version-deleted``), or a plain model
            file rather than a package (``model-not-package``).
        ModelError: the artifact is tampered with or not trusted.
    """
    from mlsteward.models import load_model

    proj = Project.of(project)
    version = get_version(ref, project=proj)
    if version.deleted is not None:
        raise RegistryError(
            f"{version.ref} was deleted at {when(version.deleted)}",
            code="version-deleted",
            hint=f"load another version; `steward models show {version.name}` lists them",
        )
    if not version.is_tree:
        raise RegistryError(
            f"{version.ref} is a plain {version.format} file, not a steward model package; "
            "only a package carries the signature and trust record loading checks",
            code="model-not-package",
            hint=f"register it again with a few input rows (`steward models register "
            f"{version.name} --run RUN --example rows.parquet`, or register_model(..., "
            "example=rows)), or log the model object with run.log_model(...)",
        )
    return load_model(proj, version.digest, trust=trust)
