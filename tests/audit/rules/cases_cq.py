"""Cases for CQ rules: linters, type checkers, formatters, pre-commit, notebooks."""

import json

from rulecases import Case

from repo_builder import notebook


def ran(*cells: tuple[str, int | None], output: str = "") -> str:
    """A notebook whose code cells ran with these execution counts (and an optional output)."""
    outputs = [{"output_type": "stream", "name": "stdout", "text": output}] if output else []
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "execution_count": n,
                    "outputs": outputs,
                    "source": src,
                }
                for src, n in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


PY = {"m.py": "x = 1\n"}
HOOK = "  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: {id}\n"


def precommit(*hooks: tuple[str, str, str], ci: bool = False) -> dict[str, str]:
    body = "".join(HOOK.format(repo=r, rev=v, id=i) for r, v, i in hooks)
    return {
        ".pre-commit-config.yaml": ("ci:\n  autoupdate_schedule: monthly\n" if ci else "")
        + "repos:\n"
        + body
    }


RUFF_HOOK = ("https://github.com/astral-sh/ruff-pre-commit", "v0.8.0", "ruff")

CASES = [
    # CQ001 -------------------------------------------------------------------------------------
    Case("CQ001", "passed", {**PY, "pyproject.toml": "[tool.ruff]\nline-length = 100\n"}),
    Case(
        "CQ001", "passed", {**PY, ".flake8": "[flake8]\nmax-line-length = 100\n"}, id="flake8-file"
    ),
    Case(
        "CQ001", "passed", {**PY, "setup.cfg": "[flake8]\nmax-line-length = 100\n"}, id="setup-cfg"
    ),
    Case("CQ001", "passed", {**PY, "tox.ini": "[flake8]\nignore = E501\n"}, id="tox-ini"),
    Case("CQ001", "passed", {**PY, ".pylintrc": "[MASTER]\n"}, id="pylintrc"),
    Case("CQ001", "passed", {**PY, **precommit(RUFF_HOOK)}, id="pre-commit-only"),
    Case("CQ001", "passed", {**PY, "Makefile": "lint:\n\truff check src\n"}, id="make-target"),
    Case(
        "CQ001",
        "passed",
        {
            **PY,
            ".github": {
                "workflows": {
                    "ci.yml": "on: push\njobs:\n  l:\n    steps:\n      - run: flake8 .\n"
                }
            },
        },
        id="ci-defaults",
    ),
    Case(
        "CQ001",
        "partial",
        {**PY, "requirements-dev.txt": "flake8==7.1\n"},
        id="dependency-only",
        lines=(("requirements-dev.txt", 1),),
    ),
    Case(
        "CQ001",
        "failed",
        {**PY, "pyproject.toml": "[project]\nname = 'x'\n"},
        lines=(("pyproject.toml", 1),),
    ),
    Case(
        "CQ001",
        "failed",
        {**PY, "tests": {"fixtures": {"proj": {"ruff.toml": "line-length = 9\n"}}}},
        id="fixture-config-is-not-ours",
    ),
    Case("CQ001", "not_applicable", {"README.md": "# x\n"}, id="no-python"),
    # CQ002 -------------------------------------------------------------------------------------
    Case("CQ002", "passed", {**PY, "mypy.ini": "[mypy]\nstrict = True\n"}),
    Case(
        "CQ002",
        "passed",
        {**PY, "setup.cfg": "[mypy]\nignore_missing_imports = True\n"},
        id="setup-cfg",
    ),
    Case(
        "CQ002",
        "passed",
        {**PY, "pyrightconfig.json": '{"typeCheckingMode": "strict"}'},
        id="pyright",
    ),
    Case(
        "CQ002",
        "passed",
        {**PY, **precommit(("https://github.com/pre-commit/mirrors-mypy", "v1.13.0", "mypy"))},
        id="pre-commit",
    ),
    Case(
        "CQ002",
        "partial",
        {**PY, "pyproject.toml": "[dependency-groups]\ndev = ['mypy>=1.13']\n"},
        id="dependency-only",
    ),
    Case("CQ002", "failed", {**PY, "pyproject.toml": "[tool.ruff]\n"}),
    Case("CQ002", "not_applicable", {"nb.ipynb": notebook("x = 1")}, id="notebooks-only"),
    # CQ003 -------------------------------------------------------------------------------------
    Case("CQ003", "passed", {**PY, **precommit(RUFF_HOOK)}),
    Case(
        "CQ003",
        "passed",
        {
            **PY,
            ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: mypy\n"
            "        name: mypy\n        entry: mypy\n        language: system\n",
        },
        id="local-hooks-only",
    ),
    Case(
        "CQ003",
        "passed",
        {
            **PY,
            **precommit(
                (
                    "https://github.com/psf/black",
                    "8a737e727ac5ab2f1d4cf5876720ed276dc8dc4b",
                    "black",
                )
            ),
        },
        id="commit-sha",
    ),
    Case(
        "CQ003",
        "partial",
        {**PY, **precommit(RUFF_HOOK, ("https://github.com/psf/black", "stable", "black"))},
        id="one-moving",
        lines=((".pre-commit-config.yaml", 7),),
    ),
    Case(
        "CQ003",
        "failed",
        {**PY, **precommit(("https://github.com/psf/black", "main", "black"))},
        id="branch",
        lines=((".pre-commit-config.yaml", 3),),
    ),
    Case(
        "CQ003",
        "failed",
        {**PY, "pyproject.toml": "[project]\nname = 'x'\n"},
        id="missing",
        lines=(("pyproject.toml", 1),),
    ),
    # CQ004 -------------------------------------------------------------------------------------
    Case("CQ004", "passed", {**PY, "pyproject.toml": "[tool.black]\nline-length = 100\n"}),
    Case(
        "CQ004",
        "passed",
        {
            **PY,
            **precommit(("https://github.com/astral-sh/ruff-pre-commit", "v0.8.0", "ruff-format")),
        },
        id="ruff-format-hook",
    ),
    Case(
        "CQ004",
        "passed",
        {**PY, "pyproject.toml": "[tool.ruff.format]\nquote-style = 'double'\n"},
        id="ruff-format-table",
    ),
    Case(
        "CQ004",
        "failed",
        {**PY, "pyproject.toml": "[tool.ruff]\nline-length = 100\n"},
        id="ruff-lint-only",
    ),
    # CQ005 -------------------------------------------------------------------------------------
    Case("CQ005", "passed", {**PY, "pyproject.toml": "[tool.ruff.lint]\nextend-select = ['S']\n"}),
    Case("CQ005", "passed", {**PY, "ruff.toml": "[lint]\nselect = ['ALL']\n"}, id="ruff-all"),
    Case(
        "CQ005",
        "passed",
        {**PY, **precommit(("https://github.com/PyCQA/bandit", "1.7.10", "bandit"))},
        id="bandit-hook",
    ),
    Case(
        "CQ005",
        "passed",
        {
            **PY,
            ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/PyCQA/flake8\n"
            "    rev: 7.1.1\n    hooks:\n      - id: flake8\n"
            "        additional_dependencies: [flake8-bandit]\n",
        },
        id="flake8-bandit",
    ),
    Case("CQ005", "passed", {**PY, ".bandit": "[bandit]\nexclude = tests\n"}, id="bandit-file"),
    Case("CQ005", "partial", {**PY, "requirements-dev.txt": "bandit\n"}, id="dependency-only"),
    Case(
        "CQ005",
        "failed",
        {**PY, "pyproject.toml": "[tool.ruff.lint]\nselect = ['E', 'F']\n"},
        lines=(("pyproject.toml", 1),),
    ),
    Case(
        "CQ005",
        "failed",
        {**PY, "pyproject.toml": "[tool.ruff.lint]\nselect = ['ALL']\nignore = ['S']\n"},
        id="all-but-S",
    ),
    # CQ006 -------------------------------------------------------------------------------------
    Case(
        "CQ006",
        "passed",
        {
            "src": {"proj": {"__init__.py": "", "clean.py": "def clean(df):\n    return df\n"}},
            "nb.ipynb": notebook("from proj.clean import clean", "df = clean(df)"),
        },
    ),
    Case(
        "CQ006",
        "passed",
        {"nb.ipynb": notebook("def a():\n    pass", "def b():\n    pass")},
        id="two-helpers",
    ),
    Case(
        "CQ006",
        "failed",
        {
            "nb.ipynb": notebook(
                "import pandas as pd",
                "def load():\n    pass\n\ndef clean(df):\n    pass",
                "class Model:\n    pass",
            )
        },
        lines=(("nb.ipynb", 3),),
    ),
    Case(
        "CQ006",
        "failed",
        {
            "src": {"features.py": "def add_lag_features(df):\n    return df\n"},
            "nb.ipynb": notebook("import pandas", "def add_lag_features(df):\n    return df"),
        },
        id="redefines-module-function",
        lines=(("nb.ipynb", 3),),
    ),
    Case("CQ006", "not_applicable", PY, id="no-notebooks"),
    # CQ007 -------------------------------------------------------------------------------------
    Case("CQ007", "passed", {"nb.ipynb": ran(("a = 1", 1), ("b = 2", 2), ("c = 3", None))}),
    Case("CQ007", "passed", {"nb.ipynb": notebook("a = 1", "b = 2")}, id="never-run"),
    Case(
        "CQ007",
        "failed",
        {"nb.ipynb": ran(("a = 1", 3), ("b = 2", 1), ("c = 3", 2))},
        lines=(("nb.ipynb", 3),),
    ),
    Case(
        "CQ007",
        "failed",
        {"nb.ipynb": ran(("a = 1", 1), output="x" * 1_100_000)},
        id="large-outputs",
        lines=(("nb.ipynb", 1),),
    ),
    Case("CQ007", "not_applicable", PY, id="no-notebooks"),
]
