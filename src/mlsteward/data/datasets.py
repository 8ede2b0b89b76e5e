"""Dataset versions: add a file or directory as a new version, list, show, check out.

A version records the bytes (an object, or a tree of objects; see docs/data.md), where
they sat in the project (``path``, where checkout puts them back), where they came from
(``source``), the code version of the project when they were added (git commit and
whether tracked files differed from it, not counting the dataset itself) and, when a run made
them, that run (also a ``produced`` lineage edge).

Versions number from 1 per name. The number is taken inside the write transaction that
inserts the version (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's row lock on the dataset),
so concurrent adds of one name from several processes get distinct, gapless numbers.
Adding bytes identical to the latest version makes no new version.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from mlsteward._internal.git import run_git
from mlsteward.artifacts import open_objects
from mlsteward.artifacts.hashcache import HashCache
from mlsteward.artifacts.trees import (
    Progress,
    checkout_file,
    checkout_tree,
    put_path,
)
from mlsteward.errors import NotFoundError, PathError
from mlsteward.project import Project
from mlsteward.store.artifacts import add_edge, insert_artifact
from mlsteward.store.database import open_store
from mlsteward.store.datasets import check_name, parse_ref
from mlsteward.store.events import append_event
from mlsteward.store.runs import new_id
from mlsteward.store.schema import artifacts, dataset_versions, datasets, runs

__all__ = [
    "DatasetSummary",
    "DatasetVersion",
    "add_dataset",
    "attach",
    "attached",
    "checkout",
    "get_version",
    "list_datasets",
    "show_dataset",
]


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a dataset; ``unchanged`` when an add found it already recorded."""

    name: str
    version: int
    id: str
    artifact_id: str
    digest: str
    is_tree: bool
    size: int
    files: int
    path: str
    source: str
    code_commit: str | None
    code_dirty: bool | None
    run_id: str | None
    created: float
    unchanged: bool = False

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset with its latest version."""

    name: str
    description: str
    versions: int
    latest: DatasetVersion


# -- adding ---------------------------------------------------------------------------------


def add_dataset(
    project: Project,
    path: str | Path,
    name: str,
    *,
    source: str | None = None,
    run_id: str | None = None,
    description: str = "",
    progress: Progress | None = None,
) -> DatasetVersion:
    """Record the file or directory at ``path`` as the next version of dataset ``name``.

    Raises:
        PathError: ``path`` is missing or outside the project (``path-missing``,
            ``path-outside``), or holds the project's workspace (``data-path``).
        RecordError: bad name (``dataset-name``); the data changed while being added
            (``data-changed``); a link or special file (``data-not-regular``).
        NotFoundError: ``run_id`` names no run.
    """
    check_name(name)
    target = project.resolve(path)
    if project.workspace.resolve().is_relative_to(target):
        raise PathError(
            f"{path} holds the project's workspace {project.workspace}",
            code="data-path",
            hint="add the data's own directory (e.g. data/raw), not the project root",
        )
    rel = project.relative(target)
    objects = open_objects(project)
    project.ensure_workspace()
    cache = HashCache(project.workspace / "hashcache.db")
    try:
        stored = put_path(objects, target, progress=progress, cache=cache)
        digest, size, files, is_tree = stored.digest, stored.size, stored.files, stored.is_tree
    finally:
        cache.close()
    commit, dirty = _code_version(project.root, target)
    store = open_store(project)
    with store.write() as conn:
        if (
            run_id is not None
            and conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None
        ):
            raise NotFoundError(
                f"no run with id {run_id!r}",
                code="not-found",
                hint="`steward runs list` shows the runs",
            )
        dataset_id = _lock_dataset(conn, name, description)
        latest = _versions(conn, name, latest_only=True)
        if latest and latest[0].digest == digest and latest[0].is_tree == is_tree:
            if run_id is not None:  # this run made the same bytes again: it is lineage
                add_edge(conn, run_id, latest[0].artifact_id, "produced")
            return replace(latest[0], unchanged=True)
        number = (latest[0].version if latest else 0) + 1
        artifact = insert_artifact(
            conn,
            kind="dataset",
            digest=digest,
            is_tree=is_tree,
            size=size,
            files=files,
            uri=objects.uri(digest),
            name=rel,
        )
        row: dict[str, Any] = {
            "id": new_id(),
            "dataset_id": dataset_id,
            "version": number,
            "artifact_id": artifact.id,
            "path": rel,
            "source": source if source is not None else rel,
            "code_commit": commit,
            "code_dirty": dirty,
            "run_id": run_id,
            "created": artifact.created,
        }
        conn.execute(dataset_versions.insert().values(**row))
        if run_id is not None:
            add_edge(conn, run_id, artifact.id, "produced")
        append_event(
            conn,
            "dataset.version",
            f"{name}@{number}",
            {"artifact": artifact.id, "hash": digest, "size": size, "files": files,
             "source": row["source"], "run": run_id, "commit": commit, "dirty": dirty},
        )  # fmt: skip
    return get_version(project, f"{name}@{number}")


def _lock_dataset(conn: Connection, name: str, description: str) -> str:
    """Get or create the dataset row and hold it until commit; return its id."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(datasets).values(
        id=new_id(), name=name, description=description, created=time.time()
    )
    conn.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    # PostgreSQL: FOR UPDATE serialises adders of one name (SQLite's BEGIN IMMEDIATE
    # already has; SQLAlchemy leaves the clause out there).
    row = conn.execute(
        select(datasets.c.id, datasets.c.description)
        .where(datasets.c.name == name)
        .with_for_update()
    ).one()
    if description and row.description != description:
        conn.execute(
            datasets.update().where(datasets.c.id == row.id).values(description=description)
        )
    return str(row.id)


