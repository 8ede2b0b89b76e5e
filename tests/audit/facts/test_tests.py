"""Test facts (facts/tests.py): tests found by pytest's rules, mapped to the code they import."""

from __future__ import annotations

from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.tests import TestFacts
from repo_builder import build_repo, notebook

T = "def test_ok():\n    assert True\n"


def facts_of(tmp_path: Path, files: dict[str, object]) -> TestFacts:
    return Facts(build_repo(tmp_path, files)).tests  # type: ignore[arg-type]


# -- finding tests --------------------------------------------------------------------------------


def test_pytest_collection_rules(tmp_path: Path) -> None:
    source = (
        "import unittest\n\n"
        "def test_top():\n    def test_nested():\n        pass\n\n"
        "async def test_async():\n    pass\n\n"
        "def helper():\n    pass\n\n"
        "class TestGroup:\n    def test_method(self):\n        pass\n\n"
        "    def helper(self):\n        pass\n\n"
        "class Base(unittest.TestCase):\n    def test_base(self):\n        pass\n\n"
        "class Derived(Base):\n    def test_derived(self):\n        pass\n\n"
        "class Helper:\n    def test_not_collected(self):\n        pass\n\n"
        "x = '''\ndef test_in_a_string_at_top_level():\n'''\n"
    )
    facts = facts_of(tmp_path, {"tests": {"test_all.py": source}})
    found = [(c.name, c.cls, c.line) for c in facts.cases]
    assert found[:6] == [
        ("test_top", None, 3),
        ("test_async", None, 7),
        ("test_method", "TestGroup", 14),
        ("test_base", "Base", 21),
        ("test_derived", "Derived", 25),
        ("test_in_a_string_at_top_level", None, 33),  # a text scan: the price of not parsing
    ]
    assert facts.count == 6
    assert [m.path for m in facts.modules] == ["tests/test_all.py"]


def test_which_files_hold_tests(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "pytest.ini": "[pytest]\npython_files = check_*.py\n",
            "tests": {"conftest.py": T, "helpers.py": "def make():\n    pass\n", "test_a.py": T},
            "checks": {"check_model.py": T},
            "src": {
                "pkg": {
                    "suite.py": "import unittest\n\nclass S(unittest.TestCase):\n"
                    "    def test_s(self):\n        pass\n"
                },
                "contest.py": T,
            },
        },
    )
    assert sorted(m.path for m in facts.modules) == [
        "checks/check_model.py",
        "src/pkg/suite.py",
        "tests/test_a.py",
    ]
    # conftest.py is never collected for tests, even when it defines test_* functions
    assert sorted(m.path for m in facts.support) == ["tests/conftest.py", "tests/helpers.py"]
    assert "src/contest.py" in {m.path for m in facts.source}


def test_lines_and_data_files(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "src": {"m.py": "# comment\n\nx = 1\ny = 2\n"},
            "setup.py": "from setuptools import setup\nsetup()\n",
            "docs": {"conf.py": "project = 'x'\n"},
            "tests": {"test_m.py": T, "data": {"golden.csv": "a\n1\n", "notes.md": "x"}},
            "nb.ipynb": notebook("import torch"),
        },
    )
    assert facts.test_lines == 2
    assert facts.source_lines == 2  # setup.py, docs and notebooks left out
    assert facts.data_files == ["tests/data/golden.csv"]


# -- mapping imports ------------------------------------------------------------------------------


def test_imports_map_to_project_modules(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "src": {
                "proj": {
                    "__init__.py": "from .model import Net\n"
                    "from proj.data import load as load_data\n",
                    "model.py": "class Net:\n    pass\n",
                    "data.py": "def load():\n    pass\n",
                    "features": {"__init__.py": "", "build.py": "from ..data import load\n"},
                    "logging.py": "x = 1\n",
                }
            },
            "lib": {"other": {"__init__.py": "", "util.py": "x = 1\n"}},
            "scripts": {"prep.py": "x = 1\n"},
            "tests": {
                "conftest.py": "from proj.features import build\n",
                "util.py": "import proj.model\n",
                "test_a.py": "from proj import Net, load_data\nimport logging\nimport util\n\n" + T,
                "test_b.py": "import other.util\nimport prep\nimport proj\n\n"
                "def test_b():\n    proj.features.build.run()\n",
            },
        },
    )
    assert facts.imported["tests/test_a.py"] == {
        "src/proj/__init__.py",
        "src/proj/model.py",  # re-exported by the package, and imported by the helper util.py
        "src/proj/data.py",  # re-exported under another name
        "src/proj/features/__init__.py",  # from conftest.py
        "src/proj/features/build.py",
    }  # `import logging` is the standard library, not src/proj/logging.py
    assert facts.imported["tests/test_b.py"] >= {
        "lib/other/util.py",  # the folder above a top-level package is an import root
        "scripts/prep.py",  # a test that puts scripts/ on sys.path: a unique dotted suffix
        "src/proj/features/build.py",  # used by its dotted name after `import proj`
    }
    assert facts.tested("src/proj/data.py") == ["tests/test_a.py"]
    assert facts.tested("src/proj/logging.py") == []
    # build.py imports data.py: tests that import build.py reach data.py through it
    assert facts.reached("src/proj/data.py") == ["tests/test_a.py", "tests/test_b.py"]


# -- what needs tests -----------------------------------------------------------------------------


