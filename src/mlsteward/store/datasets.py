"""Dataset and dataset-version records, and resolving a reference like ``reviews@3``.

A dataset is a name; each version points at an artifact (a file or a directory tree in
the object store) with where it came from (``source``), the code version that produced
it (git commit and dirty flag) and, when a run made it, that run. Versions number from
1 per dataset; adding bytes identical to the latest version makes no new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from mlsteward.errors import NotFoundError, RecordError
from mlsteward.store.schema import dataset_versions, datasets

__all__ = ["NAME", "DatasetVersionRow", "check_name", "parse_ref", "resolve_version"]

#: a dataset name, and a registered model's: 1-128 letters, digits, ".", "_", "-"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class DatasetVersionRow:
    id: str
    dataset_id: str
    name: str
    version: int
    artifact_id: str
    path: str
    source: str
    code_commit: str | None
    code_dirty: bool | None
    run_id: str | None
    profile_artifact_id: str | None
    schema_artifact_id: str | None
    created: float


def check_name(name: str) -> str:
    """``name`` if it is a valid dataset name.

    Raises:
        RecordError: anything else (code ``dataset-name``).
    """
    if not NAME.fullmatch(name):
        raise RecordError(
            f"dataset name {name!r} is not valid",
            code="dataset-name",
            hint="use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``name[@version]``; a missing version means the latest.

    Raises:
        RecordError: the version is not a positive integer (code ``dataset-name``).
    """
    name, _, version = ref.partition("@")
    check_name(name)
    if not version or version == "latest":
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise RecordError(
            f"dataset reference {ref!r} has version {version!r}; expected a number from 1",
            code="dataset-name",
            hint="write NAME for the latest version or NAME@3 for version 3",
        )
    return name, int(version)


def resolve_version(conn: Connection, ref: str) -> DatasetVersionRow:
    """The dataset version ``ref`` (``name`` for the latest, ``name@3`` for one version).

    Raises:
        NotFoundError: no such dataset or version (code ``not-found``).
    """
    name, version = parse_ref(ref)
    query = (
        select(dataset_versions, datasets.c.name)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(datasets.c.name == name)
    )
    if version is None:
        latest = (
            select(func.max(dataset_versions.c.version))
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .where(datasets.c.name == name)
            .scalar_subquery()
        )
        query = query.where(dataset_versions.c.version == latest)
    else:
        query = query.where(dataset_versions.c.version == version)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"no dataset version {ref!r}",
            code="not-found",
            hint="`steward data list` shows the datasets; `steward data show NAME` its versions",
        )
    return DatasetVersionRow(**row._mapping)
