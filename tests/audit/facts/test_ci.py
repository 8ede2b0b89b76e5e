"""CI facts (facts/ci.py): every provider's jobs, triggers, commands, kinds and strength."""

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


def test_github_step_level_continue_on_error_does_not_gate(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on: pull_request\njobs:\n  t:\n    steps:\n      - run: pytest\n"
            "        continue-on-error: true\n"
        ),
    )
    assert facts.strength("test") is not Strength.ENFORCED


def test_github_workflow_run_is_automatic(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\njobs:\n"
            "  e:\n    steps: [{run: python evaluate.py}]\n"
        ),
    )
    assert job(facts, "e").triggers == {"call"}
    assert job(facts, "e").strength is Strength.AUTOMATED


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


def test_gitlab_schedule_only_job_does_not_run_on_push(tmp_path: Path) -> None:
    assert "push" not in job(ci(tmp_path, {".gitlab-ci.yml": GITLAB}), "nightly").triggers


def test_gitlab_extends_brings_the_template_script(tmp_path: Path) -> None:
    text = ".py:\n  script: [pytest -q]\ntest:\n  extends: .py\n"
    assert "test" in job(ci(tmp_path, {".gitlab-ci.yml": text}), "test").kinds


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
        ("pip install pytest mypy black", set()),
        ("python -m pip install -U tox && tox -e lint", set()),
        ("uv pip install -e . && uv run pytest", {"test"}),
        ("helm upgrade --install model ./chart", {"deploy"}),
        ("pytest  # then check drift", {"test"}),
        ("echo 'no # comment here: drift'", {"drift"}),
        ("tox", {"test"}),
        ("tox -e py311,lint", {"test"}),
        ("tox -e docs", set()),
        ("tox -e unit-tests", {"test"}),
        ("tox -e ${{ matrix.env }}", {"test"}),
        ("tox -- -m 'not slow'", {"test"}),
        ("nox -s lint", set()),
        ("nox -s tests-3.12", {"test"}),
        ("basedpyright src", {"typecheck"}),
        ("pyflakes . && autopep8 --diff -r .", {"lint", "format"}),
        ("uses: ossf/scorecard-action@v2", {"security"}),
        ("dvc plots diff --targets loss.csv", {"evaluate"}),
        ("ruff check . \\\n  --select S", {"lint"}),
    ],
)
def test_classify(command: str, kinds: set[str]) -> None:
    assert classify(command) == kinds


def test_classify_ignores_comments() -> None:
    assert "drift" not in classify("# createdAt changes every run, so ignore drift here\nmake test")


def test_classify_tox_lint_env_is_not_tests() -> None:
    assert "test" not in classify("tox -e lint")


def test_classify_missing_patterns() -> None:
    assert "evaluate" in classify("dvc exp diff main --md")
    assert "security" in classify("uses: actions/dependency-review-action@v4")


# -- allowed failures are per command --------------------------------------------------------------


def test_step_level_continue_on_error_weakens_only_that_command(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on: pull_request\njobs:\n  t:\n    steps:\n      - run: ruff check .\n"
            "      - run: mypy src\n        continue-on-error: true\n"
            "      - run: pytest -m slow\n        continue-on-error: true\n"
            "      - run: pytest\n"
        ),
    )
    t = job(facts, "t")
    assert not t.allow_failure
    assert t.strength is Strength.ENFORCED  # ruff and pytest can fail it
    assert [c.allow_failure for c in t.commands] == [False, True, True, False]
    assert t.strength_for("typecheck") is Strength.AUTOMATED
    assert facts.strength("lint") is Strength.ENFORCED
    # the command that gates wins over the one allowed to fail
    assert t.command_for("test") == t.commands[3]
    ev = facts.evidence("typecheck")
    assert ev is not None
    assert ev.strength is Strength.AUTOMATED
    assert (ev.line, "mypy src" in ev.text) == (6, True)


def test_job_level_continue_on_error_marks_every_command(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        workflow(
            "on: pull_request\njobs:\n  t:\n    continue-on-error: true\n    steps: [{run: x}]\n"
        ),
    )
    assert job(facts, "t").commands[0].allow_failure
    assert job(facts, "t").strength is Strength.AUTOMATED


# -- lines ---------------------------------------------------------------------------------------


def test_job_line_is_the_key_under_jobs(tmp_path: Path) -> None:
    text = (
        "on:\n  workflow_call:\n    inputs:\n      test:\n        type: string\njobs:\n"
        "  build:\n    steps:\n      - run: make\n  test:\n    steps:\n      - run: pytest\n"
    )
    test = job(ci(tmp_path, workflow(text)), "test")
    assert test.line == 10
    assert test.commands[0].line == 12


