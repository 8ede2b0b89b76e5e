"""Saving and loading packages: every format round-trips, trust is enforced, bad bytes refused."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlsteward.artifacts import open_objects
from mlsteward.artifacts.trees import checkout_tree, put_tree, read_tree
from mlsteward.errors import IntegrityError, ModelError
from mlsteward.models import load_model, read_package, save_model
from mlsteward.models.package import EXAMPLE, MANIFEST
from mlsteward.project import Project

TREE = "sklearn.tree._tree.Tree"
MakeProject = Callable[..., Project]


def unpack(project: Project, digest: str, dest: Path) -> Path:
    """The package's files, checked out to edit (as an attacker would)."""
    checkout_tree(open_objects(project), digest, dest)
    return dest


def repack(project: Project, folder: Path) -> str:
    return put_tree(open_objects(project), folder).digest


def edit_manifest(project: Project, digest: str, tmp_path: Path, **changes: Any) -> str:
    folder = unpack(project, digest, tmp_path / "edited")
    path = folder / MANIFEST
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))
    return repack(project, folder)


def test_a_logistic_regression_round_trips_through_skops(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    model = LogisticRegression().fit(frame, labels)
    package = save_model(project, model, example=frame.head(5))
    assert package.format == "skops"
    assert package.signature.input_names == ["age", "income"]
    assert [c.type for c in package.signature.inputs] == ["float64", "float64"]
    assert package.signature.outputs[0].name == "prediction"
    assert package.trust["trusted"] is False
    assert package.trust["types"] == []
    assert package.classes == (0, 1)
    assert package.libraries["scikit-learn"]
    assert package.artifact_fields()["kind"] == "model"
    files = {e.path for e in read_tree(open_objects(project), package.digest)}
    assert files == {"model.skops", MANIFEST, EXAMPLE}
    assert package.files == 3

    loaded = load_model(project, package.digest)
    assert loaded.format == "skops"
    assert loaded.signature == package.signature
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))  # type: ignore[arg-type]
    assert loaded.classes == [0, 1]
    described = read_package(project, package.digest)
    assert described is not None
    assert (described.format, described.signature) == ("skops", package.signature)


