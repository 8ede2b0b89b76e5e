"""CI facts (facts/ci.py): every provider's jobs, triggers, commands, kinds and strength.

Tests marked ``xfail(strict=True)`` pin known gaps of the parser, reported to its owner;
each passes (and so fails the suite, to be unmarked) once the parser is fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.ci import CIFacts, Job, classify
from mlsteward.audit.rule import Strength
from repo_builder import build_repo


def ci(tmp_path: Path, files: dict[str, object]) -> CIFacts:
    return Facts(build_repo(tmp_path, files)).ci  # type: ignore[arg-type]


def job(facts: CIFacts, name: str) -> Job:
    return next(j for j in facts.jobs if j.name == name)


def workflow(text: str, name: str = "ci.yml") -> dict[str, object]:
    return {".github": {"workflows": {name: text}}}


# -- GitHub Actions ------------------------------------------------------------------------------


def test_github_bare_on_key_is_read_despite_yaml_true(tmp_path: Path) -> None:
    # YAML 1.1 reads `on:` as the boolean True; the triggers must still be found
    facts = ci(
        tmp_path,
        workflow(
            "on:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  test:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - run: python -m pytest -q\n"
        ),
    )
    test = job(facts, "test")
    assert test.triggers == {"push", "pull_request"}
    assert test.strength is Strength.ENFORCED
    assert "test" in test.kinds
    assert [c.text for c in test.commands] == ["uses: actions/checkout@v4", "python -m pytest -q"]
    assert test.commands[1].line == 10
    assert test.line == 6
    assert facts.files == [".github/workflows/ci.yml"]
    assert facts.providers == {"github"}


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("push", {"push"}),
        ("[push, pull_request]", {"push", "pull_request"}),
        ("{pull_request_target: {}}", {"pull_request"}),
        ("{merge_group: {}}", {"pull_request"}),
        ("{push: {tags: ['v*']}}", {"tag"}),
        ("{push: {tags: ['v*'], branches: [main]}}", {"push"}),
        ("{schedule: [{cron: '0 3 * * *'}]}", {"schedule"}),
        ("workflow_dispatch", {"manual"}),
        ("{release: {types: [published]}}", {"release"}),
        ("workflow_call", {"call"}),
    ],
)
def test_github_triggers(tmp_path: Path, on: str, expected: set[str]) -> None:
    facts = ci(tmp_path, workflow(f"on: {on}\njobs:\n  j:\n    steps:\n      - run: make\n"))
    assert job(facts, "j").triggers == expected


def test_github_strength_ladder(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        {
            **workflow(
                "on: pull_request\njobs:\n  gate:\n    steps: [{run: pytest}]\n"
                "  soft:\n    continue-on-error: true\n    steps: [{run: pytest}]\n",
                "pr.yml",
            ),
            ".github/workflows/push.yml": "on: push\njobs:\n  p:\n    steps: [{run: pytest}]\n",
            ".github/workflows/manual.yml": "on: workflow_dispatch\n"
            "jobs:\n  m:\n    steps: [{run: pytest}]\n",
        },
    )
    assert job(facts, "gate").strength is Strength.ENFORCED
    assert job(facts, "soft").allow_failure
    assert job(facts, "soft").strength is Strength.AUTOMATED
    assert job(facts, "p").strength is Strength.AUTOMATED
    assert job(facts, "m").strength is Strength.PRESENT
    assert facts.best("test") is not None
    assert facts.best("test").name == "gate"
    assert facts.strength("test") is Strength.ENFORCED
    ev = facts.evidence("test")
    assert ev is not None
    assert ev.path == ".github/workflows/pr.yml"
    assert "pytest" in ev.text


def test_github_reusable_workflow_job(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow("on: pull_request\njobs:\n  call:\n    uses: ./.github/workflows/t.yml\n"),
    )
    assert [c.text for c in job(facts, "call").commands] == ["uses: ./.github/workflows/t.yml"]


def test_github_yaml_workflows_and_non_dict_jobs_are_skipped(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        {
            **workflow(
                "on: push\njobs:\n  a: 3\n  b:\n    steps: ['oops', {run: ruff check .}]\n",
                "x.yaml",
            ),
        },
    )
    assert [j.name for j in facts.jobs] == ["b"]
    assert job(facts, "b").kinds == {"lint"}


@pytest.mark.xfail(
    strict=True,
    reason="ci.py: a step with continue-on-error cannot fail the job, "
    "but the job still counts as enforcing it (_github reads only job-level "
    "continue-on-error)",
)
def test_github_step_level_continue_on_error_does_not_gate(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on: pull_request\njobs:\n  t:\n    steps:\n      - run: pytest\n"
            "        continue-on-error: true\n"
        ),
    )
    assert facts.strength("test") is not Strength.ENFORCED


@pytest.mark.xfail(
    strict=True,
    reason="ci.py: `on: workflow_run` (runs after another workflow) "
    "is not mapped to any trigger, so such jobs look manual (PRESENT)",
)
def test_github_workflow_run_is_automatic(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\njobs:\n"
            "  e:\n    steps: [{run: python evaluate.py}]\n"
        ),
    )
    assert job(facts, "e").strength >= Strength.AUTOMATED


@pytest.mark.xfail(
    strict=True,
    reason="ci.py _Lines.of: an identical command in a second job points at the first job's line",
)
def test_identical_commands_point_at_their_own_job(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on: push\njobs:\n  a:\n    steps:\n      - run: pytest\n"
            "  b:\n    steps:\n      - run: pytest\n"
        ),
    )
    assert job(facts, "b").commands[0].line == 8


# -- GitLab CI ---------------------------------------------------------------------------------


GITLAB = """\
default:
  before_script:
    - pip install -e .