def test_evidence_quotes_the_matching_line_of_a_script(tmp_path: Path) -> None:
    text = (
        "on: push\njobs:\n  a:\n    steps:\n      - run: |\n"
        "          # pytest comes later\n          pip install pytest\n          pytest -q\n"
    )
    ev = ci(tmp_path, workflow(text)).evidence("test")
    assert ev is not None
    assert "`pytest -q`" in ev.text
    assert ev.line == 8


def test_jenkins_script_line_is_its_first_code_line(tmp_path: Path) -> None:
    text = "pipeline {\n  stages {\n    stage('t') { steps { sh '''\n      pytest\n    ''' } }\n"
    facts = ci(tmp_path, {"Jenkinsfile": text + "  }\n}\n"})
    ev = facts.evidence("test")
    assert ev is not None
    assert ev.line == 4


# -- running(pattern) ------------------------------------------------------------------------------


def test_running_matches_commands_but_not_comments(tmp_path: Path) -> None:
    text = (
        "on: pull_request\njobs:\n  a:\n    steps:\n      - run: |\n          # dvc pull\n"
        "          echo hi\n  b:\n    steps:\n      - run: dvc pull\n"
        "        continue-on-error: true\n"
        "      - run: |\n          set -e\n          dvc pull -r origin\n"
    )
    facts = ci(tmp_path, workflow(text))
    found = facts.running(r"\bdvc\s+pull\b")
    assert [(j.name, c.line) for j, c in found] == [("b", 10), ("b", 13)]
    ev = facts.evidence_running(r"\bdvc\s+pull\b", "runs DVC")
    assert ev is not None
    assert ev.text == "github job 'b' runs DVC (pull_request): `dvc pull -r origin`"
    assert (ev.strength, ev.line) == (Strength.ENFORCED, 14)
    assert facts.evidence_running(r"\bdvc\s+push\b", "pushes") is None


# -- GitLab: rules, extends, includes, scanners ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", {"push"}),
        ("  only: [main]\n", {"push"}),
        ("  only: [merge_requests, tags]\n", {"pull_request", "tag"}),
        ("  only: {refs: [schedules]}\n", {"schedule"}),
        ("  except: [tags, schedules]\n", {"push"}),
        ("  rules:\n    - if: $CI_PIPELINE_SOURCE == 'schedule'\n", {"schedule"}),
        ("  rules:\n    - if: $CI_PIPELINE_SOURCE =~ /^(push|web)$/\n", {"push", "manual"}),
        ("  rules:\n    - if: $CI_MERGE_REQUEST_IID\n", {"pull_request"}),
        ("  rules:\n    - if: $CI_PIPELINE_SOURCE != 'schedule'\n", {"push"}),
        ("  rules:\n    - if: $RUN_IT\n    - when: manual\n", {"push", "manual"}),
        (
            "  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - changes: [src/*]\n",
            {"push"},
        ),
        (
            "  rules:\n    - if: $CI_COMMIT_BRANCH == 'main'"
            " && $CI_PIPELINE_SOURCE == 'schedule'\n",
            {"schedule"},
        ),
    ],
)
def test_gitlab_triggers(tmp_path: Path, spec: str, expected: set[str]) -> None:
    facts = ci(tmp_path, {".gitlab-ci.yml": f"t:\n  script: [pytest]\n{spec}"})
    assert job(facts, "t").triggers == expected


def test_gitlab_extends_merges_templates_in_order(tmp_path: Path) -> None:
    text = (
        "default:\n  before_script: [pip install -e .]\n"
        ".base:\n  before_script: [uv sync]\n  rules:\n"
        "    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n"
        ".py:\n  extends: .base\n  script: [pytest -q]\n"
        ".loop:\n  extends: .loop\n"
        "test:\n  extends: [.py, .loop]\n  allow_failure: false\n"
        "lint:\n  extends: .py\n  script: [ruff check .]\n"
    )
    facts = ci(tmp_path, {".gitlab-ci.yml": text})
    test = job(facts, "test")
    assert [c.text for c in test.commands] == ["uv sync", "pytest -q"]  # replaces default's
    assert [c.line for c in test.commands] == [4, 9]  # where the template says them
    assert test.triggers == {"pull_request"}
    assert test.strength is Strength.ENFORCED
    lint = job(facts, "lint")
    assert [c.text for c in lint.commands] == ["uv sync", "ruff check ."]
    assert lint.commands[1].line == 17


def test_gitlab_local_includes_are_read(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        {
            ".gitlab-ci.yml": "include:\n  - local: /ci/templates.yml\n  - local: ci/jobs/*.yml\n"
            "test:\n  extends: .tests\n",
            "ci": {
                "templates.yml": ".tests:\n  script: [pytest]\n",
                "jobs": {"lint.yml": "lint:\n  script: [ruff check .]\n"},
            },
        },
    )
    assert facts.files == [".gitlab-ci.yml", "ci/jobs/lint.yml", "ci/templates.yml"]
    test, lint = job(facts, "test"), job(facts, "lint")
    assert (test.kinds, test.commands[0].line) == ({"test"}, None)  # the script is elsewhere
    assert (lint.path, lint.kinds, lint.commands[0].line) == ("ci/jobs/lint.yml", {"lint"}, 2)
    assert facts.providers == {"gitlab"}


