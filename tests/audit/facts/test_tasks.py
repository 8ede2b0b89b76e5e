"""Task facts (facts/tasks.py): task runners' recipes, and what CI really runs through them."""

from __future__ import annotations

from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.tools import ToolFacts
from mlsteward.audit.rule import Strength
from repo_builder import build_repo


def tools(tmp_path: Path, files: dict[str, object]) -> ToolFacts:
    return Facts(build_repo(tmp_path, files)).tools  # type: ignore[arg-type]


def workflow(*steps: str, on: str = "pull_request", name: str = "ci.yml") -> dict[str, object]:
    body = "".join(f"      - run: {s}\n" for s in steps)
    text = f"on: {on}\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n{body}"
    return {".github": {"workflows": {name: text}}}


#: hooks for every kind of check; pre-commit.ci runs them all but mypy
PRECOMMIT = """\
ci: {skip: [mypy]}
repos:
  - {repo: https://github.com/astral-sh/ruff-pre-commit, rev: v0.8.0, hooks: [{id: ruff}]}
  - {repo: https://github.com/psf/black, rev: 24.1.0, hooks: [{id: black}]}
  - repo: https://github.com/PyCQA/flake8
    rev: 7.1.1
    hooks: [{id: flake8, additional_dependencies: [flake8-bandit]}]
  - repo: local
    hooks: [{id: types, name: types, entry: uv run mypy src, language: system}]
"""


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
    local = {".pre-commit-config.yaml": "repos:\n" + PRECOMMIT.partition("repos:\n")[2]}
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


def test_ruff_with_security_rules_in_ci_is_a_security_scan(tmp_path: Path) -> None:
    facts = tools(
        tmp_path,
        {**workflow("ruff check ."), "pyproject.toml": "[tool.ruff.lint]\nextend-select = ['S']\n"},
    )
    assert {"lint", "security"} <= kinds(facts)


def test_ci_runs_cover_azure_anywhere_and_gitlab_templates(tmp_path: Path) -> None:
    root = build_repo(
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
    facts = Facts(root)
    assert facts.ci.files == [".gitlab-ci.yml", "pipelines/fast.yml"]  # t.yml: no pipeline
    assert {"test", "lint", "security"} <= kinds(facts.tools)
    # GitLab's scanners may fail without failing the pipeline (allow_failure: true)
    assert facts.tools.ci_strength("security") is Strength.AUTOMATED


def test_ci_only_tools_count_as_configured_by_ci(tmp_path: Path) -> None:
    facts = tools(tmp_path, workflow("black --check .", "bandit -r src"))
    use = facts.use("black")
    assert use is not None
    assert use.via == "ci"
    assert use.path == ".github/workflows/ci.yml"
    assert facts.configured("bandit") == ".github/workflows/ci.yml"