def _git(root: Path, *args: str) -> str | None:
    out = run_git(root, *args)
    return None if out is None else out.decode("utf-8", "surrogateescape")


def _code_version(root: Path, data: Path) -> tuple[str | None, bool | None]:
    """The project's git commit and whether anything but ``data`` differs from it."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    top = _git(root, "rev-parse", "--show-toplevel")
    if commit is None or top is None:
        return None, None
    # Dirty as `git describe --dirty` means it: tracked files changed. Untracked files
    # (data being added, scratch output) are not the code.
    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    if status is None:
        return commit.strip(), None
    try:
        skip = data.relative_to(Path(top.strip()).resolve()).as_posix()
    except ValueError:
        skip = None
    fields = status.split("\0")
    dirty, i = False, 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":  # a rename or copy: the next field is its source path
            i += 1
        changed = entry[3:]
        if skip in (None, ".") or not (changed == skip or changed.startswith(skip + "/")):
            dirty = True
            break
    return commit.strip(), dirty


# -- reading --------------------------------------------------------------------------------


def _query() -> Any:
    return (
        select(
            datasets.c.name,
            dataset_versions.c.version,
            dataset_versions.c.id,
            dataset_versions.c.artifact_id,
            artifacts.c.hash.label("digest"),
            artifacts.c.is_tree,
            artifacts.c.size,
            artifacts.c.files,
            dataset_versions.c.path,
            dataset_versions.c.source,
            dataset_versions.c.code_commit,
            dataset_versions.c.code_dirty,
            dataset_versions.c.run_id,
            dataset_versions.c.created,
        )
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .join(artifacts, artifacts.c.id == dataset_versions.c.artifact_id)
    )


def _versions(conn: Connection, name: str, *, latest_only: bool = False) -> list[DatasetVersion]:
    query = _query().where(datasets.c.name == name).order_by(dataset_versions.c.version.desc())
    if latest_only:
        query = query.limit(1)
    return [DatasetVersion(**row._mapping) for row in conn.execute(query)]


def _no_dataset(name: str) -> NotFoundError:
    return NotFoundError(
        f"no dataset named {name!r}",
        code="not-found",
        hint="`steward data list` shows the datasets",
    )


def list_datasets(project: Project) -> list[DatasetSummary]:
    """Every dataset with its latest version, by name."""
    with open_store(project).read() as conn:
        counts = {
            row.name: (row.n, row.description)
            for row in conn.execute(
                select(datasets.c.name, datasets.c.description, func.count().label("n"))
                .join(dataset_versions, dataset_versions.c.dataset_id == datasets.c.id)
                .group_by(datasets.c.name, datasets.c.description)
            )
        }
        latest = (
            select(dataset_versions.c.dataset_id, func.max(dataset_versions.c.version).label("v"))
            .group_by(dataset_versions.c.dataset_id)
            .subquery()
        )
        rows = conn.execute(
            _query()
            .join(
                latest,
                (latest.c.dataset_id == dataset_versions.c.dataset_id)
                & (latest.c.v == dataset_versions.c.version),
            )
            .order_by(datasets.c.name)
        )
        found = [DatasetVersion(**row._mapping) for row in rows]
    return [DatasetSummary(v.name, counts[v.name][1], counts[v.name][0], v) for v in found]


def show_dataset(project: Project, name: str) -> list[DatasetVersion]:
    """Every version of dataset ``name``, newest first.

    Raises:
        NotFoundError: no such dataset.
    """
    check_name(name)
    with open_store(project).read() as conn:
        versions = _versions(conn, name)
    if not versions:
        raise _no_dataset(name)
    return versions


def get_version(project: Project, ref: str) -> DatasetVersion:
    """The version ``ref`` names: ``name`` (the latest) or ``name@3``.

    Raises:
        NotFoundError: no such dataset or version (``not-found``).
        RecordError: a malformed reference (``dataset-name``).
    """
    name, number = parse_ref(ref)
    with open_store(project).read() as conn:
        if number is None:
            found = _versions(conn, name, latest_only=True)
        else:
            query = _query().where(datasets.c.name == name, dataset_versions.c.version == number)
            found = [DatasetVersion(**row._mapping) for row in conn.execute(query)]
    if not found:
        raise NotFoundError(
            f"no dataset version {ref!r}",
            code="not-found",
            hint="`steward data list` shows the datasets; `steward data show NAME` its versions",
        )
    return found[0]


# -- checkout -------------------------------------------------------------------------------


def checkout(
    project: Project,
    ref: str,
    *,
    to: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write version ``ref`` back into the project; return where it went.

    The default destination is where the version was added from; ``to`` (inside the
    project) puts it elsewhere (a file version into an existing directory keeps its
    name). Every byte is verified against its hash before it is published.

    Raises:
        PathError: ``to`` is outside the project, or files there differ from the
            version and ``force`` is not given (``checkout-conflict``).
        IntegrityError: a stored object was tampered with (``object-corrupt``).
    """
    version = get_version(project, ref)
    if to is None:
        dest = project.resolve(project.root / version.path, must_exist=False)
    else:
        dest = project.resolve(to, must_exist=False)
        if not version.is_tree and dest.is_dir():
            dest = project.resolve(dest / Path(version.path).name, must_exist=False)
    if project.workspace.resolve().is_relative_to(dest) or dest.is_relative_to(
        project.workspace.resolve()
    ):
        raise PathError(
            f"checkout into {dest} would write into the project's workspace",
            code="data-path",
            hint="pass --to with a directory of the project outside .steward",
        )
    objects = open_objects(project)
    if version.is_tree:
        checkout_tree(objects, version.digest, dest, force=force, progress=progress)
    else:
        checkout_file(objects, version.digest, version.size, dest, force=force, progress=progress)
    return dest


