"""Tool facts (facts/tools.py): where tools are configured, pre-commit hooks, pytest config."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.tools import ToolFacts, tools_in
from mlsteward.audit.rule import Strength
from repo_builder import build_repo


def tools(tmp_path: Path, files: dict[str, object]) -> ToolFacts:
    return Facts(build_repo(tmp_path, files)).tools  # type: ignore[arg-type]


# -- config files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "tool", "path"),
    [
        ({"ruff.toml": "line-length = 100\n"}, "ruff", "ruff.toml"),
        ({".ruff.toml": "line-length = 100\n"}, "ruff", ".ruff.toml"),
        ({"pyproject.toml": "[tool.ruff.lint]\nselect = ['E']\n"}, "ruff", "pyproject.toml"),
        ({".flake8": "[flake8]\nmax-line-length = 100\n"}, "flake8", ".flake8"),
        ({"setup.cfg": "[flake8]\nmax-line-length = 100\n"}, "flake8", "setup.cfg"),
        ({"tox.ini": "[flake8]\nignore = E501\n"}, "flake8", "tox.ini"),
        ({".pylintrc": "[MASTER]\njobs = 0\n"}, "pylint", ".pylintrc"),
        ({"pylintrc": "[MASTER]\n"}, "pylint", "pylintrc"),
        (
            {"pyproject.toml": "[tool.pylint.'messages control']\ndisable = ['C']\n"},
            "pylint",
            "pyproject.toml",
        ),
        ({"setup.cfg": "[pylint.MASTER]\njobs = 0\n"}, "pylint", "setup.cfg"),
        ({"mypy.ini": "[mypy]\n"}, "mypy", "mypy.ini"),
        ({".mypy.ini": "[mypy]\n"}, "mypy", ".mypy.ini"),
        ({"setup.cfg": "[mypy]\nstrict = True\n"}, "mypy", "setup.cfg"),
        ({"setup.cfg": "[mypy-numpy.*]\nignore_missing_imports = True\n"}, "mypy", "setup.cfg"),
        ({"pyproject.toml": "[tool.mypy]\nfiles = ['src']\n"}, "mypy", "pyproject.toml"),
        ({"pyrightconfig.json": "{}"}, "pyright", "pyrightconfig.json"),
        ({"pyproject.toml": "[tool.pyright]\n"}, "pyright", "pyproject.toml"),
        ({"pyproject.toml": "[tool.black]\nline-length = 100\n"}, "black", "pyproject.toml"),
        ({".isort.cfg": "[settings]\nprofile = black\n"}, "isort", ".isort.cfg"),
        ({"pyproject.toml": "[tool.isort]\nprofile = 'black'\n"}, "isort", "pyproject.toml"),
        ({"setup.cfg": "[isort]\nprofile = black\n"}, "isort", "setup.cfg"),
        ({".bandit": "[bandit]\nexclude = tests\n"}, "bandit", ".bandit"),
        ({"pyproject.toml": "[tool.bandit]\nskips = ['B101']\n"}, "bandit", "pyproject.toml"),
        ({"pytest.ini": "[pytest]\n"}, "pytest", "pytest.ini"),
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "pytest", "pyproject.toml"),
        ({"setup.cfg": "[tool:pytest]\ntestpaths = tests\n"}, "pytest", "setup.cfg"),
        ({"tox.ini": "[pytest]\ntestpaths = tests\n"}, "pytest", "tox.ini"),
        ({".coveragerc": "[run]\nbranch = True\n"}, "coverage", ".coveragerc"),
        ({"pyproject.toml": "[tool.coverage.run]\nbranch = true\n"}, "coverage", "pyproject.toml"),
        ({"setup.cfg": "[coverage:run]\nbranch = True\n"}, "coverage", "setup.cfg"),
        ({"tox.ini": "[tox]\nenvlist = py311\n"}, "tox", "tox.ini"),
        ({"noxfile.py": "import nox\n"}, "nox", "noxfile.py"),
    ],
)
def test_configured_wherever_the_config_lives(
    tmp_path: Path, files: dict[str, object], tool: str, path: str
) -> None:
    assert tools(tmp_path, files).configured(tool) == path


def test_not_configured(tmp_path: Path) -> None:
    facts = tools(tmp_path, {"setup.cfg": "[pytest]\ntestpaths = x\n[metadata]\nname = x\n"})
    # [pytest] configures pytest only in pytest.ini and tox.ini
    assert facts.configured("pytest") is None
    assert facts.pytest is None
    assert facts.configured("ruff") is None
    assert facts.use("mypy", "pyright") is None


def test_configs_of_fixtures_and_vendored_code_do_not_count(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            "tests": {"fixtures": {"pyproject.toml": "[tool.mypy]\n"}},
            "third_party": {"lib": {".flake8": "[flake8]\n"}},
        },
    )
    assert facts.configured("mypy") is None
    assert facts.configured("flake8") is None


def test_root_config_wins_and_lines_point_at_the_section(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\n\n[tool.mypy]\nstrict = true\n",
            "sub": {"pyproject.toml": "[tool.mypy]\n"},
        },
    )
    use = facts.use("mypy")
    assert use is not None
    assert (use.path, use.line, use.via) == ("pyproject.toml", 4, "config")
    assert facts.strict_typing == "pyproject.toml"
    ev = use.evidence()
    assert ev.strength is Strength.PRESENT
    assert "[tool.mypy]" in ev.text


def test_pytest_config(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests', 'it']\n"
            "python_files = ['check_*.py']\naddopts = '-ra --doctest-modules'\n",
        },
    )
    cfg = facts.pytest
    assert cfg is not None
    assert (cfg.path, cfg.line, cfg.testpaths, cfg.python_files) == (
        "pyproject.toml",
        1,
        ("tests", "it"),
        ("check_*.py",),
    )
    assert "--doctest-modules" in cfg.addopts


def test_pytest_ini_options_from_ini_files(tmp_path: Path) -> None:
    cfg = tools(
        tmp_path, {"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\ntestpaths =\n  tests\n"}
    ).pytest
    assert cfg is not None
    assert cfg.line == 4
    assert cfg.testpaths == ("tests",)


@pytest.mark.parametrize(
    ("files", "security"),
    [
        ({"pyproject.toml": "[tool.ruff]\nselect = ['E', 'S']\n"}, True),
        ({"pyproject.toml": "[tool.ruff.lint]\nextend-select = ['S101']\n"}, True),
        ({"ruff.toml": "[lint]\nselect = ['ALL']\n"}, True),
        ({"ruff.toml": "[lint]\nselect = ['ALL']\nignore = ['S']\n"}, False),
        ({"pyproject.toml": "[tool.ruff.lint]\nselect = ['E', 'SIM']\n"}, False),
        ({"pyproject.toml": "[tool.ruff]\nline-length = 88\n"}, False),
        (
            {
                ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
                "    rev: v0.8.0\n    hooks:\n      - id: ruff\n"
                "        args: [--extend-select=S]\n"
            },
            True,
        ),
    ],
)
def test_ruff_security_rules(tmp_path: Path, files: dict[str, object], security: bool) -> None:
    assert tools(tmp_path, files).ruff_security is security


def test_strict_typing_from_pyright_and_hooks(tmp_path: Path) -> None:
    assert tools(
        tmp_path / "a", {"pyrightconfig.json": '{"typeCheckingMode": "strict"}'}
    ).strict_typing
    hook = (
        "repos:\n  - repo: https://github.com/pre-commit/mirrors-mypy\n    rev: v1.13.0\n"
        "    hooks:\n      - id: mypy\n        args: [--strict]\n"
    )
    assert (
        tools(tmp_path / "b", {".pre-commit-config.yaml": hook}).strict_typing
        == ".pre-commit-config.yaml"
    )
    assert (
        tools(tmp_path / "c", {"mypy.ini": "[mypy]\nwarn_unused_ignores = True\n"}).strict_typing
        is None
    )


def test_dependencies_are_declared_not_configured(tmp_path: Path) -> None:
    facts = tools(tmp_path, {"requirements-dev.txt": "pytest\nmypy==1.13\nflake8-bandit\n"})
    assert facts.configured("mypy") is None
    assert facts.declared("mypy") == "requirements-dev.txt"
    use = facts.use("mypy", declared=True)
    assert use is not None
    assert use.via == "dependency"
    assert use.line == 2
    assert facts.flake8_bandit


def test_broken_ini_is_a_problem(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"setup.cfg": "[flake8\nmax = 1\n"})
    facts = Facts(root)
    assert facts.tools.configured("flake8") is None
    assert [(p.kind, p.path) for p in facts.problems] == [("config", "setup.cfg")]


# -- pre-commit ----------------------------------------------------------------------------------


PRECOMMIT = """\
ci:
  skip: [mypy]
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.8.0
    hooks:
      - id: ruff
      - id: ruff-format
  - repo: https://github.com/psf/black
    rev: stable
    hooks:
      - id: black-jupyter
  - repo: https://github.com/PyCQA/flake8
    rev: 7.1.1
    hooks:
      - id: flake8
        additional_dependencies: [flake8-bandit==4.1.1]
  - repo: local
    hooks:
      - id: types
        name: types
        entry: uv run mypy src
        language: system
