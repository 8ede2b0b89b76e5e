"""Lineage: walk the graph of runs and artifacts around a dataset version, run or artifact.

The records hold two kinds of nodes, runs and artifacts, and edges "run consumed
artifact" and "run produced artifact" (a dataset version added with a run id counts as
produced by it). Upstream of an artifact is the run that produced it, then what that
run consumed, and so on; downstream is every run that consumed it, what those runs
produced, and so on. Data flows along the edges: artifact -> run (consumed),
run -> artifact (produced). Each node is visited once, so cycles end the walk.

Three renderings: `to_text` (an indented tree per direction), `to_json` (nodes and
edges) and `to_dot` (Graphviz).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from mlsteward.errors import NotFoundError, UsageError
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.datasets import resolve_version
from mlsteward.store.schema import artifacts, dataset_versions, datasets, edges, runs

__all__ = ["DIRECTIONS", "Edge", "LineageGraph", "Node", "lineage", "to_dot", "to_json", "to_text"]

DIRECTIONS = ("both", "upstream", "downstream")
_HEX = re.compile(r"[0-9a-f]{4,32}")


@dataclass(frozen=True)
class Node:
    """A run (``run:<id>``) or an artifact (``artifact:<id>``) with what people read."""

    id: str
    type: str
    record_id: str
    label: str
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Edge:
    """Data flowing ``source`` -> ``target``: artifact -> run (consumed), run -> artifact."""

    source: str
    target: str
    relation: str


@dataclass
class LineageGraph:
    """The nodes reached from ``root``, the edges between them, and the walk's trees."""

    root: str
    nodes: dict[str, Node]
    edges: set[Edge]
    upstream: dict[str, list[str]]  # node -> the nodes one step further upstream
    downstream: dict[str, list[str]]


# -- walking --------------------------------------------------------------------------------


def lineage(
    project: Project, ref: str, *, direction: str = "both", depth: int | None = None
) -> LineageGraph:
    """The lineage around ``ref``: a dataset ref (``name``, ``name@3``), a run id or
    prefix (4 or more hex digits, unique), or an artifact id.

    ``depth`` bounds the number of edges walked in each direction (None: no bound).

    Raises:
        NotFoundError: nothing matches ``ref``.
        UsageError: a run prefix matching several runs (``ambiguous-ref``), a bad
            direction or depth (``usage-value``).
    """
    if direction not in DIRECTIONS:
        raise UsageError(
            f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}",
            code="usage-value",
            hint="use --upstream, --downstream, or neither for both",
        )
    if depth is not None and depth < 0:
        raise UsageError(f"depth {depth} is negative", code="usage-value", hint="give 0 or more")
    with open_store(project).read() as conn:
        root = _resolve(conn, ref.strip())
        graph = LineageGraph(root, {}, set(), {}, {})
        if direction in ("both", "upstream"):
            _walk(conn, graph, graph.upstream, upstream=True, depth=depth)
        if direction in ("both", "downstream"):
            _walk(conn, graph, graph.downstream, upstream=False, depth=depth)
        _load_nodes(conn, graph, {root} | {e.source for e in graph.edges} | {
            e.target for e in graph.edges
        })  # fmt: skip
    return graph


def _resolve(conn: Connection, ref: str) -> str:
    if "@" in ref:
        return "artifact:" + resolve_version(conn, ref).artifact_id
    is_artifact = select(artifacts.c.id).where(artifacts.c.id == ref)
    if len(ref) == 32 and _HEX.fullmatch(ref) and conn.execute(is_artifact).first():
        return "artifact:" + ref
    if conn.execute(select(datasets.c.id).where(datasets.c.name == ref)).first():
        return "artifact:" + resolve_version(conn, ref).artifact_id
    if _HEX.fullmatch(ref):
        found = [
            row.id
            for row in conn.execute(select(runs.c.id).where(runs.c.id.like(ref + "%")).limit(2))
        ]
        if len(found) > 1:
            raise UsageError(
                f"run id prefix {ref!r} matches several runs",
                code="ambiguous-ref",
                hint="give more hex digits of the run id",
            )
        if found:
            return f"run:{found[0]}"
    raise NotFoundError(
        f"{ref!r} is no dataset, run or artifact in the store",
        code="not-found",
        hint="give NAME or NAME@VERSION of a dataset, a run id (or 4+ of its first "
        "hex digits), or an artifact id",
    )


