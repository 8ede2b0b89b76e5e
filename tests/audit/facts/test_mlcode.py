"""ML-code detection shared by the EXP, DAT and MOD rules (mlsteward.audit.facts.mlcode)."""

from __future__ import annotations

import ast
from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.mlcode import (
    ci_running,
    ci_runs_tests,
    dvc_pipeline,
    engineered_features,
    gate_evidence,
    in_training_loop,
    index,
    is_entry_point,
    local_imports,
    training_anchor,
    training_modules,
    training_sites,
)
from mlsteward.audit.rule import Strength
from mlsteward.config import parse_settings
from repo_builder import build_repo, notebook


def _facts(tmp_path: Path, files: dict[str, object], **settings: object) -> Facts:
    root = build_repo(tmp_path / "repo", files)  # type: ignore[arg-type]
    return Facts(root, parse_settings(settings) if settings else None)


def test_calls_by_name_prefix_and_method(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "a.py": "import optuna as o\nimport pandas as pd\no.create_study()\n"
            "pd.read_csv('x')\nrun.log_metric('a', 1)\n",
            "tests/test_a.py": "import optuna\noptuna.create_study()\n",
        },
    )
    idx = index(facts)
    assert [s.name for s in idx.calls("optuna.")] == ["optuna.create_study"]
    assert len(idx.calls("optuna.", tests=None)) == 2
    assert [s.path for s in idx.calls("optuna.", tests=True)] == ["tests/test_a.py"]
    assert [s.name for s in idx.calls("pandas.read_")] == ["pandas.read_csv"]
    assert [s.line for s in idx.methods("log_metric")] == [5]
    assert index(facts) is idx  # built once per audit


def test_training_sites_need_an_ml_library(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "train.py": "from sklearn.svm import SVC\nSVC().fit(X, y)\n",
            "web.py": "server.fit(app)\n",  # no ML import: not training
            "loop.py": "import torch\nfor b in loader:\n    loss.backward()\n    opt.step()\n"
            "model.train()\n",
            "hf.py": "from transformers import Trainer\ntrainer = Trainer()\ntrainer.train()\n",
            "tests/test_fit.py": "from sklearn.svm import SVC\nSVC().fit(X, y)\n",
        },
    )
    found = {(s.path, s.line) for s in training_sites(facts)}
    assert found == {("train.py", 2), ("loop.py", 3), ("loop.py", 4), ("hf.py", 3)}
    assert [m.path for m in training_modules(facts)] == ["hf.py", "loop.py", "train.py"]


def test_training_anchor_prefers_train_scripts(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "bench.py": "import torch\nloss.backward()\n",
            "train.py": "import torch\n\nif __name__ == '__main__':\n    loss.backward()\n",
            "nb.ipynb": notebook("import torch\nloss.backward()"),
        },
    )
    hit = training_anchor(facts, "msg")
    assert (hit.path, hit.line) == ("train.py", 4)
    assert training_anchor(facts, "msg", {"nb.ipynb"}).path == "nb.ipynb"


def test_in_training_loop(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "t.py": "for epoch in range(3):\n    run.log(1)\n"
            "for name in metrics:\n    run.log(2)\n"
            "for x in things:\n    model.fit(x)\n    run.log(3)\n"
            "while True:\n    run.log(4)\n"
        },
    )
    m = facts.python.by_path["t.py"]
    logs = {
        c.args[0].value: c
        for c in m.nodes(ast.Call)
        if isinstance(c.func, ast.Attribute)
        and c.func.attr == "log"
        and isinstance(c.args[0], ast.Constant)
    }
    assert {k: in_training_loop(m, v) for k, v in logs.items()} == {
        1: True,
        2: False,
        3: True,
        4: True,
    }


def test_entry_points_and_local_imports(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/config.py": "import argparse\n",
            "pkg/train.py": "from pkg.config import X\nfrom . import util\n\n"
            "if __name__ == '__main__':\n    pass\n",
            "pkg/util.py": "",
            "lib.py": "def f():\n    pass\n",
        },
    )
    train = facts.python.by_path["pkg/train.py"]
    assert is_entry_point(train)
    assert not is_entry_point(facts.python.by_path["lib.py"])
    assert [m.path for m in local_imports(facts, train)] == [
        "pkg/__init__.py",
        "pkg/config.py",
        "pkg/util.py",
    ]


def test_engineered_features(tmp_path: Path) -> None:
    torch_only = {"t.py": "import torch\nimport pandas as pd\nloss.backward()\n"}
    assert engineered_features(_facts(tmp_path / "a", torch_only)) is False
    tabular = {"t.py": "from xgboost import XGBClassifier\nXGBClassifier().fit(X, y)\n"}
    assert engineered_features(_facts(tmp_path / "b", tabular)) is True
    assert engineered_features(_facts(tmp_path / "c", {"a.py": "x = 1\n"})) is None
    said = _facts(tmp_path / "d", torch_only, context={"features": True})
    assert engineered_features(said) is True


def test_gate_evidence(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {"pyproject.toml": "[tool.steward.gates.promotion]\nmax-regression = 0.01\n"},
        gates={"promotion": {"max-regression": 0.01}},
    )
    ev = gate_evidence(facts, "max_regression")
    assert ev is not None
    assert ev.strength is Strength.PRESENT
    assert "promotion" in ev.text
    assert gate_evidence(facts, "slices") is None
    assert gate_evidence(facts) is not None


def test_dvc_pipeline(tmp_path: Path) -> None:
    facts = _facts(
        tmp_path,
        {
            "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    params:\n    - train.lr\n"
            "    metrics:\n    - m.json:\n        cache: false\n",
            "params.yaml": "train:\n  lr: 0.1\n",
        },
    )
    pipe = dvc_pipeline(facts)
    assert [(s.name, s.cmd, s.metrics) for s in pipe.stages] == [
        ("train", "python train.py", ("m.json",))
    ]
    assert pipe.metrics_files == ("m.json",)
    assert pipe.path == "dvc.yaml"


def test_ci_running_and_test_selection(tmp_path: Path) -> None:
    workflow = (
        "on: pull_request\njobs:\n  train:\n    runs-on: x\n    steps:\n"
        "      - run: python src/train.py --epochs 1\n"
        "      - run: pytest tests/model -k slow\n"
    )
    facts = _facts(
        tmp_path,
        {
            ".github/workflows/ci.yml": workflow,
            "src/train.py": "import torch\n",
            "src/other.py": "import torch\n",
            "tests/model/test_q.py": "def test_q():\n    pass\n",
            "tests/code/test_c.py": "def test_c():\n    pass\n",
        },
    )
    py = facts.python.by_path
    ev = ci_running(facts, [py["src/train.py"]], ("train",))
    assert ev is not None
    assert ev.strength is Strength.ENFORCED
    assert ci_running(facts, [py["src/other.py"]]) is None
    assert ci_runs_tests(facts, [py["tests/model/test_q.py"]]) is not None
    assert ci_runs_tests(facts, [py["tests/code/test_c.py"]]) is None
