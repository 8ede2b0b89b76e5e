"""Keeping the object store honest: `verify` what the records point to, `collect_garbage`.

Both start from the records: every artifact's hash, and for a directory artifact its
tree manifest and every member the manifest lists.

``verify`` checks that each of those objects is present and still hashes to its
address, and names the records that point at each one that is not. With
``all_objects`` it also checks the objects nobody references.

``collect_garbage`` deletes objects that no record references and that are older than
a grace period (default an hour), so the objects of an add still in flight in another
process (written, not yet recorded) are never taken. If a referenced manifest is
missing or damaged, gc cannot know which objects that tree needs, so it stops
(``gc-aborted``) before deleting anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from mlsteward.artifacts import open_objects
from mlsteward.artifacts.objects import ObjectStore
from mlsteward.artifacts.trees import Progress, read_tree
from mlsteward.errors import IntegrityError, NotFoundError, ObjectStoreError, UsageError
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.schema import artifacts, dataset_versions, datasets

__all__ = ["GcReport", "Problem", "VerifyReport", "collect_garbage", "verify"]


@dataclass(frozen=True)
class Problem:
    """An object that is missing, corrupt, or (a manifest) invalid; who points at it."""

    digest: str
    status: Literal["missing", "corrupt", "invalid"]
    referrers: tuple[str, ...]


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` checked and what it found wrong."""

    checked: int
    bytes: int
    unreferenced: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class GcReport:
    """What `collect_garbage` kept and removed (or would remove, in a dry run)."""

    referenced: int
    removed: int
    removed_bytes: int
    young: int
    tmp_removed: int
    dry_run: bool


@dataclass(frozen=True)
class _Ref:
    digest: str
    is_tree: bool
    size: int
    label: str


def _references(project: Project) -> list[_Ref]:
    """Every artifact's object, labelled the way people name it."""
    with open_store(project).read() as conn:
        names = {
            row.artifact_id: f"dataset {row.name}@{row.version}"
            for row in conn.execute(
                select(
                    dataset_versions.c.artifact_id, datasets.c.name, dataset_versions.c.version
                ).join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            )
        }
        rows = conn.execute(
            select(
                artifacts.c.id, artifacts.c.kind, artifacts.c.name, artifacts.c.hash,
                artifacts.c.is_tree, artifacts.c.size,
            ).order_by(artifacts.c.created)
        ).all()  # fmt: skip
    return [
        _Ref(
            r.hash,
            r.is_tree,
            r.size,
            names.get(r.id) or f"{r.kind} {r.name} (artifact {r.id[:8]})",
        )
        for r in rows
    ]


def _check(
    objects: ObjectStore, digest: str, progress: Progress | None
) -> Literal["ok", "missing", "corrupt"]:
    try:
        for _ in objects.chunks(digest, progress=progress.advance if progress else None):
            pass
    except NotFoundError:
        return "missing"
    except IntegrityError:
        return "corrupt"
    return "ok"


def verify(
    project: Project, *, all_objects: bool = False, progress: Progress | None = None
) -> VerifyReport:
    """Check every object the records reference (and, with ``all_objects``, every other)."""
    objects = open_objects(project)
    refs = _references(project)
    referrers: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    problems: dict[str, Problem] = {}
    checked, total = 0, 0
    for ref in refs:
        if not ref.is_tree:
            referrers.setdefault(ref.digest, []).append(ref.label)
            sizes[ref.digest] = ref.size
            continue
        try:
            entries = read_tree(objects, ref.digest)
        except (NotFoundError, IntegrityError) as exc:
            status: Literal["missing", "corrupt", "invalid"] = "missing"
            if isinstance(exc, IntegrityError):
                status = "invalid" if exc.code == "manifest-invalid" else "corrupt"
            old = problems.get(ref.digest)
            who = (*old.referrers, ref.label) if old else (f"{ref.label} (manifest)",)
            problems[ref.digest] = Problem(ref.digest, status, who)
            continue
        checked += 1
        for entry in entries:
            referrers.setdefault(entry.hash, []).append(f"{ref.label}: {entry.path}")
            sizes[entry.hash] = entry.size
    if progress is not None:
        progress.start(sum(sizes.values()))
    for digest, labels in referrers.items():
        result = _check(objects, digest, progress)
        checked += 1
        total += sizes[digest]
        if result != "ok":
            problems[digest] = Problem(digest, result, tuple(labels))
    unreferenced = 0
    if all_objects:
        known = set(referrers) | {r.digest for r in refs}
        for digest in objects:
            if digest in known:
                continue
            unreferenced += 1
            checked += 1
            if _check(objects, digest, None) == "corrupt":
                problems[digest] = Problem(digest, "corrupt", ())
    return VerifyReport(checked, total, unreferenced, tuple(problems.values()))


def collect_garbage(
    project: Project, *, dry_run: bool = False, grace_seconds: float = 3600
) -> GcReport:
    """Delete objects no record references and older than ``grace_seconds``.

    Raises:
        ObjectStoreError: a referenced tree manifest is missing or damaged
            (``gc-aborted``); nothing was deleted.
        UsageError: a negative grace period (``usage-value``).
    """
    if grace_seconds < 0:
        raise UsageError(
            f"grace period {grace_seconds:g} s is negative",
            code="usage-value",
            hint="give a duration such as 1h, 30m or 0",
        )
    objects = open_objects(project)
    marked: set[str] = set()
    for ref in _references(project):
        marked.add(ref.digest)
        if not ref.is_tree:
            continue
        try:
            marked.update(entry.hash for entry in read_tree(objects, ref.digest))
        except (NotFoundError, IntegrityError) as exc:
            raise ObjectStoreError(
                f"the manifest of {ref.label} ({ref.digest}) cannot be read: {exc.message}; "
                "gc stopped before deleting anything",
                code="gc-aborted",
                hint="run `steward verify`, restore the manifest from a copy of the object "
                "store, then run gc again",
            ) from exc
    cutoff = time.time() - grace_seconds
    removed = removed_bytes = young = 0
    for digest in list(objects):
        if digest in marked:
            continue
        try:
            if objects.modified(digest) > cutoff:
                young += 1
                continue
            size = objects.size(digest)
        except (FileNotFoundError, NotFoundError):
            continue  # removed meanwhile (another gc)
        if not dry_run:
            objects.delete(digest)
        removed += 1
        removed_bytes += size
    tmp_removed = 0 if dry_run else objects.clean_tmp(cutoff)
    return GcReport(len(marked), removed, removed_bytes, young, tmp_removed, dry_run)
