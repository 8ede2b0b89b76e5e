"""Registering model objects (saved as packages by mlsteward.models) and loading versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.errors import RecordError, RegistryError
from mlsteward.registry import delete_version, load_version, register_model


def _frame() -> object:
    import pandas as pd

    return pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})


def test_log_model_saves_registers_and_loads(project_dir: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from mlsteward import add_dataset, start_run
    from mlsteward.project import Project

    (project_dir / "data.csv").write_text("a,b,y\n0,1,0\n3,0,1\n")
    add_dataset(Project.open(), "data.csv", "reviews")
    x = _frame()
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    with start_run("train") as run:
        run.use_dataset("reviews")
        v = run.log_model(model, name="churn", example=x, description="lr")
    assert (v.ref, v.format, v.is_tree, v.forced, v.run_id) == (
        "churn@1",
        "skops",
        True,
        False,
        run.id,
    )
    assert [c["name"] for c in v.signature["inputs"]] == ["a", "b"]
    assert v.trust["trusted"] is False
    assert [d.ref for d in v.datasets] == ["reviews@1"]
    loaded = load_version("churn")
    assert list(loaded.predict(x)) == list(model.predict(x))
    # the package the run produced registers again from the run alone, signature and all
    again = register_model(name="churn", run=run.id)
    assert (again.version, again.digest, again.format) == (2, v.digest, "skops")
    assert again.signature == v.signature
    with pytest.raises(RecordError) as err:
        run.log_model(model, name="churn", example=x)
    assert err.value.code == "run-ended"


def test_register_model_object_needs_provenance(project_dir: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    x = _frame()
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    with pytest.raises(RegistryError) as err:
        register_model(model, "churn", example=x)
    assert err.value.code == "provenance-missing"
    assert "producing run, git commit, training data" in err.value.message
    v = register_model(model, "churn", example=x, force=True)
    assert (v.forced, v.run_id, v.git_commit) == (True, None, None)
    assert list(load_version("churn@1").predict(x)) == list(model.predict(x))


def test_plain_files_and_deleted_versions_do_not_load(project_dir: Path, trained: str) -> None:
    register_model(name="churn", run=trained)
    register_model(name="churn", run=trained)
    with pytest.raises(RegistryError) as err:
        load_version("churn@1")
    assert err.value.code == "model-not-package"
    delete_version("churn", 2, reason="bad")
    with pytest.raises(RegistryError) as err:
        load_version("churn@2")
    assert err.value.code == "version-deleted"


def test_a_plain_file_with_an_example_becomes_a_package(project_dir: Path, trained: str) -> None:
    import pandas as pd

    from mlsteward.project import Project
    from mlsteward.registry import list_versions

    rows = pd.DataFrame({"x": [0.0, 3.0]})
    v = register_model(name="churn", run=trained, example=rows)
    assert (v.format, v.is_tree, v.run_id, v.forced) == ("skops", True, trained, False)
    assert [c["name"] for c in v.signature["inputs"]] == ["x"]
    assert list(load_version("churn@1").predict(rows)) == [0, 1]
    # the package holds the logged file byte for byte
    from mlsteward.artifacts import open_objects
    from mlsteward.artifacts.trees import read_tree

    objects = open_objects(Project.open())
    stored = {e.path: e.hash for e in read_tree(objects, v.digest)}
    assert objects.read_bytes(stored["model.skops"]) == (project_dir / "model.skops").read_bytes()
    assert [x.version for x in list_versions("churn")] == [1]


def test_a_plain_pickle_file_is_not_packaged_without_trust(project_dir: Path) -> None:
    import pickle

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from mlsteward import add_dataset, start_run
    from mlsteward.errors import ModelError
    from mlsteward.project import Project
    from mlsteward.registry import list_models

    rows = pd.DataFrame({"x": [0.0, 3.0]})
    (project_dir / "data.csv").write_text("x,y\n0,0\n3,1\n")
    add_dataset(Project.open(), "data.csv", "reviews")
    model = LogisticRegression().fit(rows, [0, 1])
    (project_dir / "model.pkl").write_bytes(pickle.dumps(model))
    with start_run("train") as run:
        run.use_dataset("reviews")
        run.log_artifact("model.pkl")
    with pytest.raises(ModelError) as err:
        register_model(name="churn", run=run.id, example=rows)
    assert err.value.code == "model-untrusted"
    assert list_models() == []  # nothing half-written
    v = register_model(name="churn", run=run.id, example=rows, trust=True)
    assert (v.format, v.is_tree) == ("pickle", True)
    assert list(load_version("churn", trust=True).predict(rows)) == [0, 1]
    with pytest.raises(ModelError) as err:
        load_version("churn")
    assert err.value.code == "model-untrusted"
