"""`verify` finds missing and tampered objects; `collect_garbage` only takes the unreferenced."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mlsteward.artifacts import open_objects
from mlsteward.artifacts.trees import read_tree
from mlsteward.data.datasets import DatasetVersion, add_dataset
from mlsteward.data.housekeeping import collect_garbage, verify
from mlsteward.errors import ObjectStoreError
from mlsteward.project import Project
from repo_builder import build_repo

LONG_AGO = time.time() - 7200  # two hours: past the default grace of one


def _key(project: Project, digest: str) -> Path:
    return project.workspace / "objects" / "sha256" / digest[:2] / digest[2:]


def _age(project: Project, digest: str) -> None:
    os.utime(_key(project, digest), (LONG_AGO, LONG_AGO))


def _setup(project_dir: Path) -> tuple[Project, DatasetVersion, DatasetVersion]:
    project = Project.open()
    build_repo(project_dir, {"one.csv": "1\n", "d": {"a.txt": "a\n", "b": {"c.txt": "c\n"}}})
    return project, add_dataset(project, "one.csv", "one"), add_dataset(project, "d", "d")


def test_verify_passes_then_names_missing_and_corrupt_objects(project_dir: Path) -> None:
    project, one, tree = _setup(project_dir)
    report = verify(project)
    assert report.ok
    assert report.checked == 4  # one file, a manifest and its two members
    members = {e.path: e.hash for e in read_tree(open_objects(project), tree.digest)}
    key = _key(project, members["b/c.txt"])
    key.chmod(0o644)
    key.write_bytes(b"tampered")
    _key(project, one.digest).unlink()
    report = verify(project)
    assert not report.ok
    found = {p.status: p for p in report.problems}
    assert found["corrupt"].digest == members["b/c.txt"]
    assert found["corrupt"].referrers == ("dataset d@1: b/c.txt",)
    assert found["missing"].referrers == ("dataset one@1",)


def test_verify_reports_a_broken_manifest_and_all_checks_unreferenced(
    project_dir: Path,
) -> None:
    project, _, tree = _setup(project_dir)
    stray = open_objects(project).put_bytes(b"nobody points here")
    assert verify(project, all_objects=True).unreferenced == 1
    key = _key(project, stray.digest)
    key.chmod(0o644)
    key.write_bytes(b"changed")
    report = verify(project, all_objects=True)
    assert [(p.digest, p.status, p.referrers) for p in report.problems] == [
        (stray.digest, "corrupt", ())
    ]
    _key(project, tree.digest).unlink()
    problems = verify(project).problems
    assert [(p.status, p.referrers) for p in problems] == [("missing", ("dataset d@1 (manifest)",))]


def test_gc_takes_old_unreferenced_objects_only(project_dir: Path) -> None:
    project, one, tree = _setup(project_dir)
    objects = open_objects(project)
    old = objects.put_bytes(b"old garbage")
    young = objects.put_bytes(b"young garbage, maybe an add in flight")
    referenced = [one.digest, tree.digest, *(e.hash for e in read_tree(objects, tree.digest))]
    for digest in [old.digest, *referenced]:
        _age(project, digest)
    dry = collect_garbage(project, dry_run=True)
    assert (dry.removed, dry.removed_bytes, dry.young, dry.dry_run) == (1, 11, 1, True)
    assert objects.exists(old.digest)
    report = collect_garbage(project)
    assert (report.removed, report.young, report.referenced) == (1, 1, 4)
    assert not objects.exists(old.digest)
    assert objects.exists(young.digest)
    assert all(objects.verify(d) for d in referenced)
    assert collect_garbage(project, grace_seconds=0).removed == 1
    assert not objects.exists(young.digest)
    assert verify(project).ok


def test_gc_removes_stale_temporary_files(project_dir: Path) -> None:
    project, _, _ = _setup(project_dir)
    incoming = project.workspace / "objects" / "incoming"
    stale = incoming / "left-by-a-dead-writer"
    stale.write_bytes(b"half")
    os.utime(stale, (LONG_AGO, LONG_AGO))
    fresh = incoming / "being-written"
    fresh.write_bytes(b"half")
    assert collect_garbage(project).tmp_removed == 1
    assert not stale.exists()
    assert fresh.exists()


def test_gc_aborts_when_a_referenced_manifest_is_missing(project_dir: Path) -> None:
    project, _, tree = _setup(project_dir)
    objects = open_objects(project)
    members = [e.hash for e in read_tree(objects, tree.digest)]
    for digest in members:
        _age(project, digest)
    _key(project, tree.digest).unlink()
    with pytest.raises(ObjectStoreError) as err:
        collect_garbage(project, grace_seconds=0)
    assert err.value.code == "gc-aborted"
    assert all(objects.exists(d) for d in members)