def _walk(
    conn: Connection,
    graph: LineageGraph,
    tree: dict[str, list[str]],
    *,
    upstream: bool,
    depth: int | None,
) -> None:
    seen = {graph.root}
    frontier = [graph.root]
    hops = 0
    while frontier and (depth is None or hops < depth):
        hops += 1
        following: list[str] = []
        for node, neighbours in _neighbours(conn, frontier, upstream=upstream):
            tree.setdefault(node, [])
            for other, edge in neighbours:
                graph.edges.add(edge)
                if other not in tree[node]:
                    tree[node].append(other)
                if other not in seen:
                    seen.add(other)
                    following.append(other)
        frontier = following


def _neighbours(
    conn: Connection, frontier: list[str], *, upstream: bool
) -> Iterable[tuple[str, list[tuple[str, Edge]]]]:
    """Each frontier node with its neighbours one step up- or downstream."""
    found: dict[str, list[tuple[str, Edge]]] = {node: [] for node in frontier}
    art_ids = [n.split(":", 1)[1] for n in frontier if n.startswith("artifact:")]
    run_ids = [n.split(":", 1)[1] for n in frontier if n.startswith("run:")]
    # artifact -> runs: upstream, the runs that produced it; downstream, those that used it
    relation = "produced" if upstream else "consumed"
    pairs: set[tuple[str, str]] = set()
    if art_ids:
        for row in conn.execute(
            select(edges.c.artifact_id, edges.c.run_id).where(
                edges.c.artifact_id.in_(art_ids), edges.c.direction == relation
            )
        ):
            pairs.add((row.artifact_id, row.run_id))
        if upstream:
            for row in conn.execute(
                select(dataset_versions.c.artifact_id, dataset_versions.c.run_id).where(
                    dataset_versions.c.artifact_id.in_(art_ids),
                    dataset_versions.c.run_id.is_not(None),
                )
            ):
                pairs.add((row.artifact_id, row.run_id))
    for art, run in sorted(pairs):
        a, r = "artifact:" + art, "run:" + run
        edge = Edge(r, a, "produced") if upstream else Edge(a, r, "consumed")
        found[a].append((r, edge))
    # run -> artifacts: upstream, what it consumed; downstream, what it produced
    relation = "consumed" if upstream else "produced"
    pairs = set()
    if run_ids:
        for row in conn.execute(
            select(edges.c.run_id, edges.c.artifact_id).where(
                edges.c.run_id.in_(run_ids), edges.c.direction == relation
            )
        ):
            pairs.add((row.run_id, row.artifact_id))
        if not upstream:
            for row in conn.execute(
                select(dataset_versions.c.run_id, dataset_versions.c.artifact_id).where(
                    dataset_versions.c.run_id.in_(run_ids)
                )
            ):
                pairs.add((row.run_id, row.artifact_id))
    for run, art in sorted(pairs):
        r, a = "run:" + run, "artifact:" + art
        edge = Edge(a, r, "consumed") if upstream else Edge(r, a, "produced")
        found[r].append((a, edge))
    return found.items()


