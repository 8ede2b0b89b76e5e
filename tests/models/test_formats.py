"""The format registry: choosing, looking up, plugins; the trust config; pickle scanning."""

from __future__ import annotations

import pickle
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlsteward.artifacts import open_objects
from mlsteward.errors import ConfigError, ModelError
from mlsteward.models import load_model, save_model
from mlsteward.models.formats import choose_format, get_format, model_formats, pickle_globals
from mlsteward.models.trust import trusted_types
from mlsteward.project import Project

MakeProject = Callable[..., Project]


def test_builtin_formats_are_keyed_by_stable_ids() -> None:
    formats = model_formats()
    assert list(formats)[:4] == ["skops", "onnx", "pickle", "cloudpickle"]
    assert [f.executes_code for f in formats.values()][:4] == [False, False, True, True]
    assert get_format("onnx").suffix == ".onnx"


def test_choose_format_picks_a_safe_format_or_explains() -> None:
    from skl2onnx import to_onnx

    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    fitted = LogisticRegression().fit(x, [0, 1, 0, 1])
    assert choose_format(fitted).id == "skops"
    assert choose_format(to_onnx(fitted, x[:1])).id == "onnx"
    with pytest.raises(ModelError) as err:
        choose_format(lambda rows: rows)
    assert err.value.code == "model-format"
    assert "skops" in err.value.message
    assert "onnx" in err.value.message
    assert "trust=True" in (err.value.hint or "")
    with pytest.raises(ModelError) as err:
        choose_format(b"not an onnx model")
    assert err.value.code == "model-format"


def test_an_unknown_format_id_lists_the_known_ones() -> None:
    with pytest.raises(ModelError) as err:
        get_format("joblib")
    assert err.value.code == "model-format"
    assert "skops, onnx, pickle, cloudpickle" in err.value.message


def test_a_format_that_does_not_take_the_model_or_cannot_write_it_is_refused(
    project: Project,
) -> None:
    with pytest.raises(ModelError) as err:
        save_model(project, {"weights": [1, 2]}, example={"a": [1]}, format="onnx")
    assert err.value.code == "model-format"
    assert "builtins.dict" in err.value.message
    model = LogisticRegression().fit(np.eye(2), [0, 1])
    model.lock = threading.Lock()  # nothing can pickle a lock
    with pytest.raises(ModelError) as err:
        save_model(project, model, example=np.eye(2), format="pickle", trust=True)
    assert err.value.code == "model-save"
    assert "lock" in err.value.message
    assert list(open_objects(project)) == []


def test_pickle_globals_are_read_without_running_anything(tmp_path: Path) -> None:
    fitted = LogisticRegression().fit(np.eye(2), [0, 1])
    for protocol in (0, 2, 5):
        names = pickle_globals(pickle.dumps(fitted, protocol=protocol))
        assert "sklearn.linear_model._logistic.LogisticRegression" in names
    assert pickle_globals(pickle.dumps({"a": 1})) == []


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution (on sys.path) that registers a model format."""
    site = tmp_path / "site"
    info = site / "demo_formats-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-formats\nVersion: 1.0\n")
    (site / "demo_formats.py").write_text(
        textwrap.dedent(
            """
            import json
            from mlsteward.models.formats import ModelFormat

            class Weights:
                def __init__(self, w):
                    self.w = w
                def predict(self, X):
                    return X @ self.w

            class JsonWeights(ModelFormat):
                id = "json-weights"
                suffix = ".json"
                description = "linear weights as JSON"
                def accepts(self, model):
                    return isinstance(model, Weights)
                def save(self, model, path):
                    path.write_text(json.dumps(list(model.w)))
                def load(self, path, trusted):
                    return Weights(json.loads(path.read_text()))
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    model_formats.cache_clear()
    yield info
    model_formats.cache_clear()


def test_a_plugin_format_is_registered_through_its_entry_point(
    plugin: Path, project: Project
) -> None:
    (plugin / "entry_points.txt").write_text(
        "[mlsteward.model_formats]\njson-weights = demo_formats:JsonWeights\n"
    )
    import demo_formats  # type: ignore[import-not-found]

    assert "json-weights" in model_formats()
    model = demo_formats.Weights([1.0, 2.0])
    package = save_model(project, model, example=np.array([[1.0, 1.0], [2.0, 0.0]]))
    assert package.format == "json-weights"
    loaded = load_model(project, package.digest)
    np.testing.assert_allclose(loaded.predict(np.array([[1.0, 1.0]])), [3.0])


@pytest.mark.parametrize(
    "target",
    ["demo_formats:Missing", "demo_formats:json", "mlsteward.models.formats:SkopsFormat"],
    ids=["not-importable", "not-a-format", "id-taken"],
)
def test_a_broken_plugin_is_named(plugin: Path, target: str) -> None:
    (plugin / "entry_points.txt").write_text(f"[mlsteward.model_formats]\nbroken = {target}\n")
    with pytest.raises(ModelError) as err:
        model_formats()
    assert err.value.code == "model-format-plugin"
    assert "'broken'" in err.value.message


def test_trusted_types_come_from_the_config(make_project: MakeProject) -> None:
    assert trusted_types(make_project(name="empty")) == frozenset()
    config = """
[tool.steward.models]
trusted_types = ["sklearn.tree._tree.Tree", "numpy.float64"]

[tool.steward.models.churn]
intended_use = "a per-model table belongs to the model cards"
"""
    assert trusted_types(make_project(config, "set")) == {
        "sklearn.tree._tree.Tree",
        "numpy.float64",
    }


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ('models = "all"', "model-config-type"),
        ("models.trusted_types = 'sklearn.tree._tree.Tree'", "model-config-type"),
        ("models.trusted_types = [1]", "model-config-type"),
        ('models.trusted_types = ["sklearn.*"]', "model-config-value"),
        ('models.trusted_types = ["Tree"]', "model-config-value"),
        ('models.trusted_typs = ["a.B"]', "model-config-value"),
        ('models.churn.intended = "typo of intended_use"', "model-config-value"),
        ("models.churn.limitations = 3", "model-config-type"),
    ],
)
def test_a_bad_trust_config_is_refused(
    make_project: MakeProject, config: str, code: str, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    project = make_project(config)
    with pytest.raises(ConfigError) as err:
        trusted_types(project)
    assert err.value.code == code
    assert "[tool.steward.models" in err.value.message
    good = make_project(name="good")
    digest = save_model(good, LogisticRegression().fit(frame, labels), example=frame).digest
    with pytest.raises(ConfigError):
        load_model(project, digest)  # the config is read before any byte of the package
