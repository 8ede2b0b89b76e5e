"""Python facts: modules and notebooks parsed once, aliases resolved, lines kept."""

from __future__ import annotations

import ast
from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import is_test_path, parse_module
from repo_builder import build_repo, notebook


def test_aliases_and_qualnames() -> None:
    m, err = parse_module(
        "t.py",
        "import numpy as np\nfrom sklearn.model_selection import train_test_split as tts\n"
        "import torch.nn\nnp.random.seed(0)\ntts(X)\ntorch.nn.Linear(1, 2)\nmodel.fit(X)\n",
    )
    assert err is None
    names = [name for _, name in m.calls()]
    assert names == [
        "numpy.random.seed",
        "sklearn.model_selection.train_test_split",
        "torch.nn.Linear",
        "model.fit",
    ]
    assert {"numpy", "sklearn", "sklearn.model_selection", "torch", "torch.nn"} <= m.imports


def test_node_index_is_by_exact_type() -> None:
    m, _ = parse_module("t.py", "a == b\nfor x in y:\n    f(x)\n")
    assert len(m.nodes(ast.Compare)) == 1
    assert len(m.nodes(ast.For)) == 1
    assert len(m.nodes(ast.Call)) == 1


def test_notebook_cells_magics_and_locations() -> None:
    text = notebook(
        "%matplotlib inline\nimport numpy as np", "!pip install x\nx = np.random.rand(3)"
    )
    m, err = parse_module("nb.ipynb", text)
    assert err is None
    assert m.is_notebook
    call = next(c for c, name in m.calls() if name == "numpy.random.rand")
    assert m.where(call.lineno) == "cell 2, line 2"
    assert m.line(call.lineno).strip().startswith("x = np.random.rand")


def test_syntax_errors_and_bad_notebooks_are_problems(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path, {"bad.py": "def (:\n", "nb.ipynb": '{"cells": 3}', "ok.py": "x = 1\n"}
    )
    facts = Facts(root)
    mods = facts.python.by_path
    assert mods["bad.py"].tree is None
    assert mods["ok.py"].tree is not None
    problems = {(p.kind, p.path) for p in facts.problems}
    assert problems == {("syntax", "bad.py"), ("syntax", "nb.ipynb")}


def test_test_paths_follow_pytest_conventions() -> None:
    assert is_test_path("tests/unit/helpers.py")
    assert is_test_path("pkg/test_model.py")
    assert is_test_path("pkg/model_test.py")
    assert not is_test_path("src/contest.py")


def test_src_layout_dotted_names(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"src": {"pkg": {"__init__.py": "", "features.py": "x = 1\n"}}})
    assert sorted(m.dotted for m in Facts(root).python) == ["pkg", "pkg.features"]


def test_a_magic_alone_in_a_block_keeps_the_cell_valid() -> None:
    text = notebook("try:\n    %tensorflow_version 2.x\nexcept Exception:\n    pass\nimport numpy")
    m, err = parse_module("nb.ipynb", text)
    assert err is None
    assert m.tree is not None


def test_relative_imports_are_recorded_with_a_leading_dot() -> None:
    m, _ = parse_module("pkg/a.py", "from . import features, model as m\nfrom .utils import io\n")
    assert {".features", ".model", ".utils"} <= m.imports
    assert "" not in m.imports


def test_imports_in_docstrings_are_not_imports() -> None:
    m, _ = parse_module(
        "rules.py",
        '"""Rule docs.\n\n    import mlflow\n"""\nimport numpy as np\n'
        "def f():\n    '''Example::\n\n        from flaml import AutoML\n    '''\n"
        "    import pandas\n",
    )
    assert {"numpy", "pandas"} <= m.imports
    assert "mlflow" not in m.imports
    assert "flaml" not in m.imports