stages: [test, lint]
.template:
  script: [echo hidden]
unit:
  stage: test
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == "main"
  script:
    - pytest
lint:
  script: ruff check .
  allow_failure: true
deploy:
  script: [kubectl apply -f k8s/]
  when: manual
nightly:
  only: [schedules]
  script: [python train.py]
release:
  rules:
    - if: $CI_COMMIT_TAG
  script: [docker build .]
"""


def test_gitlab_jobs_rules_and_templates(tmp_path: Path) -> None:
    facts = ci(tmp_path, {".gitlab-ci.yml": GITLAB})
    assert {j.name for j in facts.jobs} == {"unit", "lint", "deploy", "nightly", "release"}
    unit = job(facts, "unit")
    assert unit.provider == "gitlab"
    assert unit.triggers == {"push", "pull_request"}
    assert unit.strength is Strength.ENFORCED
    assert [c.text for c in unit.commands] == [
        "pip install -e .",
        "pytest",
    ]  # default before_script
    assert unit.line == 7
    lint = job(facts, "lint")
    assert lint.allow_failure
    assert lint.kinds == {"lint"}
    assert lint.strength is Strength.AUTOMATED
    assert job(facts, "deploy").triggers == {"manual"}
    assert job(facts, "deploy").strength is Strength.PRESENT
    assert "schedule" in job(facts, "nightly").triggers
    assert "tag" in job(facts, "release").triggers
    assert "docker" in job(facts, "release").kinds


def test_gitlab_workflow_rules_apply_to_every_job(tmp_path: Path) -> None:
    text = (
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n"
        "test:\n  script: [pytest]\n"
    )
    assert job(ci(tmp_path, {".gitlab-ci.yml": text}), "test").strength is Strength.ENFORCED


@pytest.mark.xfail(
    strict=True,
    reason="ci.py _gitlab_triggers: every job gets `push`, even one limited to `only: [schedules]`",
)
def test_gitlab_schedule_only_job_does_not_run_on_push(tmp_path: Path) -> None:
    assert "push" not in job(ci(tmp_path, {".gitlab-ci.yml": GITLAB}), "nightly").triggers


@pytest.mark.xfail(
    strict=True,
    reason="ci.py _gitlab: `extends:` is not followed, so a job whose "
    "script comes from a hidden template job has no commands",
)
def test_gitlab_extends_brings_the_template_script(tmp_path: Path) -> None:
    text = ".py:\n  script: [pytest -q]\ntest:\n  extends: .py\n"
    assert "test" in job(ci(tmp_path, {".gitlab-ci.yml": text}), "test").kinds


@pytest.mark.xfail(
    strict=True,
    reason="ci.py: `include: template: Jobs/SAST.gitlab-ci.yml` "
    "(GitLab's own SAST/dependency/secret scanning) is not seen as security",
)
def test_gitlab_security_templates(tmp_path: Path) -> None:
    text = "include:\n  - template: Jobs/SAST.gitlab-ci.yml\ntest:\n  script: [pytest]\n"
    assert ci(tmp_path, {".gitlab-ci.yml": text}).jobs_that("security")


# -- Azure Pipelines -----------------------------------------------------------------------------


AZURE = """\
trigger: [main]
pr: none
schedules:
  - cron: "0 3 * * *"
    branches: {include: [main]}
