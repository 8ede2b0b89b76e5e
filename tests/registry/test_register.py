"""Registering model versions with provenance; reading them back; deleting."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import mlsteward
from mlsteward.errors import NotFoundError, RegistryError, StewardError
from mlsteward.project import Project
from mlsteward.registry import (
    delete_version,
    get_version,
    list_models,
    list_versions,
    promote,
    register_model,
)
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events

Train = Callable[..., str]


def test_a_run_s_model_registers_with_its_provenance(project_dir: Path, trained: str) -> None:
    v = mlsteward.register_model(name="churn", run=trained, description="first")
    assert (v.ref, v.format, v.forced, v.description) == ("churn@1", "skops", False, "first")
    assert v.run_id == trained
    assert v.git_commit
    assert len(v.git_commit) == 40
    assert isinstance(v.git_dirty, bool)
    assert [(d.ref, d.role) for d in v.datasets] == [("reviews@1", "train")]
    assert v.signature == {}
    assert v.deleted is None
    assert v.aliases == ()
    again = register_model(name="churn", run=trained[:8])  # an id prefix names the run
    assert again.version == 2
    assert again.artifact_id == v.artifact_id
    assert [x.version for x in list_versions("churn")] == [2, 1]
    assert get_version("churn").version == 2
    assert get_version("churn@1") == v
    (summary,) = list_models()
    assert (summary.name, summary.versions, summary.latest) == ("churn", 2, 2)
    with open_store(Project.open()).read() as conn:
        (event, _) = read_events(conn, kind="model.register")
    assert event.subject == "model:churn@1"
    assert event.payload["forced"] is False
    assert event.payload["run"] == trained


def test_training_data_can_be_named(project_dir: Path, trained: str) -> None:
    from mlsteward import add_dataset

    (project_dir / "eval.csv").write_text("x,y\n1,0\n")
    add_dataset(Project.open(), "eval.csv", "holdout")
    v = register_model(name="churn", run=trained, datasets=["holdout@1", "reviews"])
    assert sorted(d.ref for d in v.datasets) == ["holdout@1", "reviews@1"]
    with pytest.raises(NotFoundError, match="no dataset version 'nope@4'"):
        register_model(name="churn", run=trained, datasets=["nope@4"])


def test_missing_provenance_is_refused_unless_forced(project_dir: Path, make_run: Train) -> None:
    run = make_run(project_dir, data=False)
    with pytest.raises(RegistryError) as err:
        register_model(name="churn", run=run)
    assert err.value.code == "provenance-missing"
    assert "training data" in err.value.message
    assert "git commit" not in err.value.message
    assert "--force" in (err.value.hint or "")
    assert isinstance(err.value, StewardError)
    with pytest.raises(NotFoundError, match="no model named"):
        get_version("churn")  # nothing half-written
    forced = register_model(name="churn", run=run, force=True)
    assert forced.forced is True
    assert forced.datasets == ()
    assert get_version("churn@1").forced is True  # for ever
    with open_store(Project.open()).read() as conn:
        (event,) = read_events(conn, kind="model.register")
    assert event.payload["forced"] is True
    assert event.payload["missing"] == ["training data"]


def test_an_artifact_alone_finds_its_producing_run(project_dir: Path, trained: str) -> None:
    from mlsteward.store.views import run_io

    with open_store(Project.open()).read() as conn:
        artifact = run_io(conn, trained).produced[0].artifact_id
    v = register_model(name="churn", artifact=artifact)  # its producing run is found
    assert v.run_id == trained
    assert not v.forced


def test_a_run_without_a_commit_is_missing_one(
    project_dir: Path, tmp_path: Path, make_run: Train
) -> None:
    root = tmp_path / "nogit"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (root / ".steward").mkdir()
    run = make_run(root)
    with pytest.raises(RegistryError, match="missing git commit") as err:
        register_model(name="m", run=run, project=root)
    assert err.value.code == "provenance-missing"


def test_bad_registrations(project_dir: Path, trained: str) -> None:
    cases = [
        ({"name": "bad name", "run": trained}, "model-name"),
        ({"name": "m"}, "model-source"),
        ({"model": object(), "name": "m", "artifact": "abc"}, "model-source"),
        ({"model": object(), "name": "m", "run": trained}, "example-missing"),
        ({"name": "m", "run": trained, "datasets": [3]}, "model-source"),
    ]
    for kwargs, code in cases:
        with pytest.raises(RegistryError) as err:
            register_model(**kwargs)  # type: ignore[arg-type]
        assert err.value.code == code, kwargs
        assert err.value.hint
    with pytest.raises(NotFoundError, match="no run"):
        register_model(name="m", run="no-such-run")
    with pytest.raises(NotFoundError, match="no artifact"):
        register_model(name="m", artifact="0" * 32)
    assert list_models() == []


def test_artifacts_that_are_not_models_are_refused(project_dir: Path, trained: str) -> None:
    from mlsteward import start_run

    (project_dir / "notes.txt").write_text("n")
    (project_dir / "weights.pt").write_bytes(b"\0")
    with start_run("other") as run:
        run.use_dataset("reviews")
        notes = run.log_artifact("notes.txt")
    with pytest.raises(RegistryError) as err:
        register_model(name="m", run=run.id)  # it produced no model
    assert err.value.code == "artifact-not-model"
    assert "notes.txt (file)" in err.value.message
    with pytest.raises(RegistryError, match="kind 'file'"):
        register_model(name="m", artifact=notes.id)
    with pytest.raises(RegistryError) as err:
        register_model(name="m", run=trained, artifact=notes.id)
    assert err.value.code == "artifact-not-model"
    with start_run("torch") as run:
        run.use_dataset("reviews")
        run.log_artifact("weights.pt")
    with pytest.raises(RegistryError) as err:
        register_model(name="m", run=run.id)
    assert err.value.code == "artifact-format"
    assert ".skops" in err.value.message


def test_an_artifact_of_another_run_is_refused(
    project_dir: Path, trained: str, make_run: Train
) -> None:
    from mlsteward.store.views import run_io

    other = make_run(project_dir, name="other")
    with open_store(Project.open()).read() as conn:
        artifact = run_io(conn, trained).produced[0].artifact_id
    with pytest.raises(RegistryError) as err:
        register_model(name="m", run=other, artifact=artifact)
    assert err.value.code == "artifact-not-produced"


def test_unknown_names_versions_and_aliases(project_dir: Path, trained: str) -> None:
    register_model(name="churn", run=trained)
    with pytest.raises(NotFoundError) as err:
        get_version("nope")
    assert err.value.code == "model-not-found"
    assert "churn" in err.value.message
    with pytest.raises(NotFoundError) as err:
        get_version("churn@7")
    assert err.value.code == "version-not-found"
    assert "1 to 1" in err.value.message
    promote("churn", 1, "staging", reason="try")
    with pytest.raises(NotFoundError) as err:
        get_version("churn@production")
    assert err.value.code == "alias-not-found"
    assert "staging -> 1" in err.value.message
    assert get_version("churn@staging").version == 1
    bad = [("churn@0", "version-number"), ("churn@Prod", "alias-name"), ("", "model-name")]
    for ref, code in bad:
        with pytest.raises(RegistryError) as rerr:
            get_version(ref)
        assert rerr.value.code == code


def test_delete_is_refused_while_an_alias_holds_the_version(
    project_dir: Path, trained: str
) -> None:
    register_model(name="churn", run=trained)
    register_model(name="churn", run=trained)
    promote("churn", 1, "production", reason="first")
    with pytest.raises(RegistryError) as err:
        delete_version("churn", 1, reason="old")
    assert err.value.code == "version-in-use"
    assert "production" in err.value.message
    with pytest.raises(RegistryError) as err:
        delete_version("churn", 2, reason=" ")
    assert err.value.code == "reason-missing"
    gone = delete_version("churn", 2, reason="bad run")
    assert gone.deleted is not None
    assert get_version("churn").version == 1  # the newest not deleted
    assert [v.version for v in list_versions("churn")] == [2, 1]  # the row stays
    with pytest.raises(RegistryError) as err:
        delete_version("churn", 2, reason="again")
    assert err.value.code == "version-deleted"
    with pytest.raises(RegistryError) as err:
        promote("churn", 2, "staging", reason="x")
    assert err.value.code == "version-deleted"
    with open_store(Project.open()).read() as conn:
        (event,) = read_events(conn, kind="model.delete")
    assert (event.subject, event.payload) == ("model:churn@2", {"reason": "bad run"})


_REGISTER = """
import os, sys, time
from mlsteward.registry import register_model
run, ready, go = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
print(register_model(name="churn", run=run).version)
"""


def test_concurrent_registrations_get_distinct_numbers(
    project_dir: Path, trained: str, tmp_path: Path
) -> None:
    go, n = tmp_path / "go", 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER, trained, str(tmp_path / f"r{i}"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    _release(procs, tmp_path, "r", go)
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * n, outs
    assert sorted(int(o.strip()) for o, _ in outs) == list(range(1, n + 1))


def _release(procs: list[subprocess.Popen[str]], tmp_path: Path, prefix: str, go: Path) -> None:
    """Wait until every process is ready, then open the barrier."""
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"{prefix}{i}").exists() for i in range(len(procs))):
        assert time.monotonic() < deadline, "the processes did not come up"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()


def test_versions_serialise_to_json(project_dir: Path, trained: str) -> None:
    v = register_model(name="churn", run=trained)
    data = json.loads(json.dumps(v.to_dict()))
    assert data["ref"] == "churn@1"
    assert data["datasets"] == [{"ref": "reviews@1", "role": "train"}]
