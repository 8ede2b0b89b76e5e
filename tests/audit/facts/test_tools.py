"""Tool facts (facts/tools.py): where tools are configured, pre-commit, tasks, what CI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.tools import ToolFacts, tools_in
from mlsteward.audit.rule import Strength
from repo_builder import build_repo


def tools(tmp_path: Path, files: dict[str, object]) -> ToolFacts:
    return Facts(build_repo(tmp_path, files)).tools  # type: ignore[arg-type]


def workflow(*steps: str, on: str = "pull_request", name: str = "ci.yml") -> dict[str, object]:
    body = "".join(f"      - run: {s}\n" for s in steps)
    text = f"on: {on}\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n{body}"
    return {".github": {"workflows": {name: text}}}


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


# -- tasks ---------------------------------------------------------------------------------------


def test_makefile_targets_prerequisites_and_continuations(tmp_path: Path) -> None:
    text = (
        "PY := python\n.PHONY: check lint test\n\ncheck: lint test ## everything\n\n"
        "lint:\n\t@ruff check . \\\n\t  --fix\n\t-mypy src\n\ntest:\n\t$(PY) -m pytest -q\n"
    )
    facts = tools(tmp_path, {"Makefile": text})
    tasks = {t.name: t for t in facts.tasks}
    assert set(tasks) == {"check", "lint", "test"}
    assert tasks["check"].deps == ("lint", "test")
    assert [c.text for c in tasks["lint"].commands] == ["ruff check .  --fix", "mypy src"]
    assert tasks["test"].commands[0].line == 12
    assert facts.configured("ruff") == "Makefile"
    assert facts.configured("pytest") == "Makefile"


def test_other_task_runners(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            "justfile": "test *args:\n    pytest {{args}}\n",
            "tox.ini": "[tox]\nenvlist = py311, lint\n\n[testenv]\ncommands = pytest\n\n"
            "[testenv:lint]\ncommands =\n    ruff check .\n    mypy src\n",
            "noxfile.py": "import nox\n\n@nox.session(name='types')\ndef typing(session):\n"
            "    session.install('mypy')\n    session.run('mypy', 'src')\n",
            "pyproject.toml": "[tool.hatch.envs.default.scripts]\ncov = 'pytest --cov'\n"
            "[tool.poe.tasks]\nfmt = {cmd = 'black .'}\n",
        },
    )
    runners = {(t.runner, t.name): [c.text for c in t.commands] for t in facts.tasks}
    assert runners[("just", "test")] == ["pytest {{args}}"]
    assert runners[("tox", "lint")] == ["ruff check .", "mypy src"]
    assert runners[("nox", "types")] == ["mypy src"]
    assert runners[("hatch", "cov")] == ["pytest --cov"]
    assert runners[("poe", "fmt")] == ["black ."]


# -- what CI runs ----------------------------------------------------------------------------------


def kinds(facts: ToolFacts) -> set[str]:
    return {r.kind for r in facts.runs}


def test_ci_follows_make_targets_and_their_prerequisites(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            **workflow("make check"),
            "Makefile": "check: lint test\nlint:\n\truff check .\ntest:\n\tpytest\n",
        },
    )
    assert {"lint", "test"} <= kinds(facts)
    run = facts.ci("lint")
    assert run is not None
    assert run.via == "make check"
    assert run.strength is Strength.ENFORCED
    assert "via make check" in run.evidence().text


def test_ci_tox_env_runs_what_the_env_says(tmp_path: Path) -> None:
    tox = "[testenv]\ncommands = pytest\n[testenv:lint]\ncommands = ruff check .\n"
    assert kinds(tools(tmp_path / "a", {**workflow("tox -e lint"), "tox.ini": tox})) == {"lint"}
    assert kinds(tools(tmp_path / "b", {**workflow("tox -e py311"), "tox.ini": tox})) == {"test"}
    assert kinds(tools(tmp_path / "c", {**workflow("tox"), "tox.ini": tox})) == {"test", "lint"}
    # without a tox.ini to look into, `tox` is taken to run tests
    assert kinds(tools(tmp_path / "d", workflow("tox -e py311"))) == {"test"}


def test_ci_runs_pre_commit_hooks(tmp_path: Path) -> None:
    config = {".pre-commit-config.yaml": PRECOMMIT}
    every = tools(tmp_path / "a", {**workflow("pre-commit run --all-files"), **config})
    assert {"lint", "format", "typecheck", "security"} <= kinds(every)
    local = {".pre-commit-config.yaml": PRECOMMIT.partition("repos:\n")[2].join(["repos:\n", ""])}
    one = tools(tmp_path / "b", {**workflow("pre-commit run types --all-files"), **local})
    assert kinds(one) == {"lint", "typecheck"}  # ci.py counts `pre-commit run` as lint itself


def test_pre_commit_ci_counts_as_automated(tmp_path: Path) -> None:
    facts = tools(tmp_path, {".pre-commit-config.yaml": PRECOMMIT})
    run = facts.ci("lint")
    assert run is not None
    assert run.provider == "pre-commit.ci"
    assert run.strength is Strength.AUTOMATED
    assert facts.precommit_ci_skip == ("mypy",)
    # the local `types` hook runs mypy, and is not skipped by name
    assert facts.ci("typecheck") is not None


def test_reusable_workflow_takes_the_callers_trigger(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            ".github": {
                "workflows": {
                    "ci.yml": "on: pull_request\njobs:\n  t:\n"
                    "    uses: ./.github/workflows/test.yml\n",
                    "test.yml": "on: workflow_call\njobs:\n  run:\n"
                    "    steps:\n      - run: pytest\n",
                }
            }
        },
    )
    run = facts.ci("test")
    assert run is not None
    assert run.strength is Strength.ENFORCED
    assert "pull_request" in run.triggers


def test_composite_action_and_shell_scripts(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            ".github": {
                "actions": {
                    "lint": {
                        "action.yml": "runs:\n  using: composite\n  steps:\n"
                        "    - run: flake8 .\n      shell: bash\n"
                    }
                },
                "workflows": {
                    "ci.yml": "on: push\njobs:\n  a:\n    steps:\n"
                    "      - uses: ./.github/actions/lint\n      - run: bash scripts/test.sh\n"
                },
            },
            "scripts": {"test.sh": "#!/bin/bash\nset -e\npython -m pytest tests\n"},
        },
    )
    lint, test = facts.ci("lint"), facts.ci("test")
    assert lint is not None
    assert lint.via == "./.github/actions/lint"
    assert test is not None
    assert test.via == "script scripts/test.sh"
    assert test.text.startswith("#!/bin/bash")


def test_comment_lines_do_not_count_and_evidence_shows_the_command(tmp_path: Path) -> None:
    text = (
        "on: push\njobs:\n  a:\n    steps:\n      - run: |\n          # look for drift later\n"
        "          pip install -e .\n          python -m pytest -q\n"
    )
    facts = tools(tmp_path, {".github": {"workflows": {"ci.yml": text}}})
    assert kinds(facts) == {"test"}
    ev = facts.ci_evidence("test")
    assert ev is not None
    assert "`python -m pytest -q`" in ev.text
    assert ev.line == 8


def test_ci_only_tools_count_as_configured_by_ci(tmp_path: Path) -> None:
    facts = tools(tmp_path, workflow("black --check .", "bandit -r src"))
    use = facts.use("black")
    assert use is not None
    assert use.via == "ci"
    assert use.path == ".github/workflows/ci.yml"
    assert facts.configured("bandit") == ".github/workflows/ci.yml"


def test_ruff_with_security_rules_in_ci_is_a_security_scan(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {**workflow("ruff check ."), "pyproject.toml": "[tool.ruff.lint]\nextend-select = ['S']\n"},
    )
    assert {"lint", "security"} <= kinds(facts)


def test_workarounds_until_ci_py_reads_them(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {
            "pipelines": {
                "fast.yml": "trigger: [main]\npool: {vmImage: ubuntu-latest}\n"
                "steps:\n  - script: python -m pytest\n",
                "templates": {"t.yml": "steps:\n  - script: mypy\n"},
            },
            ".gitlab-ci.yml": "include:\n  - template: Security/SAST.gitlab-ci.yml\n"
            ".lint:\n  script: [ruff check .]\nlint:\n  extends: .lint\n",
        },
    )
    assert facts.extra_ci_files == ["pipelines/fast.yml"]  # the template is not a pipeline
    assert {"test", "lint", "security"} <= kinds(facts)
    assert facts.ci_strength("security") is Strength.ENFORCED


def test_tools_in() -> None:
    assert tools_in("uv run ruff check . && uv run ruff format --check") == ["ruff", "ruff-format"]
    assert tools_in("python -m mypy --strict src; basedpyright") == ["mypy", "pyright"]
    assert sorted(tools_in("safety check && pip-audit")) == ["pip-audit", "safety"]
    assert tools_in("echo black-box testing is fun") == ["black"]  # names, not meaning
    assert tools_in("steward audit") == ["steward"]
