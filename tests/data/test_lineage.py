"""Lineage over a small graph: raw@1 -> prepare -> reviews@1 -> train -> model -> evaluate."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlsteward.data.datasets import add_dataset
from mlsteward.data.lineage import lineage, to_dot, to_json, to_text
from mlsteward.errors import NotFoundError, UsageError
from mlsteward.project import Project
from mlsteward.store.artifacts import add_edge, insert_artifact
from mlsteward.store.database import open_store
from mlsteward.store.runs import insert_run
from repo_builder import build_repo


@dataclass
class Graph:
    project: Project
    prepare: str
    train: str
    evaluate: str
    model: str
    reviews: str


def _run(project: Project, run_id: str, name: str) -> str:
    with open_store(project).write() as conn:
        insert_run(
            conn, {"id": run_id, "name": name, "experiment": "default", "start_time": time.time()}
        )
    return run_id


@pytest.fixture
def graph(project_dir: Path) -> Graph:
    project = Project.open()
    build_repo(project_dir, {"raw.csv": "r\n", "reviews.csv": "a,b\n", 'we"ird.bin': "m"})
    raw = add_dataset(project, "raw.csv", "raw")
    prepare = _run(project, "aaaa" + "1" * 28, "prepare")
    train = _run(project, "bbbb" + "2" * 28, "train")
    evaluate = _run(project, "bbbc" + "3" * 28, "evaluate")
    reviews = add_dataset(project, "reviews.csv", "reviews", run_id=prepare)
    with open_store(project).write() as conn:
        add_edge(conn, prepare, raw.artifact_id, "consumed")
        add_edge(conn, train, reviews.artifact_id, "consumed")
        model = insert_artifact(
            conn,
            kind="model",
            digest="c" * 64,
            is_tree=False,
            size=1,
            files=1,
            uri="x",
            name='we"ird\nmodel',
        )
        add_edge(conn, train, model.id, "produced")
        add_edge(conn, evaluate, model.id, "consumed")
        add_edge(conn, evaluate, reviews.artifact_id, "consumed")
    return Graph(project, prepare, train, evaluate, model.id, reviews.artifact_id)


def test_both_directions_from_a_dataset(graph: Graph) -> None:
    g = lineage(graph.project, "reviews")
    assert g.root == f"artifact:{graph.reviews}"
    labels = {n.label for n in g.nodes.values()}
    assert {"dataset raw@1", "dataset reviews@1", "run prepare", "run train"} <= labels
    text = to_text(g)
    up, down = text.split("downstream:")
    assert "<- run prepare" in up
    assert "<- dataset raw@1" in up
    assert "-> run train" in down
    assert "-> model" in down
    assert "-> run evaluate" in down
    assert "(shown above)" in down  # evaluate is reached twice: directly and via the model
    assert text.index("run prepare") < text.index("dataset raw@1")


def test_json_has_nodes_and_flowing_edges(graph: Graph) -> None:
    doc = json.loads(to_json(lineage(graph.project, "reviews@1")))
    edges = {(e["source"], e["relation"], e["target"]) for e in doc["edges"]}
    assert (f"run:{graph.prepare}", "produced", f"artifact:{graph.reviews}") in edges
    assert (f"artifact:{graph.reviews}", "consumed", f"run:{graph.train}") in edges
    assert (f"run:{graph.train}", "produced", f"artifact:{graph.model}") in edges
    ids = {n["id"] for n in doc["nodes"]}
    assert {e["source"] for e in doc["edges"]} | {e["target"] for e in doc["edges"]} <= ids
    dataset = next(n for n in doc["nodes"] if n["id"] == doc["root"])
    assert dataset["dataset"] == "reviews@1"


def test_dot_quotes_and_escapes_labels(graph: Graph) -> None:
    dot = to_dot(lineage(graph.project, graph.model))
    assert dot.startswith("digraph lineage {")
    assert dot.rstrip().endswith("}")
    assert '\\"ird\\nmodel' in dot  # the quote and the line break in the name are escaped
    assert "\n" not in dot.split('label="model we')[1].split("];")[0]
    assert dot.count("->") >= 3


def test_direction_depth_and_run_refs(graph: Graph) -> None:
    down = lineage(graph.project, "reviews", direction="downstream")
    assert not down.upstream
    assert f"run:{graph.prepare}" not in down.nodes
    near = lineage(graph.project, "reviews", direction="downstream", depth=1)
    assert f"artifact:{graph.model}" not in near.nodes
    assert f"run:{graph.train}" in near.nodes
    by_prefix = lineage(graph.project, "aaaa", direction="upstream")
    assert by_prefix.root == f"run:{graph.prepare}"
    assert "dataset raw@1" in to_text(by_prefix)
    with pytest.raises(UsageError) as err:
        lineage(graph.project, "bbb")  # too short to be a prefix, no such dataset either
    assert err.value.code == "not-found"
    assert lineage(graph.project, "bbbb").root == f"run:{graph.train}"  # one run only
    with pytest.raises(UsageError) as err:
        lineage(graph.project, "bbbc", direction="sideways")
    assert err.value.code == "usage-value"


def test_ambiguous_and_unknown_refs(graph: Graph) -> None:
    _run(graph.project, "bbbb" + "9" * 28, "another")
    with pytest.raises(UsageError) as err:
        lineage(graph.project, "bbbb")
    assert err.value.code == "ambiguous-ref"
    with pytest.raises(NotFoundError):
        lineage(graph.project, "nosuch")
    with pytest.raises(NotFoundError):
        lineage(graph.project, "reviews@9")


def test_a_cycle_ends_the_walk(graph: Graph) -> None:
    with open_store(graph.project).write() as conn:
        add_edge(conn, graph.evaluate, graph.reviews, "produced")  # reviews -> evaluate -> reviews
    g = lineage(graph.project, "reviews")
    text = to_text(g)
    assert "(shown above)" in text
    assert len(text.splitlines()) < 30
