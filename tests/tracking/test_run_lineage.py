"""A run's artifacts (produced) and dataset versions (consumed), on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mlsteward import Project
from mlsteward.artifacts import open_objects
from mlsteward.errors import NotFoundError, PathError, RecordError
from mlsteward.store.artifacts import insert_artifact
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.schema import dataset_versions, datasets, edges
from mlsteward.tracking.run import active_run, start_run


@pytest.fixture
def project(project_dir: Path) -> Iterator[Project]:
    """The project; any run a failing test left open is ended before the store goes."""
    yield Project.open()
    while (run := active_run()) is not None:
        run.end("failed", error="left open by a test")


def run_edges(run_id: str) -> set[tuple[str, str]]:
    with open_store(Project.open()).read() as conn:
        rows = conn.execute(
            select(edges.c.artifact_id, edges.c.direction).where(edges.c.run_id == run_id)
        )
        return {(r.artifact_id, r.direction) for r in rows}


def test_log_artifact_files_and_directories(project: Project, tmp_path: Path) -> None:
    root = project.root
    (root / "model.skops").write_bytes(b"model bytes")
    (root / "report.txt").write_text("auc 0.9\n", encoding="utf-8")
    (root / "out" / "sub").mkdir(parents=True)
    (root / "out" / "a.csv").write_text("a\n1\n", encoding="utf-8")
    (root / "out" / "sub" / "b.csv").write_text("b\n2\n", encoding="utf-8")
    (tmp_path / "elsewhere.txt").write_text("outside", encoding="utf-8")
    (root / "escape.txt").symlink_to(tmp_path / "elsewhere.txt")
    with start_run() as run:
        model = run.log_artifact("model.skops")
        report = run.log_artifact(root / "report.txt", kind="report", name="eval report")
        tree = run.log_artifact("out")
        again = run.log_artifact("model.skops", kind="file")
        for bad, code in [
            (lambda: run.log_artifact("missing.bin"), "path-missing"),
            (lambda: run.log_artifact("../elsewhere.txt"), "path-outside"),
            (lambda: run.log_artifact("escape.txt"), "path-outside"),
        ]:
            with pytest.raises(PathError) as info:
                bad()
            assert info.value.code == code
        with pytest.raises(RecordError) as kind_error:
            run.log_artifact("report.txt", kind="weights")
        assert kind_error.value.code == "artifact-kind"
    assert (model.kind, model.name, model.size, model.files, model.is_tree) == (
        "model",
        "model.skops",
        11,
        1,
        False,
    )
    assert (report.kind, report.name) == ("report", "eval report")
    assert (tree.kind, tree.name, tree.size, tree.files, tree.is_tree) == (
        "file",
        "out",
        8,
        2,
        True,
    )
    assert again.hash == model.hash  # the same bytes: one object, two records
    objects = open_objects(project)
    assert objects.read_bytes(model.hash) == b"model bytes"
    assert model.uri == objects.uri(model.hash)
    assert run_edges(run.id) == {(a.id, "produced") for a in (model, report, tree, again)}
    with open_store(project).read() as conn:
        kinds = [e.kind for e in read_events(conn, subject=run.id)]
    assert kinds.count("run.log_artifact") == 4


def add_version(project: Project, name: str, version: int) -> str:
    """A dataset version made the way the data layer records one; return its artifact id."""
    objects = open_objects(project)
    info = objects.put_bytes(f"{name} v{version}\n".encode())
    with open_store(project).write() as conn:
        art = insert_artifact(
            conn,
            kind="dataset",
            digest=info.digest,
            is_tree=False,
            size=info.size,
            files=1,
            uri=objects.uri(info.digest),
            name=f"{name}.csv",
        )
        have = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar()
        if have is None:
            have = f"{name:0<32}"[:32]
            conn.execute(
                datasets.insert().values(id=have, name=name, description="", created=time.time())
            )
        conn.execute(
            dataset_versions.insert().values(
                id=art.id[::-1],
                dataset_id=have,
                version=version,
                artifact_id=art.id,
                path=f"{name}.csv",
                source="test",
                created=time.time(),
            )
        )
    return art.id


def test_use_dataset_records_consumed_versions(project: Project) -> None:
    first = add_version(project, "reviews", 1)
    second = add_version(project, "reviews", 2)
    with start_run() as run:
        latest = run.use_dataset("reviews")
        pinned = run.use_dataset("reviews@1")
        run.use_dataset("reviews")  # twice: still one edge
        with pytest.raises(NotFoundError) as missing:
            run.use_dataset("reviews@3")
        assert missing.value.code == "not-found"
        for bad in ("bad name!", "reviews@x", 3):
            with pytest.raises(RecordError) as info:
                run.use_dataset(bad)  # type: ignore[arg-type]
            assert info.value.code == "dataset-name"
    assert (latest.version, latest.artifact_id) == (2, second)
    assert (pinned.version, pinned.artifact_id) == (1, first)
    assert run_edges(run.id) == {(first, "consumed"), (second, "consumed")}
    with open_store(project).read() as conn:
        used = read_events(conn, subject=run.id, kind="run.use_dataset")
    assert [(e.payload["dataset"], e.payload["version"]) for e in used] == [
        ("reviews", 2),
        ("reviews", 1),
        ("reviews", 2),
    ]


def test_log_dataset_is_produced_by_the_run(project: Project) -> None:
    pytest.importorskip("mlsteward.data.datasets")
    (project.root / "clean.csv").write_text("x\n1\n", encoding="utf-8")
    with start_run() as run:
        run.log_dataset("clean.csv", "clean", source="made by the test")
    with open_store(project).read() as conn:
        row = conn.execute(
            select(dataset_versions.c.run_id, dataset_versions.c.artifact_id, datasets.c.name)
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .where(datasets.c.name == "clean")
        ).one()
    assert row.run_id == run.id
    assert (row.artifact_id, "produced") in run_edges(run.id)
