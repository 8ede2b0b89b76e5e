"""``steward runs``: list, search, show, compare and history in every format, parsed back;
errors with their codes; a killed run shows as crashed."""

from __future__ import annotations

import csv
import io
import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlsteward.cli import main
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.runs import (
    MetricPoint,
    finish_run,
    insert_metrics,
    insert_run,
    set_params,
    set_tags,
)
from records_builder import dataset_and_model

A, B, C = "a" * 32, "b" * 32, "c" * 32


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def runs(project_dir: Path) -> Path:
    """train-a (finished, NaN loss, consumed reviews@1, produced a model), train-b (failed)
    and crashy (still marked running, but its process is gone)."""
    store = open_store(Project.open())
    now = time.time()
    with store.write() as conn:
        for i, (run_id, name) in enumerate(((A, "train-a"), (B, "train-b"), (C, "crashy"))):
            insert_run(
                conn,
                {
                    "id": run_id,
                    "name": name,
                    "experiment": "default",
                    "start_time": now - 100 + i,
                    "heartbeat": now,
                    "git_commit": "1" * 40,
                    "git_branch": "main",
                    "git_dirty": False,
                    "host": socket.gethostname(),
                    "user": "ana",
                    "pid": _dead_pid() if name == "crashy" else None,
                },
            )
        set_params(conn, A, {"lr": "0.1", "opt": "adam"})
        set_params(conn, B, {"lr": "0.2", "opt": "adam"})
        set_tags(conn, A, {"team": "nlp"})
        insert_metrics(
            conn,
            A,
            [
                MetricPoint("auc", 0.9, 0, now),
                MetricPoint("loss", 0.5, 0, now),
                MetricPoint("loss", math.nan, 1, now),
            ],
        )
        insert_metrics(
            conn, B, [MetricPoint("auc", 0.8, 0, now), MetricPoint("loss", math.inf, 0, now)]
        )
        finish_run(conn, A, "finished", now - 50)
        finish_run(conn, B, "failed", now - 40, "ValueError: boom")
        dataset_and_model(conn, A, size=2048, model_size=10, source="web", now=now)
    return project_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> str:
    got = main(list(argv))
    out, err = capsys.readouterr()
    assert got == code, out + err
    return out if code == 0 else err


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_list_and_search_in_every_format(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed: list[dict[str, Any]] = json.loads(run(capsys, "runs", "list", "--format", "json"))
    assert [r["name"] for r in listed] == ["crashy", "train-b", "train-a"]  # newest first
    assert listed[0]["status"] == "crashed"  # its process is gone: not running forever
    assert listed[2]["metrics"] == {"auc": 0.9, "loss": "NaN"}  # valid JSON, NaN spelled out
    assert listed[1]["metrics"]["loss"] == "Infinity"
    assert listed[2]["params"] == {"lr": "0.1", "opt": "adam"}

    table = run(capsys, "runs")  # `steward runs` lists
    assert "crashed" in table
    assert A[:8] in table
    assert A not in table
    assert "metrics.auc" in table
    assert "params.lr" in table

    rows = rows_of(run(capsys, "runs", "list", "-f", "csv", "--status", "finished"))
    assert [r["name"] for r in rows] == ["train-a"]
    assert rows[0]["metrics.loss"] == "NaN"
    assert rows[0]["tags.team"] == "nlp"
    assert rows[0]["id"] == A

    rows = rows_of(
        run(capsys, "runs", "search", "metrics.auc > 0.7", "-o", "metrics.auc", "-f", "csv",
            "--columns", "metrics.auc, params.opt,status")
    )  # fmt: skip
    assert [(r["name"], r["metrics.auc"], r["params.opt"]) for r in rows] == [
        ("train-b", "0.8", "adam"),
        ("train-a", "0.9", "adam"),
    ]
    assert list(rows[0])[-3:] == ["duration", "metrics.auc", "params.opt"]
    table = run(capsys, "runs", "search", "params.lr >= 0.2", "--columns", "metrics.loss")
    assert "train-b" in table
    assert "train-a" not in table
    assert "inf" in table
    assert "no runs match" in run(capsys, "runs", "search", "metrics.auc > 5")
    limited = json.loads(run(capsys, "runs", "list", "-n", "1", "-f", "json"))
    assert len(limited) == 1


def test_show_compare_and_history(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, "runs", "show", "train-a")
    assert f"run {A}  train-a" in text
    assert "loss  nan (non-finite)" in text
    assert "dataset reviews@1" in text
    assert "model model.skops" in text
    assert "1111111111" in text  # the commit
    failed = run(capsys, "runs", "show", "bbbb")
    assert "ValueError: boom" in failed
    assert "inf (non-finite)" in failed
    shown = json.loads(run(capsys, "runs", "show", A, "-f", "json"))
    assert shown["run"]["metrics"]["loss"] == "NaN"
    assert [c["dataset"] for c in shown["consumed"]] == ["reviews@1"]
    assert [p["name"] for p in shown["produced"]] == ["model.skops"]

    table = run(capsys, "runs", "compare", "train-a", "train-b")
    marked = [line.split()[1] for line in table.splitlines() if line.startswith("*")]
    assert marked == ["params.lr", "metrics.auc", "metrics.loss"]
    compared = json.loads(run(capsys, "runs", "compare", "train-a", "train-b", "-f", "json"))
    assert [r["id"] for r in compared["runs"]] == [A, B]
    by_key = {r["key"]: r for r in compared["rows"]}
    assert by_key["metrics.loss"]["values"] == ["NaN", "Infinity"]
    assert by_key["params.opt"]["differs"] is False
    rows = rows_of(run(capsys, "runs", "compare", "train-a", "train-b", "--only-diff", "-f", "csv"))
    assert [r["key"] for r in rows] == ["params.lr", "metrics.auc", "metrics.loss"]
    assert rows[0][A] == "0.1"
    assert rows[0][B] == "0.2"

    history = json.loads(run(capsys, "runs", "history", "train-a", "loss", "-f", "json"))
    assert history["run"] == A
    assert [(p["step"], p["value"]) for p in history["points"]] == [(0, 0.5), (1, "NaN")]
    rows = rows_of(run(capsys, "runs", "history", "train-a", "loss", "-f", "csv"))
    assert [(r["step"], r["value"]) for r in rows] == [("0", "0.5"), ("1", "NaN")]
    table = run(capsys, "runs", "history", "train-a", "loss")
    assert "loss of run aaaaaaaa (train-a)" in table


ERRORS = [
    (("runs", "search", "metrics.auc >"), "[filter-syntax]"),
    (("runs", "search", "lr > 1"), "[filter-field]"),
    (("runs", "list", "--order-by", "-bogus"), "[filter-field]"),
    (("runs", "list", "--columns", "metrics.auc,nope"), "[filter-field]"),
    (("runs", "list", "--status", "done"), "[usage-value]"),
    (("runs", "list", "--format", "xml"), "[unknown-format]"),
    (("runs", "show", "nothing-like-it"), "[not-found]"),
    (("runs", "show", "train-a", "-f", "csv"), "[unknown-format]"),
    (("runs", "history", "train-a", "acc"), "[not-found]"),
    (("runs", "compare", "train-a"), "[usage-value]"),
]


def test_errors_exit_2_with_their_code(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(Project.open())
    with store.write() as conn:
        insert_run(conn, {"id": A, "name": "train-a", "experiment": "x", "start_time": 1.0})
        insert_metrics(conn, A, [MetricPoint("auc", 0.5, 0, 1.0)])
        finish_run(conn, A, "finished", 2.0)
    for argv, says in ERRORS:
        err = run(capsys, *argv, code=2)
        assert says in err, (argv, err)
    err = run(capsys, "runs", "search", "metrics.auc >", code=2)
    assert "  metrics.auc >\n" in err
    assert "\n               ^\n" in err  # the caret under the missing value
    assert "hint: the filter language is described in docs/runs.md" in err
