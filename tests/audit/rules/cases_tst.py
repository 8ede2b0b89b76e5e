"""Cases for TST rules: tests exist, cover feature, data and model code, and check ML behaviour."""

from rulecases import Case

from repo_builder import notebook

T = "def test_ok():\n    assert True\n"
MODEL = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    pass\n"
TRAIN = "import torch\n\n\ndef train(data):\n    loss = model(data)\n    loss.backward()\n"
FEATURES = "import pandas as pd\n\n\ndef add_ratio(df):\n    return df\n"
CI = {
    ".github": {
        "workflows": {
            "ci.yml": "on: [push, pull_request]\njobs:\n  t:\n    steps:\n"
            "      - run: python -m pytest\n"
        }
    }
}

CASES = [
    # TST001 ------------------------------------------------------------------------------------
    Case("TST001", "passed", {"src": {"m.py": "x = 1\n"}, "tests": {"test_m.py": T}}),
    Case("TST001", "passed", {**CI, "tests": {"test_m.py": T}}, id="run-by-ci"),
    Case(
        "TST001",
        "passed",
        {
            "tests.py": "import unittest\n\nclass ModelTests(unittest.TestCase):\n"
            "    def test_builds(self):\n        self.assertTrue(True)\n"
        },
        id="unittest-outside-tests-dir",
    ),
    Case(
        "TST001",
        "passed",
        {"pytest.ini": "[pytest]\npython_files = check_*.py\n", "checks": {"check_model.py": T}},
        id="python-files-config",
    ),
    Case(
        "TST001",
        "passed",
        {
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--doctest-modules'\n",
            "m.py": "x = 1\n",
        },
        id="doctests",
    ),
    Case(
        "TST001", "failed", {"README.md": "# x\n", "train.py": "x = 1\n"}, lines=(("README.md", 1),)
    ),
    Case(
        "TST001",
        "failed",
        {"tests": {"test_model.py": "def helper():\n    return 1\n"}},
        id="test-file-without-tests",
        lines=(("tests/test_model.py", 1),),
    ),
    Case(
        "TST001",
        "failed",
        {"tests": {"test_x.py": "# def test_commented_out():\n"}},
        id="commented",
    ),
    # TST002 ------------------------------------------------------------------------------------
    Case(
        "TST002",
        "passed",
        {
            "src": {"proj": {"__init__.py": "", "features.py": FEATURES}},
            "tests": {"test_features.py": "from proj.features import add_ratio\n\n" + T},
        },
    ),
    Case(
        "TST002",
        "passed",
        {
            "src": {
                "proj": {
                    "__init__.py": "",
                    "features": {
                        "__init__.py": "from .build import build_features\n",
                        "build.py": "import numpy\n\ndef build_features(df):\n    return df\n",
                    },
                }
            },
            "tests": {"test_features.py": "from proj.features import build_features\n\n" + T},
        },
        id="package-reexport",
    ),
    Case(
        "TST002",
        "passed",
        {
            "lib": {"proj": {"__init__.py": "", "transforms.py": FEATURES}},
            "tests": {"test_t.py": "import proj.transforms\n\n" + T},
        },
        id="import-root-above-package",
    ),
    Case(
        "TST002",
        "partial",
        {
            "features.py": FEATURES,
            "preprocessing.py": FEATURES,
            "tests": {"test_f.py": "import features\n\n" + T},
        },
        id="one-of-two",
        lines=(("preprocessing.py", 4),),
    ),
    Case(
        "TST002",
        "partial",
        {
            "features.py": FEATURES,
            "pipeline.py": "from features import add_ratio\n",
            "tests": {"test_p.py": "import pipeline\n\n" + T},
        },
        id="only-through-pipeline",
    ),
    Case(
        "TST002",
        "failed",
        {"src": {"features.py": FEATURES}, "tests": {"test_x.py": T}},
        lines=(("src/features.py", 4),),
    ),
    Case(
        "TST002",
        "failed",
        {"features.py": FEATURES, "tests": {"test_x.py": "model = make()\nmodel.features()\n" + T}},
        id="local-name-is-not-an-import",
    ),
    Case(
        "TST002",
        "not_applicable",
        {"model.py": MODEL, "tests": {"test_m.py": T}},
        id="no-feature-code",
    ),
    Case(
        "TST002",
        "not_applicable",
        {"features.py": FEATURES},
        id="context-no-features",
        context={"features": False},
    ),
    # TST003 ------------------------------------------------------------------------------------
    Case(
        "TST003",
        "passed",
        {
            "src": {"proj": {"__init__.py": "", "data": {"__init__.py": "", "clean.py": FEATURES}}},
            "tests": {"test_clean.py": "from proj.data.clean import add_ratio\n\n" + T},
        },
    ),
    Case(
        "TST003",
        "passed",
        {
            "scripts": {"prepare.py": FEATURES},
            "tests": {
                "test_prepare.py": "import sys\nsys.path.insert(0, 'scripts')\nimport prepare\n\n"
                + T
            },
        },
        id="sys-path-script",
    ),
    Case("TST003", "failed", {"src": {"prepare.py": FEATURES}, "tests": {"test_x.py": T}}),
    Case("TST003", "not_applicable", {"model.py": MODEL}, id="no-data-code"),
    # TST004 ------------------------------------------------------------------------------------
    Case(
        "TST004",
        "passed",
        {"model.py": MODEL, "tests": {"test_model.py": "from model import Net\n\n" + T}},
    ),
    Case(
        "TST004",
        "passed",
        {
            "est.py": "from sklearn.base import BaseEstimator\n\n"
            "class Clf(BaseEstimator):\n    pass\n",
            "tests": {"test_est.py": "from est import Clf\n\n" + T},
        },
        id="sklearn-estimator",
    ),
    Case(
        "TST004", "failed", {"model.py": MODEL, "tests": {"test_x.py": T}}, lines=(("model.py", 4),)
    ),
    Case(
        "TST004",
        "failed",
        {"nets.py": "import tensorflow as tf\n\nclass Net(tf.keras.Model):\n    pass\n"},
        id="keras-alias",
        lines=(("nets.py", 3),),
    ),
    Case(
        "TST004",
        "partial",
        {
            "base.py": MODEL,
            "big.py": "from base import Net\n\nclass Big(Net):\n    pass\n",
            "tests": {"test_base.py": "from base import Net\n\n" + T},
        },
        id="subclass-of-project-model",
        lines=(("big.py", 3),),
    ),
    Case(
        "TST004",
        "not_applicable",
        {"nb.ipynb": notebook("import torch", "loss.backward()")},
        id="notebooks-only",
    ),
    Case("TST004", "not_applicable", {"app.py": "import flask\n"}, id="no-model"),
    # TST005 ------------------------------------------------------------------------------------
    Case(
        "TST005",
        "passed",
        {
            "pipeline.py": TRAIN,
            "tests": {
                "test_pipeline.py": "import torch\nfrom pipeline import train\n\n"
                "def test_end_to_end():\n    m = train(DATA)\n    assert m.predict(X) is not None\n"
            },
        },
    ),
    Case(
        "TST005",
        "passed",
        {
            "train.py": TRAIN,
            "tests": {
                "test_cli.py": "import subprocess\n\ndef test_training_script_runs():\n"
                "    subprocess.run(['python', 'train.py', '--epochs', '1'], check=True)\n"
            },
        },
        id="subprocess-script",
    ),
    Case(
        "TST005",
        "passed",
        {
            "dvc.yaml": "stages: {}\n",
            "src": {"train.py": TRAIN},
            "tests": {
                "test_repro.py": "import subprocess\n\ndef test_repro():\n"
                "    subprocess.check_call('dvc repro', shell=True)\n"
            },
        },
        id="dvc-repro",
    ),
    Case(
        "TST005",
        "failed",
        {
            "train.py": TRAIN,
            "tests": {
                "test_unit.py": "from train import train\n\ndef test_shape():\n    assert 1\n"
            },
        },
        lines=(("train.py", 1),),
    ),
    Case(
        "TST005",
        "failed",
        {
            "train.py": TRAIN,
            "tests": {
                "test_cli.py": "import subprocess\n\ndef test_build():\n"
                "    subprocess.run(['kfp', 'build', 'train_component.py'])\n"
            },
        },
        id="script-the-test-writes",
    ),
    Case(
        "TST005",
        "not_applicable",
        {"app.py": "x = 1\n", "tests": {"test_a.py": T}},
        id="no-training",
    ),
    # TST006 ------------------------------------------------------------------------------------
    Case(
        "TST006",
        "passed",
        {
            "model.py": MODEL,
            "tests": {
                "test_q.py": "from model import Net\n\ndef test_quality():\n"
                "    accuracy = evaluate(Net())\n    assert accuracy >= 0.9\n"
            },
        },
    ),
    Case(
        "TST006",
        "passed",
        {
            "model.py": MODEL,
            "tests": {
                "test_golden.py": "import numpy as np\nimport torch\n\ndef test_golden():\n"
                "    preds = run()\n    np.testing.assert_allclose(preds, GOLDEN, atol=1e-4)\n"
            },
        },
        id="golden-predictions",
    ),
    Case(
        "TST006",
        "passed",
        {
            "model.py": MODEL,
            "tests": {
                "test_auc.py": "import pytest\nimport sklearn\n\ndef test_auc():\n"
                "    assert results['auc'] == pytest.approx(0.81, rel=0.01)\n"
            },
        },
        id="approx-metric",
    ),
    Case(
        "TST006",
        "failed",
        {
            "model.py": MODEL,
            "tests": {
                "test_m.py": "import torch\n\n"
                "def test_metric_logged():\n    assert len(metrics) >= 0\n"
            },
        },
        id="trivial-bound",
    ),
    Case(
        "TST006",
        "failed",
        {
            "model.py": MODEL,
            "tests": {
                "test_batch.py": "import torch\n\ndef test_batch():\n"
                "    assert torch.allclose(processed_batch, expected_batch)\n"
            },
        },
        id="allclose-on-inputs",
    ),
    Case("TST006", "not_applicable", {"app.py": "x = 1\n", "tests": {"test_a.py": T}}, id="no-ml"),
    # TST007 ------------------------------------------------------------------------------------
    Case(
        "TST007",
        "passed",
        {"pytest.ini": "[pytest]\ntestpaths = tests\n", "tests": {"test_a.py": T}},
    ),
    Case(
        "TST007",
        "passed",
        {"setup.cfg": "[tool:pytest]\ntestpaths = tests\n", "tests": {"test_a.py": T}},
        id="setup-cfg",
    ),
    Case(
        "TST007",
        "passed",
        {"tox.ini": "[testenv]\ncommands = pytest\n", "tests": {"test_a.py": T}},
        id="tox",
    ),
    Case(
        "TST007",
        "passed",
        {"Makefile": "test:\n\tpython -m pytest -q\n", "tests": {"test_a.py": T}},
        id="make-target",
    ),
    Case(
        "TST007",
        "partial",
        {"tests": {"conftest.py": "import pytest\n", "test_a.py": T}},
        id="conftest-only",
    ),
    Case(
        "TST007",
        "failed",
        {"pyproject.toml": "[project]\nname = 'x'\n", "tests": {"test_a.py": T}},
        lines=(("pyproject.toml", 1),),
    ),
    Case("TST007", "not_applicable", {"m.py": "x = 1\n"}, id="no-tests"),
    # TST008 ------------------------------------------------------------------------------------
    Case(
        "TST008",
        "passed",
        {"tests": {"test_speed.py": "def test_predict_latency(benchmark):\n    benchmark(f)\n"}},
    ),
    Case("TST008", "passed", {"asv.conf.json": "{}\n", "m.py": "x = 1\n"}, id="asv"),
    Case("TST008", "failed", {"tests": {"test_a.py": T}, "README.md": "# x\n"}),
    Case(
        "TST008",
        "not_applicable",
        {"tests": {"test_a.py": T}},
        id="not-deployed",
        context={"deployed": False},
    ),
    # TST009 ------------------------------------------------------------------------------------
    Case("TST009", "passed", {"m.py": "x = 1\ny = 2\n", "tests": {"test_m.py": T}}),
    Case(
        "TST009",
        "partial",
        {"m.py": "".join(f"x{i} = {i}\n" for i in range(40)), "tests": {"test_m.py": T}},
    ),
    Case("TST009", "failed", {"m.py": "x = 1\n", "README.md": "# x\n"}, id="no-tests"),
    Case("TST009", "not_applicable", {"nb.ipynb": notebook("x = 1")}, id="notebooks-only"),
]
