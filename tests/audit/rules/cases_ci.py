"""Cases for CI rules: continuous integration exists, runs on pull requests, runs the checks."""

from rulecases import Case

from repo_builder import notebook


def gh(*steps: str, on: str = "[push, pull_request]", name: str = "ci") -> dict[str, object]:
    """A GitHub Actions workflow with one job running ``steps``."""
    body = "".join(f"      - run: {s}\n" for s in steps)
    wf = f"on: {on}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{body}"
    return {".github": {"workflows": {f"{name}.yml": wf}}}


TRAIN = "import torch\nloss = model(x)\nloss.backward()\noptimizer.step()\n"
MODEL = "import torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n"
README = {"README.md": "# project\n"}

CASES = [
    # CI001 -------------------------------------------------------------------------------------
    Case("CI001", "passed", {**README, **gh("python -m pytest")}),
    Case("CI001", "passed", {**README, "appveyor.yml": "build: off\n"}, id="other-system"),
    Case(
        "CI001",
        "passed",
        {"Jenkinsfile": "pipeline { stages { stage('t') { steps { sh 'pytest' } } } }\n"},
        id="jenkins",
    ),
    Case(
        "CI001",
        "passed",
        {
            "pipelines": {
                "fast-test.yml": "trigger: [main]\npool: {vmImage: ubuntu-latest}\n"
                "steps:\n  - script: python -m pytest\n"
            }
        },
        id="azure-elsewhere",
    ),
    Case("CI001", "failed", README, lines=(("README.md", 1),)),
    Case(
        "CI001",
        "failed",
        {**README, ".github": {"workflows": {"ci.yml": "on: push\njobs: {}\n"}}},
        id="no-jobs",
        lines=((".github/workflows/ci.yml", 1),),
    ),
    # CI002 -------------------------------------------------------------------------------------
    Case("CI002", "passed", gh("pip install -e .", "python -m pytest -q")),
    Case(
        "CI002",
        "passed",
        {
            **gh("make check"),
            "Makefile": "check: lint test\n\nlint:\n\truff check .\n\ntest:\n\tpytest tests\n",
        },
        id="make-prerequisites",
    ),
    Case(
        "CI002",
        "passed",
        {
            **gh("tox -e py311"),
            "tox.ini": "[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest {posargs}\n",
        },
        id="tox-base-env",
    ),
    Case(
        "CI002",
        "failed",
        {
            **gh("tox -e lint"),
            "tox.ini": "[testenv]\ncommands = pytest\n\n[testenv:lint]\ncommands = ruff check .\n",
            "tests": {"test_a.py": "def test_a():\n    assert True\n"},
        },
        id="tox-lint-env-is-not-tests",
    ),
    Case(
        "CI002",
        "passed",
        {
            ".github": {
                "workflows": {
                    "ci.yml": "on: pull_request\njobs:\n  tests:\n"
                    "    uses: ./.github/workflows/tests.yml\n",
                    "tests.yml": "on: workflow_call\njobs:\n  t:\n"
                    "    runs-on: ubuntu-latest\n    steps:\n"
                    "      - run: pytest\n",
                }
            }
        },
        id="reusable-workflow",
    ),
    Case(
        "CI002",
        "passed",
        {
            ".gitlab-ci.yml": ".py:\n  image: python:3.11\n  script:\n    - pytest -q\n\n"
            "test:\n  extends: .py\n"
        },
        id="gitlab-extends",
    ),
    Case(
        "CI002",
        "passed",
        {**gh("./scripts/ci.sh"), "scripts": {"ci.sh": "#!/bin/sh\nset -e\npytest\n"}},
        id="shell-script",
    ),
    Case("CI002", "partial", gh("pytest", on="workflow_dispatch"), id="manual-only"),
    Case(
        "CI002",
        "failed",
        {**gh("ruff check ."), "tests": {"test_a.py": "def test_a():\n    assert 1\n"}},
        id="lint-only",
        lines=((".github/workflows/ci.yml", 1),),
    ),
    Case(
        "CI002",
        "failed",
        {**README, "tests": {"test_a.py": "def test_a():\n    pass\n"}},
        id="no-ci",
    ),
    # CI003 -------------------------------------------------------------------------------------
    Case("CI003", "passed", gh("pytest", on="pull_request")),
    Case(
        "CI003",
        "passed",
        {".gitlab-ci.yml": "test:\n  script: [pytest]\n"},
        id="gitlab-branch-pipelines",
    ),
    Case("CI003", "passed", gh("pytest", on="push"), id="push-every-branch"),
    Case(
        "CI003",
        "partial",
        gh("pytest", on="{push: {branches: [main]}}"),
        id="push-main-only",
        lines=((".github/workflows/ci.yml", 1),),
    ),
    Case(
        "CI003",
        "failed",
        gh("pytest", on="workflow_dispatch"),
        id="manual",
        lines=((".github/workflows/ci.yml", 1),),
    ),
    Case("CI003", "failed", gh("pytest", on="{schedule: [{cron: '0 3 * * *'}]}"), id="schedule"),
    Case("CI003", "failed", README, id="no-ci"),
    # CI004 -------------------------------------------------------------------------------------
    Case("CI004", "passed", gh("ruff check .")),
    Case(
        "CI004",
        "passed",
        {
            ".github": {
                "workflows": {
                    "lint.yml": "on: pull_request\njobs:\n  l:\n    steps:\n"
                    "      - uses: pre-commit/action@v3.0.1\n"
                }
            },
            ".pre-commit-config.yaml": "repos:\n"
            "  - repo: https://github.com/PyCQA/flake8\n    rev: 7.1.1\n"
            "    hooks:\n      - id: flake8\n",
        },
        id="pre-commit-action",
    ),
    Case(
        "CI004",
        "passed",
        {
            ".pre-commit-config.yaml": "ci:\n  autofix_prs: false\nrepos:\n"
            "  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
            "    rev: v0.8.0\n    hooks:\n      - id: ruff\n"
        },
        id="pre-commit-ci",
    ),
    Case("CI004", "partial", gh("ruff check .", on="workflow_dispatch"), id="manual"),
    Case(
        "CI004",
        "failed",
        {**gh("pytest"), "pyproject.toml": "[tool.ruff]\nline-length = 100\n"},
        id="configured-not-run",
        lines=((".github/workflows/ci.yml", 1),),
    ),
    # CI005 -------------------------------------------------------------------------------------
    Case("CI005", "passed", {**gh("mypy src"), "src": {"m.py": "x = 1\n"}}),
    Case(
        "CI005",
        "passed",
        {
            **gh("pre-commit run --all-files"),
            "m.py": "x = 1\n",
            ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/mirrors-mypy\n"
            "    rev: v1.13.0\n    hooks:\n      - id: mypy\n",
        },
        id="via-pre-commit",
    ),
    Case("CI005", "failed", {**gh("pytest"), "m.py": "x = 1\n"}),
    Case(
        "CI005",
        "not_applicable",
        {**gh("pytest"), "nb.ipynb": notebook("x = 1")},
        id="notebooks-only",
    ),
    # CI006 -------------------------------------------------------------------------------------
    Case("CI006", "passed", gh("pip-audit", "bandit -r src")),
    Case(
        "CI006",
        "passed",
        {
            ".github": {
                "workflows": {
                    "codeql.yml": "on: [push, pull_request]\njobs:\n  a:\n    steps:\n"
                    "      - uses: github/codeql-action/init@v3\n"
                }
            }
        },
        id="codeql",
    ),
    Case(
        "CI006",
        "passed",
        {**gh("ruff check ."), "pyproject.toml": "[tool.ruff.lint]\nextend-select = ['S']\n"},
        id="ruff-S-rules",
    ),
    Case(
        "CI006",
        "passed",
        {".gitlab-ci.yml": "include:\n  - template: Jobs/SAST.gitlab-ci.yml\n"},
        id="gitlab-sast",
    ),
    Case(
        "CI006",
        "partial",
        {**gh("pytest"), ".github/dependabot.yml": "version: 2\n"},
        id="dependabot-only",
    ),
    Case(
        "CI006",
        "failed",
        {**gh("pytest"), "pyproject.toml": "[tool.ruff.lint]\nselect = ['E', 'F']\n"},
        id="ruff-without-S",
    ),
    # CI007 -------------------------------------------------------------------------------------
    Case("CI007", "passed", {**gh("python train.py --epochs 1 --sample 100"), "train.py": TRAIN}),
    Case(
        "CI007",
        "passed",
        {**gh("dvc repro"), "dvc.yaml": "stages: {}\n", "train.py": TRAIN},
        id="dvc-repro",
    ),
    Case(
        "CI007",
        "passed",
        {
            **gh("pytest"),
            "pipeline.py": "import sklearn\n\ndef train(df):\n    return m.fit(df)\n",
            "tests": {
                "test_e2e.py": "from pipeline import train, predict\n\n"
                "def test_end_to_end():\n    model = train(DF)\n"
                "    assert predict(model, DF) is not None\n"
            },
        },
        id="e2e-test-in-ci",
    ),
    Case(
        "CI007",
        "partial",
        {**gh("python train.py", on="workflow_dispatch"), "train.py": TRAIN},
        id="manual",
    ),
    Case(
        "CI007",
        "failed",
        {**gh("pytest tests/unit"), "train.py": TRAIN, "model.py": MODEL},
        lines=(("train.py", 1),),
    ),
    Case(
        "CI007",
        "not_applicable",
        {**gh("pytest"), "nb.ipynb": notebook("import torch", "loss.backward()")},
        id="notebooks-only",
    ),
    Case("CI007", "not_applicable", {**gh("pytest"), "app.py": "import flask\n"}, id="no-ml"),
    # CI008 -------------------------------------------------------------------------------------
    Case(
        "CI008",
        "passed",
        {**gh("python train.py", "python evaluate.py --min-auc 0.8"), "train.py": TRAIN},
    ),
    Case(
        "CI008",
        "passed",
        {
            **gh("pytest"),
            "model.py": MODEL,
            "tests": {
                "test_quality.py": "import torch\nfrom model import Net\n\n"
                "def test_accuracy_floor():\n    accuracy = score(Net())\n"
                "    assert accuracy >= 0.9\n"
            },
        },
        id="metric-floor-test-in-ci",
    ),
    Case("CI008", "failed", {**gh("ruff check ."), "train.py": TRAIN}),
    Case("CI008", "not_applicable", {**gh("pytest"), "app.py": "x = 1\n"}, id="no-ml"),
    # CI009 -------------------------------------------------------------------------------------
    Case(
        "CI009",
        "passed",
        {
            **gh("python train.py", on="{schedule: [{cron: '0 3 * * 1'}]}", name="retrain"),
            "train.py": TRAIN,
        },
    ),
    Case(
        "CI009",
        "passed",
        {
            "train.py": TRAIN,
            "k8s": {
                "retrain.yaml": "kind: CronJob\nspec:\n  schedule: '@weekly'\n"
                "  command: [python, train.py]\n"
            },
        },
        id="k8s-cronjob",
    ),
    Case(
        "CI009",
        "failed",
        {
            **gh("python train.py --epochs 1", on="{push: {}, schedule: [{cron: '0 0 * * *'}]}"),
            "train.py": TRAIN,
        },
        id="nightly-ci-is-not-retraining",
    ),
    Case(
        "CI009",
        "not_applicable",
        {**gh("python train.py"), "train.py": TRAIN},
        id="not-deployed",
        context={"deployed": False},
    ),
    Case("CI009", "not_applicable", {**gh("pytest"), "app.py": "x = 1\n"}, id="no-training"),
    # CI010 -------------------------------------------------------------------------------------
    Case("CI010", "passed", gh("pip install mlsteward", "steward audit --fail-under 60")),
    Case(
        "CI010",
        "partial",
        {
            **gh("pytest"),
            ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n"
            "      - id: steward-audit\n"
            "        name: steward\n        entry: steward audit\n        language: system\n",
        },
        id="local-hook-only",
    ),
    Case("CI010", "failed", gh("pytest")),
]