#: what may be attached to a dataset version, and the column that points at it
_ATTACHMENTS = {"profile": "profile_artifact_id", "schema": "schema_artifact_id"}


def attach(
    project: Project, ref: str, kind: str, data: bytes, name: str, facts: dict[str, Any]
) -> Any:
    """Store ``data`` as the ``kind`` (profile or schema) of dataset version ``ref``.

    The bytes go to the object store first; the artifact row, the version's pointer to it
    and a ``dataset.<kind>`` event (with ``facts``) are one transaction. Returns the
    artifact row.

    Raises:
        NotFoundError: no such dataset version.
    """
    from sqlalchemy import update

    version = get_version(project, ref)
    objects = open_objects(project)
    info = objects.put_bytes(data)
    with open_store(project).write() as conn:
        artifact = insert_artifact(
            conn, kind=kind, digest=info.digest, is_tree=False, size=len(data), files=1,
            uri=objects.uri(info.digest), name=f"{version.ref}.{name}",
        )  # fmt: skip
        conn.execute(
            update(dataset_versions)
            .where(dataset_versions.c.id == version.id)
            .values({_ATTACHMENTS[kind]: artifact.id})
        )
        event = {"artifact": artifact.id, "hash": info.digest, "size": len(data), **facts}
        append_event(conn, f"dataset.{kind}", version.ref, event)
    return artifact


def attached(project: Project, ref: str, kind: str) -> tuple[DatasetVersion, bytes | None]:
    """Dataset version ``ref`` and the verified bytes of its ``kind``, None if it has none.

    Raises:
        NotFoundError: no such dataset version.
    """

    version = get_version(project, ref)
    pointer = dataset_versions.c[_ATTACHMENTS[kind]]
    with open_store(project).read() as conn:
        row = conn.execute(
            select(artifacts.c.hash)
            .join(dataset_versions, pointer == artifacts.c.id)
            .where(dataset_versions.c.id == version.id)
        ).first()
    if row is None:
        return version, None
    return version, open_objects(project).read_bytes(row.hash)