def test_gitlab_scanners_and_their_overrides(tmp_path: Path) -> None:
    text = (
        "include:\n  - template: Jobs/SAST.gitlab-ci.yml\n"
        "  - template: Security/Secret-Detection.gitlab-ci.yml\n"
        "  - component: $CI_SERVER_FQDN/components/dependency-scanning/main@1\n"
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n"
        "secret_detection:\n  allow_failure: false\n"
    )
    facts = ci(tmp_path, {".gitlab-ci.yml": text})
    names = {j.name: j for j in facts.jobs_that("security")}
    assert set(names) == {"sast", "secret_detection", "dependency_scanning"}
    assert names["sast"].strength is Strength.AUTOMATED  # may fail without failing the MR
    assert names["sast"].commands[0].line == 2
    assert names["secret_detection"].strength is Strength.ENFORCED
    assert facts.strength("security") is Strength.ENFORCED


# -- Azure: anywhere, with templates ---------------------------------------------------------------


def test_azure_templates_are_followed_and_not_pipelines(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        {
            "pipelines": {
                "ci.yml": "pr: [main]\nstages:\n  - stage: check\n    jobs:\n"
                "      - job: unit\n        pool: {vmImage: ubuntu-latest}\n        steps:\n"
                "          - template: templates/install.yml\n"
                "          - script: python -m pytest\n            continueOnError: true\n"
                "      - template: templates/lint-job.yml\n",
                "templates": {
                    "install.yml": "steps:\n  - script: pip install -e .\n  - bash: mypy src\n",
                    "lint-job.yml": "jobs:\n  - job: lint\n"
                    "    steps:\n      - script: ruff check .\n",
                },
            },
            "build": {
                "release.yml": "extends:\n  template: /pipelines/templates/lint-job.yml\n"
                "trigger: {tags: {include: ['v*']}}\npr: none\n"
            },
        },
    )
    assert facts.files == ["build/release.yml", "pipelines/ci.yml"]
    assert facts.providers == {"azure"}
    unit = next(j for j in facts.jobs if j.name == "unit" and j.path == "pipelines/ci.yml")
    assert [c.text for c in unit.commands] == ["pip install -e .", "mypy src", "python -m pytest"]
    assert [c.line for c in unit.commands] == [8, 8, 9]
    assert unit.line == 5
    assert unit.strength_for("typecheck") is Strength.ENFORCED
    assert unit.strength_for("test") is Strength.AUTOMATED  # continueOnError
    lint = [j for j in facts.jobs if j.name == "lint"]
    assert [(j.path, j.line, j.kinds) for j in lint] == [
        ("build/release.yml", 2, {"lint"}),
        ("pipelines/ci.yml", 11, {"lint"}),
    ]


def test_yaml_that_only_looks_like_a_pipeline_is_not_azure(tmp_path: Path) -> None:
    facts = ci(
        tmp_path,
        {
            "cloudbuild.yaml": "steps:\n  - name: gcr.io/cloud-builders/docker\n"
            "    args: [build]\n",
            "compose.yml": "services:\n  app:\n    image: x\n",
            ".github": {
                "fork_workflows": {"x.yml": "on: push\njobs:\n  a:\n    steps: [{run: x}]\n"}
            },
            "tests": {"fixtures": {"azure.yml": "trigger: [main]\nsteps:\n  - script: pytest\n"}},
            "ci": {"steps.yml": "parameters: []\nsteps:\n  - script: pytest\n"},
        },
    )
    assert facts.files == []
    assert facts.other_files == ["cloudbuild.yaml"]


# -- Travis -------------------------------------------------------------------------------------


def test_travis_include_entries_inherit_the_phases(tmp_path: Path) -> None:
    text = (
        "install: pip install -e .\nscript: pytest\njobs:\n  include:\n"
        "    - stage: lint\n      script: flake8 .\n"
        "    - name: docs\n      install: pip install mkdocs\n      script: mkdocs build\n"
        "  allow_failures:\n    - name: docs\n"
    )
    facts = ci(tmp_path, {".travis.yml": text})
    assert [j.name for j in facts.jobs] == ["build", "lint", "docs"]
    lint, docs = job(facts, "lint"), job(facts, "docs")
    assert [c.text for c in lint.commands] == ["pip install -e .", "flake8 ."]
    assert lint.line == 5
    assert lint.strength is Strength.ENFORCED
    assert docs.allow_failure
    assert docs.strength is Strength.AUTOMATED