"""


def test_precommit_hooks_revs_and_tools(tmp_path: Path) -> None:
    facts = tools(tmp_path, {".pre-commit-config.yaml": PRECOMMIT})
    assert facts.precommit_path == ".pre-commit-config.yaml"
    assert facts.precommit_ci
    assert facts.precommit_hooks == ["ruff", "ruff-format", "black-jupyter", "flake8", "types"]
    by_id = {h.id: h for h in facts.hooks}
    assert by_id["ruff"].pinned
    assert by_id["ruff"].rev_line == 5
    assert by_id["ruff"].line == 7
    assert not by_id["black-jupyter"].pinned
    assert by_id["black-jupyter"].rev_line == 10
    assert by_id["types"].pinned
    assert not by_id["types"].remote
    assert by_id["ruff-format"].tools == {"ruff-format"}
    assert by_id["black-jupyter"].tools == {"black"}
    assert by_id["flake8"].tools == {"flake8", "bandit"}
    assert by_id["types"].tools == {"mypy"}
    assert facts.flake8_bandit
    assert facts.configured("mypy") == ".pre-commit-config.yaml"
    use = facts.use("black")
    assert use is not None
    assert use.via == "pre-commit"
    assert use.line == 12


def test_tools_in() -> None:
    assert tools_in("uv run ruff check . && uv run ruff format --check") == ["ruff", "ruff-format"]
    assert tools_in("python -m mypy --strict src; basedpyright") == ["mypy", "pyright"]
    assert sorted(tools_in("safety check && pip-audit")) == ["pip-audit", "safety"]
    assert tools_in("echo black-box testing is fun") == ["black"]  # names, not meaning
    assert tools_in("steward audit") == ["steward"]