def test_model_targets(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "torch_model.py": "from torch import nn\n\nclass Block(nn.Module):\n    pass\n\n"
            "class Net(Block):\n    pass\n",
            "keras_model.py": "import tensorflow as tf\n\nclass M(tf.keras.Model):\n    pass\n",
            "est.py": "from sklearn.base import BaseEstimator, TransformerMixin\n\n"
            "class Scaler(TransformerMixin, BaseEstimator):\n    pass\n",
            "heads.py": "from torch_model import Net\n\nclass Head(Net):\n    pass\n",
            "build.py": "import keras\n\ndef build_model():\n    return keras.Sequential()\n",
            "split.py": "import sklearn\n\ndef train_test_split_by_user(df):\n    pass\n",
            "plain.py": "def train():\n    pass\n",  # no ML library: a train() of something else
            "pydantic_models.py": "from pydantic import BaseModel\n\n"
            "class Model(BaseModel):\n    x: int\n",
        },
    )
    reasons = {t.path: (t.reason, t.line) for t in facts.model_targets}
    assert reasons == {
        "torch_model.py": ("defines model classes Block, Net", 3),
        "keras_model.py": ("defines model class M", 3),
        "est.py": ("defines model class Scaler", 3),
        "heads.py": ("defines model class Head", 3),
        "build.py": ("defines build_model()", 3),
    }


def test_training_modules_and_notebooks(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "train.py": "import torch\nfor x in data:\n    loss = model(x)\n    loss.backward()\n",
            "fit.py": "from sklearn.linear_model import LogisticRegression\n"
            "LogisticRegression().fit(X, y)\n",
            "serve.py": "import torch\nmodel = torch.load('m.pt')\n",
            "examples": {"demo.py": "import torch\nloss.backward()\n"},
            "nb.ipynb": notebook("import xgboost as xgb", "booster = xgb.train(params, dtrain)"),
            "eda.ipynb": notebook("import pandas as pd", "df.describe()"),
        },
    )
    assert [m.path for m in facts.training_modules] == ["fit.py", "train.py"]
    assert [m.path for m in facts.training_notebooks] == ["nb.ipynb"]


def test_feature_and_data_targets(tmp_path: Path) -> None:
    pd = "import pandas as pd\n\n"
    facts = facts_of(
        tmp_path,
        {
            "src": {
                "features": {
                    "__init__.py": "",
                    "build_features.py": pd + "def add(df):\n    pass\n",
                },
                "transforms.py": "import numpy as np\n\ndef scale(x):\n    return x\n",
                "transformer.py": "import torch.nn as nn\n\nclass T(nn.Module):\n    pass\n",
                "data": {"make_dataset.py": pd + "def main():\n    pass\n"},
                "clean.py": pd + "CONSTANT = 1\n",  # nothing to test
                "metadata.py": pd + "def read():\n    pass\n",
                "feature_api.py": "from fastapi import APIRouter\n\ndef get_feature():\n    pass\n",
            },
        },
    )
    # transformer.py is a model; feature_api.py is named after features but transforms no data
    assert [t.path for t in facts.feature_targets] == [
        "src/features/build_features.py",
        "src/transforms.py",
    ]
    assert [(t.path, t.line) for t in facts.dataprep_targets] == [("src/data/make_dataset.py", 3)]


# -- what the tests check -------------------------------------------------------------------------


def test_pipeline_tests_and_quality_checks(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "train.py": "import torch\n\ndef train(data):\n    loss.backward()\n",
            "dvc.yaml": "stages: {}\n",
            "tests": {
                "test_e2e.py": (
                    "import subprocess\nimport torch\nfrom train import train\n\n"
                    "def test_script():\n    subprocess.run(['python', 'train.py'])\n\n"
                    "def test_repro():\n    subprocess.run('dvc repro', shell=True)\n\n"
                    "def test_train_entry():\n    train(SAMPLE)\n\n"
                    "def test_unit():\n    assert 1\n"
                ),
                "test_quality.py": (
                    "import numpy as np\nimport torch\nimport pytest\n\n"
                    "def test_floor():\n    val_acc = 0.9\n    assert val_acc >= 0.85\n\n"
                    "def test_golden():\n    np.testing.assert_allclose(model_output, GOLDEN)\n\n"
                    "def test_labels():\n    assert predictions == expected_labels\n\n"
                    "def test_pinned():\n    assert metrics['f1'] == pytest.approx(0.7)\n\n"
                    "def test_sanity():\n    assert loss >= 0\n\n"
                    "def test_shapes():\n    assert out.shape == (2, 3)\n"
                ),
            },
        },
    )
    assert [(f.case.name, f.reason) for f in facts.pipeline_tests] == [
        ("test_script", "runs `train.py`"),
        ("test_repro", "runs `dvc repro`"),
        ("test_train_entry", "runs the project's training (train.train) on test data"),
    ]
    assert [(f.case.name, f.where) for f in facts.quality_checks] == [
        ("test_floor", 7),
        ("test_golden", 10),
        ("test_labels", 13),
        ("test_pinned", 16),
    ]


def test_quality_checks_need_ml(tmp_path: Path) -> None:
    # a web service's tests compare "scores" too; without ML code they are not model checks
    facts = facts_of(
        tmp_path, {"tests": {"test_api.py": "def test_rank():\n    assert score >= 0.5\n"}}
    )
    assert facts.quality_checks == []