def _load_nodes(conn: Connection, graph: LineageGraph, ids: set[str]) -> None:
    art_ids = sorted(n.split(":", 1)[1] for n in ids if n.startswith("artifact:"))
    run_ids = sorted(n.split(":", 1)[1] for n in ids if n.startswith("run:"))
    versions: dict[str, tuple[str, int]] = {}
    if art_ids:
        for row in conn.execute(
            select(dataset_versions.c.artifact_id, datasets.c.name, dataset_versions.c.version)
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .where(dataset_versions.c.artifact_id.in_(art_ids))
        ):
            versions[row.artifact_id] = (row.name, row.version)
        for row in conn.execute(select(artifacts).where(artifacts.c.id.in_(art_ids))):
            detail: dict[str, Any] = {
                "kind": row.kind,
                "hash": row.hash,
                "size": row.size,
                "files": row.files,
                "name": row.name,
            }
            if row.id in versions:
                name, number = versions[row.id]
                label = f"dataset {name}@{number}"
                detail["dataset"] = f"{name}@{number}"
            else:
                label = f"{row.kind} {row.name}"
            node = Node("artifact:" + row.id, "artifact", row.id, label, detail)
            graph.nodes[node.id] = node
    if run_ids:
        query = select(runs.c.id, runs.c.name, runs.c.status, runs.c.start_time)
        for run in conn.execute(query.where(runs.c.id.in_(run_ids))):
            detail = {"name": run.name, "status": run.status, "start_time": run.start_time}
            node = Node("run:" + run.id, "run", run.id, f"run {run.name}", detail)
            graph.nodes[node.id] = node


# -- rendering ------------------------------------------------------------------------------


def _describe(node: Node) -> str:
    if node.type == "run":
        return f"{node.label}  {node.record_id[:8]}  {node.detail['status']}"
    return f"{node.label}  {node.detail['hash'][:12]}  {node.detail['size']} bytes"


def to_text(graph: LineageGraph) -> str:
    """An indented tree: the root, then what it came from, then what used it."""
    lines = [_describe(graph.nodes[graph.root])]
    for title, tree, arrow in (
        ("upstream", graph.upstream, "<-"),
        ("downstream", graph.downstream, "->"),
    ):
        if graph.root not in tree:
            continue
        lines.append(f"{title}:")
        if not tree[graph.root]:
            lines.append("  (none)")
        shown: set[str] = {graph.root}
        stack = [(child, 1) for child in reversed(tree[graph.root])]
        while stack:
            node, level = stack.pop()
            text = f"{'   ' * (level - 1)}  {arrow} {_describe(graph.nodes[node])}"
            if node in shown:
                lines.append(text + "  (shown above)")
                continue
            shown.add(node)
            lines.append(text)
            stack.extend((child, level + 1) for child in reversed(tree.get(node, [])))
    return "\n".join(lines) + "\n"


def to_json(graph: LineageGraph) -> str:
    """Nodes and edges as JSON (sorted, so the output is stable)."""
    doc = {
        "root": graph.root,
        "nodes": [
            {"id": n.id, "type": n.type, "label": n.label, **n.detail}
            for n in sorted(graph.nodes.values(), key=lambda n: n.id)
        ],
        "edges": [
            {"source": e.source, "target": e.target, "relation": e.relation}
            for e in sorted(graph.edges, key=lambda e: (e.source, e.target, e.relation))
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _dot(text: str) -> str:
    """A DOT double-quoted string: backslashes, quotes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(graph: LineageGraph) -> str:
    """Graphviz DOT: runs as rounded boxes, datasets as cylinders, other artifacts as notes."""
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        if node.type == "run":
            shape = "box, style=rounded"
            label = f"{node.label}\n{node.record_id[:8]} {node.detail['status']}"
        else:
            shape = "cylinder" if "dataset" in node.detail else "note"
            label = f"{node.label}\n{node.detail['hash'][:12]}"
        bold = ", penwidth=2" if node.id == graph.root else ""
        lines.append(f"  {_dot(node.id)} [label={_dot(label)}, shape={shape}{bold}];")
    for edge in sorted(graph.edges, key=lambda e: (e.source, e.target, e.relation)):
        lines.append(f"  {_dot(edge.source)} -> {_dot(edge.target)} [label={_dot(edge.relation)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
