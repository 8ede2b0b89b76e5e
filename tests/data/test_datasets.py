"""Dataset versions on both backends: add, re-add, provenance, checkout, bad input, races."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from mlsteward.data.datasets import (
    add_dataset,
    checkout,
    get_version,
    list_datasets,
    show_dataset,
)
from mlsteward.errors import IntegrityError, NotFoundError, PathError, RecordError
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.runs import insert_run, new_id
from mlsteward.store.schema import dataset_versions, edges
from repo_builder import build_repo, git


def make_run(project: Project, name: str = "extract") -> str:
    run_id = new_id()
    with open_store(project).write() as conn:
        insert_run(
            conn, {"id": run_id, "name": name, "experiment": "default", "start_time": time.time()}
        )
    return run_id


def object_path(project: Project, digest: str) -> Path:
    return project.workspace / "objects" / "sha256" / digest[:2] / digest[2:]


def tamper(path: Path) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


def test_adding_a_file_then_a_directory_records_versions(project_dir: Path) -> None:
    project = Project.open()
    build_repo(project_dir, {"data": {"reviews.csv": "id,text\n1,good\n"}})
    v1 = add_dataset(project, "data/reviews.csv", "reviews")
    assert (v1.name, v1.version, v1.files, v1.is_tree) == ("reviews", 1, 1, False)
    assert not v1.unchanged
    assert v1.size == len("id,text\n1,good\n")
    assert v1.path == v1.source == "data/reviews.csv"
    (project_dir / "data" / "reviews.csv").write_text("id,text\n1,good\n2,bad\n")
    v2 = add_dataset(project, "data/reviews.csv", "reviews", source="https://example.com/r.csv")
    assert v2.version == 2
    assert v2.source == "https://example.com/r.csv"
    assert v2.digest != v1.digest
    build_repo(project_dir, {"images": {"a.png": b"\x89PNG", "sub": {"b.png": b"\x89PNG2"}}})
    tree = add_dataset(project, "images", "images", description="pictures")
    assert (tree.version, tree.files, tree.is_tree, tree.size) == (1, 2, True, 9)
    assert [v.version for v in show_dataset(project, "reviews")] == [2, 1]
    summary = {d.name: d for d in list_datasets(project)}
    assert summary["reviews"].versions == 2
    assert summary["reviews"].latest.version == 2
    assert summary["images"].description == "pictures"
    assert get_version(project, "reviews@1") == v1
    assert get_version(project, "reviews").version == 2
    with open_store(project).read() as conn:
        kinds = [(e.kind, e.subject) for e in read_events(conn, kind="dataset.version")]
    assert kinds == [
        ("dataset.version", "reviews@1"),
        ("dataset.version", "reviews@2"),
        ("dataset.version", "images@1"),
    ]


def test_re_adding_identical_bytes_makes_no_version(project_dir: Path) -> None:
    project = Project.open()
    build_repo(project_dir, {"d": {"x.txt": "x"}})
    first = add_dataset(project, "d", "d")
    again = add_dataset(project, "d", "d")
    assert again.unchanged
    assert (again.version, again.id) == (first.version, first.id)
    assert [v.version for v in show_dataset(project, "d")] == [1]


def test_the_code_version_is_recorded_with_the_dirty_flag(project_dir: Path) -> None:
    project = Project.open()
    head = git(project_dir, "rev-parse", "HEAD").strip()
    build_repo(project_dir, {"data.csv": "a\n"})
    clean = add_dataset(project, "data.csv", "data")  # untracked data does not count
    assert (clean.code_commit, clean.code_dirty) == (head, False)
    (project_dir / "pyproject.toml").write_text('[project]\nname = "changed"\nversion = "0"\n')
    (project_dir / "data.csv").write_text("b\n")
    dirty = add_dataset(project, "data.csv", "data")
    assert (dirty.code_commit, dirty.code_dirty) == (head, True)


def test_a_run_id_records_the_produced_edge(project_dir: Path) -> None:
    project = Project.open()
    run_id = make_run(project)
    build_repo(project_dir, {"out.csv": "1\n"})
    version = add_dataset(project, "out.csv", "out", run_id=run_id)
    assert version.run_id == run_id
    with open_store(project).read() as conn:
        rows = conn.execute(select(edges.c.run_id, edges.c.artifact_id, edges.c.direction)).all()
    assert [tuple(r) for r in rows] == [(run_id, version.artifact_id, "produced")]
    with pytest.raises(NotFoundError):
        add_dataset(project, "out.csv", "out", run_id="f" * 32)


def test_checkout_restores_files_and_directories_exactly(project_dir: Path) -> None:
    project = Project.open()
    payload = os.urandom(300_000)
    build_repo(project_dir, {"raw": {"a.bin": payload, "b": {"c.txt": "c"}}, "one.bin": payload})
    add_dataset(project, "raw", "raw")
    add_dataset(project, "one.bin", "one")
    (project_dir / "raw" / "a.bin").unlink()
    (project_dir / "one.bin").unlink()
    assert checkout(project, "raw@1") == project_dir / "raw"
    assert (project_dir / "raw" / "a.bin").read_bytes() == payload
    assert checkout(project, "one") == project_dir / "one.bin"
    assert (project_dir / "one.bin").read_bytes() == payload
    where = checkout(project, "raw", to="elsewhere/copy")
    assert (where / "b" / "c.txt").read_text() == "c"
    (project_dir / "into").mkdir()
    assert checkout(project, "one", to="into") == project_dir / "into" / "one.bin"


def test_checkout_conflict_and_force(project_dir: Path) -> None:
    project = Project.open()
    build_repo(project_dir, {"t.csv": "v1\n"})
    add_dataset(project, "t.csv", "t")
    (project_dir / "t.csv").write_text("local edit\n")
    with pytest.raises(PathError) as err:
        checkout(project, "t@1")
    assert err.value.code == "checkout-conflict"
    assert (project_dir / "t.csv").read_text() == "local edit\n"
    checkout(project, "t@1", force=True)
    assert (project_dir / "t.csv").read_text() == "v1\n"


def test_paths_outside_the_root_are_refused(project_dir: Path, tmp_path: Path) -> None:
    project = Project.open()
    (tmp_path / "secret.txt").write_text("s")
    with pytest.raises(PathError) as err:
        add_dataset(project, tmp_path / "secret.txt", "s")
    assert err.value.code == "path-outside"
    with pytest.raises(PathError) as err:
        add_dataset(project, "../secret.txt", "s")
    assert err.value.code == "path-outside"
    with pytest.raises(PathError) as err:
        add_dataset(project, ".", "everything")
    assert err.value.code == "data-path"
    build_repo(project_dir, {"ok.txt": "ok"})
    add_dataset(project, "ok.txt", "ok")
    with pytest.raises(PathError) as err:
        checkout(project, "ok", to="../out.txt")
    assert err.value.code == "path-outside"
    assert not (tmp_path / "out.txt").exists()
    with pytest.raises(RecordError) as err:
        add_dataset(project, "ok.txt", "bad name!")
    assert err.value.code == "dataset-name"


def test_a_tampered_object_is_never_checked_out(project_dir: Path) -> None:
    project = Project.open()
    build_repo(project_dir, {"d": {"a.txt": "original a\n", "b.txt": "b\n"}})
    version = add_dataset(project, "d", "d")
    digest = next(e for e in _members(project, version.digest) if e.path == "a.txt").hash
    tamper(object_path(project, digest))
    (project_dir / "d" / "a.txt").unlink()
    with pytest.raises(IntegrityError) as err:
        checkout(project, "d")
    assert err.value.code == "object-corrupt"
    assert not (project_dir / "d" / "a.txt").exists()


def _members(project: Project, digest: str) -> list:  # type: ignore[type-arg]
    from mlsteward.artifacts import open_objects
    from mlsteward.artifacts.trees import read_tree

    return read_tree(open_objects(project), digest)


class _Append:
    def __init__(self, path: Path) -> None:
        self.path, self.fired = path, False

    def start(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        if not self.fired:
            self.fired = True
            with self.path.open("ab") as fh:
                fh.write(b"written while being added")


def test_a_directory_changing_during_the_add_records_nothing(project_dir: Path) -> None:
    project = Project.open()
    big = {f"part-{i}.bin": os.urandom(1 << 20) for i in range(4)}
    build_repo(project_dir, {"live": {**big, "zz.log": "start\n"}})
    with pytest.raises(RecordError) as err:
        add_dataset(project, "live", "live", progress=_Append(project_dir / "live" / "zz.log"))
    assert err.value.code == "data-changed"
    with pytest.raises(NotFoundError):
        show_dataset(project, "live")
    with open_store(project).read() as conn:
        assert conn.execute(select(dataset_versions)).all() == []


_ADDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlsteward.data.datasets import add_dataset
    from mlsteward.project import Project

    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.01)
    v = add_dataset(Project.open(), sys.argv[1], "shared")
    print(v.version)
    """
)


def test_concurrent_adds_from_processes_get_distinct_versions(project_dir: Path) -> None:
    Project.open()  # the store exists before the race, so the race is about versions
    for i in range(3):
        (project_dir / f"part{i}.csv").write_text(f"process {i}\n")
    go = project_dir / "go"
    add_dataset(Project.open(), "part0.csv", "warmup")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ADDER, f"part{i}.csv", str(go)],
            cwd=project_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    go.write_text("")
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert sorted(int(out) for out, _ in outs) == [1, 2, 3]
    versions = show_dataset(Project.open(), "shared")
    assert sorted(v.version for v in versions) == [1, 2, 3]
    assert len({v.digest for v in versions}) == 3