def test_a_pipeline_round_trips_and_the_example_is_kept(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    import pyarrow.parquet as pq

    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    package = save_model(project, model, example=frame)
    loaded = load_model(project, package.digest)
    reordered = frame[["income", "age"]].assign(note="ignored")
    np.testing.assert_array_equal(loaded.predict(reordered), model.predict(frame))
    entries = {e.path: e for e in read_tree(open_objects(project), package.digest)}
    stored = open_objects(project).read_bytes(entries[EXAMPLE].hash)
    example = pq.read_table(__import__("io").BytesIO(stored))
    assert example.column_names == ["age", "income"]
    assert example.num_rows == len(frame)


def test_a_tree_model_needs_its_type_trusted_in_the_project_config(
    make_project: MakeProject, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    plain = make_project(name="plain")
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, labels)
    package = save_model(plain, model, example=frame.head(3))
    assert package.trust["types"] == [TREE]
    with pytest.raises(ModelError) as err:
        load_model(plain, package.digest)
    assert err.value.code == "model-untrusted"
    assert TREE in err.value.message
    assert f'[tool.steward.models]: trusted_types = ["{TREE}"]' in (err.value.hint or "")

    trusting = make_project(f'\n[tool.steward.models]\ntrusted_types = ["{TREE}"]\n', "trusting")
    digest = save_model(trusting, model, example=frame.head(3)).digest
    loaded = load_model(trusting, digest)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    # the caller may vouch for one artifact instead
    np.testing.assert_array_equal(
        load_model(plain, package.digest, trust=True).predict(frame), model.predict(frame)
    )


def test_trusted_types_smuggled_into_the_manifest_are_ignored(
    project: Project, frame: pd.DataFrame, labels: np.ndarray, tmp_path: Path
) -> None:
    model = RandomForestClassifier(n_estimators=2, random_state=0).fit(frame, labels)
    package = save_model(project, model, example=frame.head(3))
    record = {"trusted": True, "by": "attacker", "time": 0.0, "types": [TREE]}
    forged = edit_manifest(project, package.digest, tmp_path, trust=record)
    assert read_package(project, forged).trust["trusted"] is True  # type: ignore[union-attr]
    with pytest.raises(ModelError) as err:
        load_model(project, forged)
    assert err.value.code == "model-untrusted"
    assert TREE in err.value.message
    extra = edit_manifest(project, package.digest, tmp_path / "2", trusted_types=[TREE])
    with pytest.raises(ModelError) as err:
        load_model(project, extra)
    assert err.value.code == "model-corrupt"


def test_an_onnx_model_predicts_the_same_labels(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    from skl2onnx import to_onnx

    fitted = LogisticRegression().fit(frame.to_numpy(), labels)
    proto = to_onnx(fitted, frame.to_numpy()[:1].astype(np.float32))
    package = save_model(project, proto, example=frame.head(4))
    assert package.format == "onnx"
    assert package.classes == (0, 1)
    loaded = load_model(project, package.digest)
    np.testing.assert_array_equal(loaded.predict(frame), fitted.predict(frame.to_numpy()))
    proba = loaded.predict_proba(frame)
    assert proba is not None
    np.testing.assert_allclose(proba, fitted.predict_proba(frame.to_numpy()), atol=1e-5)
    assert loaded.classes == [0, 1]
    # the serialized bytes are a model too
    again = save_model(project, proto.SerializeToString(), example=frame.head(4))
    assert again.format == "onnx"


def _matmul_model() -> Any:
    """A linear ONNX regressor whose weights are an initializer (a tensor)."""
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.array([[0.5], [2.0]], dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["variable"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        [weights],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_onnx_external_data_is_refused_on_save_and_load(
    project: Project, frame: pd.DataFrame, tmp_path: Path
) -> None:
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    proto = _matmul_model()
    package = save_model(project, proto, example=frame.head(2))
    loaded = load_model(project, package.digest)
    expected = frame["age"] * 0.5 + frame["income"] * 2.0
    np.testing.assert_allclose(loaded.predict(frame), expected, rtol=1e-5)
    assert loaded.predict_proba(frame) is None

    convert_model_to_external_data(proto, location="weights.bin", size_threshold=0)
    with pytest.raises(ModelError) as err:
        save_model(project, proto, example=frame.head(2))
    assert err.value.code == "model-external-data"
    folder = unpack(project, package.digest, tmp_path / "pkg")
    (folder / "model.onnx").unlink()
    onnx.save_model(proto, str(folder / "model.onnx"), location="weights.bin", size_threshold=0)
    assert (folder / "weights.bin").exists()
    with pytest.raises(ModelError) as err:
        load_model(project, repack(project, folder))
    assert err.value.code == "model-external-data"
    assert "W" in err.value.message


def test_pickle_needs_trust_to_save_and_to_load(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    model = LogisticRegression().fit(frame, labels)
    for fmt in ("pickle", "cloudpickle"):
        with pytest.raises(ModelError) as err:
            save_model(project, model, example=frame.head(2), format=fmt)
        assert err.value.code == "model-untrusted"
        assert "executes code" in err.value.message
        package = save_model(project, model, example=frame.head(2), format=fmt, trust=True)
        assert package.trust["trusted"] is True
        assert package.trust["by"]
        assert "sklearn.linear_model._logistic.LogisticRegression" in package.trust["types"]
        with pytest.raises(ModelError) as err:
            load_model(project, package.digest)
        assert err.value.code == "model-untrusted"
        assert "trust=True" in (err.value.hint or "")
        loaded = load_model(project, package.digest, trust=True)
        assert loaded.trust["trusted"] is True
        np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_an_untrusted_pickle_is_never_unpickled(
    project: Project, frame: pd.DataFrame, labels: np.ndarray, tmp_path: Path
) -> None:
    model = LogisticRegression().fit(frame, labels)
    package = save_model(project, model, example=frame.head(2), format="pickle", trust=True)
    folder = unpack(project, package.digest, tmp_path / "pkg")
    marker = tmp_path / "code-ran"
    (folder / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    forged = repack(project, folder)
    with pytest.raises(ModelError) as err:
        load_model(project, forged)
    assert err.value.code == "model-untrusted"
    assert "mkdir" in err.value.message
    assert not marker.exists()
    load_model(project, forged, trust=True)
    assert marker.is_dir()  # the payload is real: only the check kept it from running


def test_a_model_that_fails_on_its_own_example_stores_nothing(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    model = LogisticRegression().fit(frame, labels)
    with pytest.raises(ModelError) as err:
        save_model(project, model, example=frame.assign(extra=1.0).head(3))
    assert err.value.code == "model-example"
    assert "ValueError" in err.value.message
    assert list(open_objects(project)) == []


def test_a_wrong_input_at_predict_is_refused(
    project: Project, frame: pd.DataFrame, labels: np.ndarray
) -> None:
    model = LogisticRegression().fit(frame, labels)
    loaded = load_model(project, save_model(project, model, example=frame.head(3)).digest)
    with pytest.raises(ModelError) as err:
        loaded.predict(frame[["age"]])
    assert err.value.code == "model-signature"
    assert "missing column(s) income" in err.value.message
    with pytest.raises(ModelError) as err:
        loaded.predict_proba({"age": ["old"], "income": [1.0]})
    assert err.value.code == "model-signature"
    assert "age (expected float64, got string)" in err.value.message
    with pytest.raises(ModelError) as err:
        loaded.predict("age=3")
    assert err.value.code == "model-input"
    with pytest.raises(ModelError) as err:
        loaded.predict({"age": [float("nan")], "income": [1.0]})
    assert err.value.code == "model-predict"


def _object_path(project: Project, digest: str) -> Path:
    return project.workspace / "objects" / "sha256" / digest[:2] / digest[2:]


@pytest.mark.parametrize("target", ["model.skops", MANIFEST])
def test_a_tampered_object_is_refused_before_loading(
    project: Project, frame: pd.DataFrame, labels: np.ndarray, target: str
) -> None:
    model = LogisticRegression().fit(frame, labels)
    package = save_model(project, model, example=frame.head(3))
    entry = next(e for e in read_tree(open_objects(project), package.digest) if e.path == target)
    path = _object_path(project, entry.hash)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as err:
        load_model(project, package.digest)
    assert err.value.code == "object-corrupt"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"model_format": "joblib"}, "unknown model format 'joblib'"),
        ({"file": "model.bin"}, "'model.bin' is not in the package"),
        ({"format": "steward-model/9"}, "format is 'steward-model/9'"),
        ({"signature": {"inputs": []}}, "signature record is not valid"),
        ({"trust": True}, "trust is not a record"),
    ],
)
def test_a_corrupt_manifest_is_refused(
    project: Project,
    frame: pd.DataFrame,
    labels: np.ndarray,
    tmp_path: Path,
    change: dict[str, Any],
    words: str,
) -> None:
    model = LogisticRegression().fit(frame, labels)
    package = save_model(project, model, example=frame.head(3))
    forged = edit_manifest(project, package.digest, tmp_path, **change)
    with pytest.raises(ModelError) as err:
        load_model(project, forged)
    assert err.value.code == "model-corrupt"
    assert words in err.value.message


def test_a_manifest_that_is_not_json_or_missing_is_refused(
    project: Project, frame: pd.DataFrame, labels: np.ndarray, tmp_path: Path
) -> None:
    model = LogisticRegression().fit(frame, labels)
    package = save_model(project, model, example=frame.head(3))
    folder = unpack(project, package.digest, tmp_path / "pkg")
    (folder / MANIFEST).write_text("{not json")
    with pytest.raises(ModelError, match="not UTF-8 JSON"):
        load_model(project, repack(project, folder))
    (folder / MANIFEST).unlink()
    bare = repack(project, folder)
    assert read_package(project, bare) is None
    with pytest.raises(ModelError, match=f"holds no {MANIFEST}"):
        load_model(project, bare)


def _two_inputs(second: str) -> Any:
    """An ONNX graph with one [None, 1] input per column: y = age + 10 * <second>."""
    from onnx import TensorProto, helper, numpy_helper

    ten = numpy_helper.from_array(np.array([[10.0]], dtype=np.float32), "ten")
    graph = helper.make_graph(
        [
            helper.make_node("Mul", [second, "ten"], ["scaled"]),
            helper.make_node("Add", ["age", "scaled"], ["variable"]),
        ],
        "two",
        [
            helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1]),
            helper.make_tensor_value_info(second, TensorProto.FLOAT, [None, 1]),
        ],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        [ten],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_onnx_inputs_are_matched_to_columns_by_name(project: Project, frame: pd.DataFrame) -> None:
    package = save_model(project, _two_inputs("income"), example=frame.head(3))
    loaded = load_model(project, package.digest)
    expected = frame["age"] + 10 * frame["income"]
    np.testing.assert_allclose(loaded.predict(frame), expected, rtol=1e-5)
    with pytest.raises(ModelError) as err:
        save_model(project, _two_inputs("salary"), example=frame.head(3))
    assert err.value.code == "model-onnx-inputs"
    assert "'salary'" in err.value.message


def test_an_onnx_graph_onnxruntime_cannot_run_is_refused_on_save(
    project: Project, frame: pd.DataFrame
) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["X"], ["variable"])],
        "bad",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(ModelError) as err:
        save_model(project, proto, example=frame.head(2))
    assert err.value.code == "model-example"
    assert "NoSuchOp" in err.value.message
    assert list(open_objects(project)) == []


@pytest.mark.parametrize("kind", ["numpy", "dict", "arrow", "polars"])
def test_a_model_fitted_on_an_array_takes_every_input_kind(
    project: Project, frame: pd.DataFrame, labels: np.ndarray, kind: str
) -> None:
    import polars as pl
    import pyarrow as pa

    array = frame.to_numpy()
    model = LogisticRegression().fit(array, labels)
    columns = {"0": array[:, 0], "1": array[:, 1]}
    example = {
        "numpy": array,
        "dict": {k: v.tolist() for k, v in columns.items()},
        "arrow": pa.table(columns),
        "polars": pl.DataFrame(columns),
    }[kind]
    loaded = load_model(project, save_model(project, model, example=example).digest)
    assert loaded.signature.input_names == ["0", "1"]
    np.testing.assert_array_equal(loaded.predict(example), model.predict(array))
    np.testing.assert_array_equal(loaded.predict(array), model.predict(array))