stages:
  - stage: Test
    jobs:
      - job: unit
        steps:
          - script: python -m pytest
          - bash: mypy src
      - job: flaky
        continueOnError: true
        steps:
          - task: PythonScript@0
            inputs: {scriptPath: evaluate.py}
  - stage: Deploy
    jobs:
      - deployment: ship
        strategy:
          runOnce:
            deploy:
              steps:
                - script: helm upgrade model ./chart
"""


def test_azure_stages_jobs_steps(tmp_path: Path) -> None:
    facts = ci(tmp_path, {"azure-pipelines.yml": AZURE})
    assert {j.name for j in facts.jobs} == {"unit", "flaky", "ship"}
    unit = job(facts, "unit")
    assert unit.triggers == {"push", "schedule"}  # pr: none
    assert unit.kinds == {"test", "typecheck"}
    assert unit.strength is Strength.AUTOMATED
    assert job(facts, "flaky").allow_failure
    assert "evaluate" in job(facts, "flaky").kinds
    assert "deploy" in job(facts, "ship").kinds


def test_azure_single_job_pipeline_defaults_to_push_and_pr(tmp_path: Path) -> None:
    facts = ci(tmp_path, {".azure-pipelines": {"ci.yml": "steps:\n  - script: pytest\n"}})
    assert len(facts.jobs) == 1
    assert facts.jobs[0].triggers == {"push", "pull_request"}
    assert facts.jobs[0].strength is Strength.ENFORCED


@pytest.mark.xfail(
    strict=True,
    reason="ci.py gather: Azure Pipelines files outside the root and "
    ".azure-pipelines/ (e.g. microsoft/nni's pipelines/fast-test.yml) are not read",
)
def test_azure_pipelines_in_other_folders(tmp_path: Path) -> None:
    facts = ci(
        tmp_path, {"pipelines": {"fast-test.yml": "trigger: [main]\nsteps:\n  - script: pytest\n"}}
    )
    assert facts.jobs


# -- CircleCI, Travis, Bitbucket, Jenkins -----------------------------------------------------


def test_circleci(tmp_path: Path) -> None:
    text = (
        "version: 2.1\njobs:\n  test:\n    steps:\n      - checkout\n      - run: pytest\n"
        "      - run:\n          name: lint\n          command: flake8 .\n"
        "workflows:\n  nightly:\n    triggers:\n      - schedule: {cron: '0 0 * * *'}\n"
    )
    facts = ci(tmp_path, {".circleci": {"config.yml": text}})
    test = job(facts, "test")
    assert test.triggers == {"push", "pull_request", "schedule"}
    assert test.kinds == {"test", "lint"}
    assert [c.text for c in test.commands] == ["checkout", "pytest", "flake8 ."]


def test_travis(tmp_path: Path) -> None:
    facts = ci(
        tmp_path, {".travis.yml": "install: pip install -e .\nscript:\n  - pytest\n  - mypy src\n"}
    )
    build = job(facts, "build")
    assert build.provider == "travis"
    assert build.kinds == {"test", "typecheck"}
    assert build.strength is Strength.ENFORCED


@pytest.mark.xfail(
    strict=True,
    reason="ci.py _travis: scripts under `jobs: include:` (build "
    "stages and matrix entries) are not read",
)
def test_travis_jobs_include(tmp_path: Path) -> None:
    text = "jobs:\n  include:\n    - stage: lint\n      script: flake8 .\n"
    assert ci(tmp_path, {".travis.yml": text}).jobs_that("lint")


def test_bitbucket(tmp_path: Path) -> None:
    text = (
        "pipelines:\n  default:\n    - step:\n        script: [pytest]\n"
        "  pull-requests:\n    '**':\n      - step:\n          script: [ruff check .]\n"
        "  custom:\n    retrain:\n      - step:\n          script: [python train.py]\n"
    )
    facts = ci(tmp_path, {"bitbucket-pipelines.yml": text})
    assert job(facts, "default").triggers == {"push"}
    assert "test" in job(facts, "default").kinds
    assert job(facts, "pull-requests").strength is Strength.ENFORCED
    assert job(facts, "custom").triggers == {"manual"}
    assert "train" in job(facts, "custom").kinds


def test_jenkinsfile_sh_steps(tmp_path: Path) -> None:
    text = (
        "pipeline {\n  triggers { cron('H 2 * * *') }\n  stages {\n"
        "    stage('test') { steps { sh 'python -m pytest' } }\n"
        "    stage('lint') { steps { sh(script: \"ruff check .\", returnStatus: true) } }\n"
        "    stage('train') { when { changeRequest() }\n"
        "      steps { sh '''\n      python train.py\n    ''' } }\n"
        "  }\n}\n"
    )
    facts = ci(tmp_path, {"Jenkinsfile": text})
    pipeline = job(facts, "pipeline")
    assert pipeline.triggers == {"push", "schedule", "pull_request"}
    assert pipeline.kinds == {"test", "lint", "train"}
    assert pipeline.commands[0].line == 4


def test_broken_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = build_repo(tmp_path, workflow("on: push\njobs:\n\t- bad: [\n"))
    facts = Facts(root)
    assert facts.ci.jobs == []
    assert facts.ci.files == [".github/workflows/ci.yml"]
    assert [p.kind for p in facts.problems] == ["config"]


def test_no_ci(tmp_path: Path) -> None:
    facts = ci(tmp_path, {"README.md": "# x\n"})
    assert facts.jobs == []
    assert facts.files == []
    assert facts.best("test") is None
    assert facts.strength("test") is None
    assert facts.evidence("test") is None


# -- kinds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kinds"),
    [
        ("python -m pytest -q", {"test"}),
        ("coverage run -m unittest", {"test"}),
        ("ruff check . && ruff format --check .", {"lint", "format"}),
        ("uses: pre-commit/action@v3.0.1", {"lint"}),
        ("mypy --strict src", {"typecheck"}),
        ("pip-audit -r requirements.txt", {"security"}),
        ("uses: github/codeql-action/analyze@v3", {"security"}),
        ("dvc repro", {"train"}),
        ("python -m mypkg.train --epochs 1", {"train"}),
        ("dvc metrics diff main", {"evaluate"}),
        ("steward audit --fail-under 60", {"audit"}),
        ("docker build -t model .", {"docker"}),
        ("pytest --benchmark-only", {"test", "benchmark"}),
        ("mkdocs build --strict", {"docs"}),
        ("echo hello", set()),
    ],
)
def test_classify(command: str, kinds: set[str]) -> None:
    assert classify(command) == kinds


@pytest.mark.xfail(
    strict=True,
    reason="ci.py classify: shell comments count, so `# drift ...` "
    "in a comment makes a job a drift check (seen in feast-dev/feast)",
)
def test_classify_ignores_comments() -> None:
    assert "drift" not in classify("# createdAt changes every run, so ignore drift here\nmake test")


@pytest.mark.xfail(
    strict=True,
    reason="ci.py classify: any `tox` counts as tests, also "
    "`tox -e lint`, whose env may run only a linter",
)
def test_classify_tox_lint_env_is_not_tests() -> None:
    assert "test" not in classify("tox -e lint")


@pytest.mark.xfail(
    strict=True,
    reason="ci.KINDS lacks `dvc exp diff` / `dvc plots diff` "
    "(evaluate) and dependency-review-action / scorecard (security)",
)
def test_classify_missing_patterns() -> None:
    assert "evaluate" in classify("dvc exp diff main --md")
    assert "security" in classify("uses: actions/dependency-review-action@v4")
