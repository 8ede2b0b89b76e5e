"""CI: continuous integration exists, runs on every change, and runs the checks that matter.

What CI runs is read through `facts.tools` (`ToolFacts.ci`), which follows a job into the
Makefile targets, tox and nox environments, pre-commit hooks, composite actions and
reusable workflows it calls, so ``make check`` counts as running whatever ``check`` runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.yamlfile import load_yaml
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

if TYPE_CHECKING:
    from mlsteward.audit.facts.ci import Job
    from mlsteward.audit.facts.python import Module
    from mlsteward.audit.facts.tasks import CIRun

__all__ = ["ci_files", "kind_outcome", "no_ci_hit", "training_anchor", "training_code"]

#: files that make a bot propose dependency updates (and flag vulnerable ones)
DEP_BOTS = (
    ".github/dependabot.yml",
    ".github/dependabot.yaml",
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
)
#: providers whose push pipelines run for every pushed branch, merge requests included
_BRANCH_PIPELINES = frozenset({"gitlab", "bitbucket", "jenkins", "circleci", "travis", "azure"})


# -- shared by the CI, TST and CQ rules ------------------------------------------------------------


def ci_files(facts: Facts) -> list[str]:
    """Every CI definition: parsed ones, and those of systems we only detect."""
    return sorted({*facts.ci.files, *facts.ci.other_files})


def no_ci_hit(facts: Facts, what: str) -> Hit:
    """The finding for a repository without any CI: nothing runs ``what`` automatically."""
    return Hit(
        f"no CI configuration, so nothing runs {what} automatically: add a workflow such as "
        ".github/workflows/ci.yml",
        facts.files.anchor("README*", "pyproject.toml", "setup.py"),
        1,
    )


def training_anchor(modules: list[Module]) -> str | None:
    """The module a training finding points at: a train* script if there is one."""
    named = [m for m in modules if "train" in m.path.rpartition("/")[2].lower()]
    return (named or modules)[0].path if modules else None


def manual_run(facts: Facts, kind: str) -> CIRun | None:
    """A CI run of ``kind`` someone starts by hand (jobs with no trigger we know do not count:
    they react to issues, comments or other events, not to code changes)."""
    return next((r for r in facts.tools.ci_runs(kind) if "manual" in r.triggers), None)


def kind_outcome(facts: Facts, kind: str, what: str, fix: str) -> Outcome:
    """Passed when CI runs ``kind`` automatically; partial when only by hand; else failed."""
    run = facts.tools.ci(kind)
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    run = manual_run(facts, kind)
    if run is not None:
        return Outcome.partial(
            0.5,
            Hit(
                f"CI runs {what} only when started by hand: trigger it on push and pull requests",
                run.path,
                run.line,
            ),
            evidence=[run.evidence()],
        )
    files = ci_files(facts)
    if not files:
        return Outcome.failed(no_ci_hit(facts, what))
    return Outcome.failed(
        Hit(f"CI never runs {what}: {fix}", files[0], 1),
        note=f"CI files read: {', '.join(files[:5])}",
    )


def training_code(facts: Facts) -> tuple[list[Module], list[Module]]:
    """Project modules that define or train models, and notebooks that train."""
    return facts.tests.training_modules, facts.tests.training_notebooks


def _training_gate(facts: Facts) -> Outcome | None:
    """not_applicable when the repository has no training code outside notebooks."""
    modules, notebooks = training_code(facts)
    if modules or facts.files.named("dvc.yaml") or facts.tools.ci("train"):
        return None
    if notebooks:
        return Outcome.not_applicable(
            f"training happens only in notebooks ({notebooks[0].path}); there is no "
            "pipeline to run in CI yet"
        )
    return Outcome.not_applicable("no code that defines or trains a model")


def _job_evidence(job: Job, text: str, strength: Strength | None = None) -> Evidence:
    when = ", ".join(sorted(job.triggers)) or "no trigger"
    return Evidence(
        f"{job.provider} job '{job.name}' {text} ({when})",
        job.strength if strength is None else strength,
        job.path,
        job.line,
    )


# -- rules -----------------------------------------------------------------------------------------


@rule(
    code="CI001",
    name="ci-missing",
    title="Continuous integration is configured",
    severity="high",
    practices=("seml-25",),
)
def ci_missing(facts: Facts) -> Outcome:
    """## What it finds
    Repositories with no CI definition: no GitHub Actions workflow, `.gitlab-ci.yml`, Azure
    Pipelines, CircleCI, Travis, Bitbucket Pipelines or Jenkinsfile (and none of the other
    common systems: AppVeyor, Drone, Buildkite, Cloud Build, ...). A CI file whose jobs
    cannot be read (it does not parse, or defines no job) counts as missing.

    ## Why it matters
    SE-ML practice "Use Continuous Integration" (seml-25): build, test and check every
    change on a shared server, so integration problems show up at once instead of on the
    day someone tries to reproduce a result.

    ## Example
    A repository with `train.py`, `tests/` and a README that says "run pytest before
    pushing", and no `.github/workflows/`.

    ## Instead
    Add a workflow that installs the project and runs the checks:

    ```yaml
    # .github/workflows/ci.yml
    on: [push, pull_request]
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - uses: actions/setup-python@v5
          - run: pip install -e .[dev] && pytest
    ```
    """
    jobs = facts.ci.jobs
    files = ci_files(facts)
    if jobs:
        strongest = max(jobs, key=lambda j: j.strength)
        providers = ", ".join(sorted({j.provider for j in jobs}))
        return Outcome.passed(
            Evidence(
                f"{len(jobs)} CI job(s) ({providers}) in {len(files)} file(s)",
                strongest.strength,
                strongest.path,
                strongest.line,
            ),
        )
    other = facts.ci.other_files
    if other:
        return Outcome.passed(
            Evidence(
                f"CI configured in {other[0]} (a system mlsteward does not read)",
                Strength.PRESENT,
                other[0],
                1,
            ),
        )
    if files:
        return Outcome.failed(
            Hit(
                f"{files[0]} defines no job that can run: fix the file (see AUD003) or remove it",
                files[0],
                1,
            )
        )
    return Outcome.failed(no_ci_hit(facts, "the tests and checks"))


@rule(
    code="CI002",
    name="ci-without-tests",
    title="CI runs the test suite",
    severity="high",
    practices=("seml-24", "seml-25"),
)
def ci_without_tests(facts: Facts) -> Outcome:
    """## What it finds
    CI that never runs the tests: no job calls pytest, unittest, tox, nox, `hatch test`,
    `coverage run` or a Makefile/tox/nox target that does. Jobs are followed into the
    targets, environments, hooks and reusable workflows they call. Tests that CI starts
    only by hand (`workflow_dispatch`, a manual GitLab job) give a partial score.

    ## Why it matters
    SE-ML "Run Automated Regression Tests" (seml-24) and "Use Continuous Integration"
    (seml-25): a test suite nobody runs stops catching regressions. For the ML Test Score a
    test earns its full point only when it runs automatically.

    ## Example
    ```yaml
    jobs:
      build:
        steps:
          - run: pip install -e .
          - run: python -c "import mypkg"
    ```

    ## Instead
    Run the suite in CI on every push and pull request: `- run: python -m pytest`.
    """
    outcome = kind_outcome(facts, "test", "the tests", "add a step such as `python -m pytest`")
    if outcome.hits and ci_files(facts) and not facts.tools.ci("test"):
        n = facts.tests.count
        detail = f"the {n} test(s) in the repository" if n else "any tests (there are none yet)"
        hit = outcome.hits[0]
        return Outcome.failed(
            Hit(
                f"CI never runs {detail}: add a step such as `python -m pytest`", hit.path, hit.line
            ),
            note=outcome.note,
        )
    return outcome


@rule(
    code="CI003",
    name="ci-not-on-pull-requests",
    title="CI runs automatically on pull and merge requests",
    severity="medium",
    practices=("seml-25", "seml-15"),
)
def ci_not_on_pull_requests(facts: Facts) -> Outcome:
    """## What it finds
    CI that does not check proposed changes: every job runs only by hand, only on a
    schedule, or only after a change has reached the main branch (a GitHub workflow on
    `push: branches: [main]` without `pull_request`). GitLab, Bitbucket, Jenkins and Azure
    branch pipelines run for every pushed branch, merge requests included, so they count.

    ## Why it matters
    CI gates a merge only if it runs before the merge (seml-25), and reviewers of training
    code (seml-15) need its result on the pull request they review.

    ## Example
    ```yaml
    on:
      push:
        branches: [main]
    ```

    ## Instead
    ```yaml
    on:
      push:
        branches: [main]
      pull_request:
    ```
    """
    jobs = facts.ci.jobs
    if not jobs:
        files = ci_files(facts)
        if files:
            return Outcome.unknown(f"CI in {files[0]} is not read by mlsteward")
        return Outcome.failed(no_ci_hit(facts, "checks on pull requests"))
    on_pr = [j for j in jobs if "pull_request" in j.triggers]
    if on_pr:
        return Outcome.passed(
            _job_evidence(on_pr[0], "runs on pull requests"),
            note=f"{len(on_pr)} of {len(jobs)} job(s) run on pull requests",
        )
    pushed = [j for j in jobs if "push" in j.triggers]
    branchwide = [j for j in pushed if j.provider in _BRANCH_PIPELINES]
    branchwide += [j for j in pushed if j.provider == "github" and not _push_filtered(facts, j)]
    if branchwide:
        return Outcome.passed(
            _job_evidence(branchwide[0], "runs on every pushed branch", Strength.AUTOMATED),
            note="branch pipelines check each pushed branch; a pull_request trigger would also "
            "check contributions from forks",
        )
    if pushed:
        job = pushed[0]
        return Outcome.partial(
            0.5,
            Hit(
                "CI runs only after changes reach the main branch: add a `pull_request` "
                "trigger so changes are checked before they merge",
                job.path,
                _trigger_line(facts, job.path, "push")
                or _trigger_line(facts, job.path, "on")
                or job.line,
            ),
            evidence=[_job_evidence(job, "runs on push to the main branch")],
        )
    job = jobs[0]
    how = "on a schedule" if any("schedule" in j.triggers for j in jobs) else "by hand"
    return Outcome.failed(
        Hit(
            f"CI runs only {how}: trigger it on push and on pull requests",
            job.path,
            _trigger_line(facts, job.path, "on") or 1,
        )
    )


def _workflow(facts: Facts, path: str) -> dict[Any, Any]:
    text = facts.files.read_text(path)
    data = load_yaml(facts, path, text) if text else None
    return data if isinstance(data, dict) else {}


def _push_filtered(facts: Facts, job: Job) -> bool:
    """A GitHub workflow whose push trigger names branches without a wildcard."""
    data = _workflow(facts, job.path)
    on = data.get("on", data.get(True))
    push = on.get("push") if isinstance(on, dict) else None
    branches = push.get("branches") if isinstance(push, dict) else None
    if not isinstance(branches, list) or not branches:
        return False
    return not any("*" in str(b) for b in branches)


def _trigger_line(facts: Facts, path: str, key: str) -> int | None:
    text = facts.files.read_text(path) or ""
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*['\"]?{key}['\"]?\s*:", line):
            return i
    return None


@rule(
    code="CI004",
    name="ci-without-linters",
    title="CI runs linters",
    severity="medium",
    practices=("seml-26",),
)
def ci_without_linters(facts: Facts) -> Outcome:
    """## What it finds
    CI that runs no linter: no ruff, flake8, pylint, pycodestyle or prospector step, no
    `pre-commit run` (or pre-commit action) with a linting hook, no target that runs one,
    and no pre-commit.ci configuration.

    ## Why it matters
    SE-ML "Use Static Analysis to Check Code Quality" (seml-26) asks for analysis that runs
    routinely; a linter configured but run only when someone remembers finds nothing.

    ## Example
    `[tool.ruff]` in pyproject.toml, and a workflow that only runs `pytest`.

    ## Instead
    Add `- run: ruff check .` (or `pre-commit run --all-files`) to the CI job.
    """
    use = facts.tools.use("ruff", "flake8", "pylint", "pycodestyle", "prospector")
    fix = (
        f"add a step that runs it (`{use.tool} ...` is configured in {use.path})"
        if use
        else ("add a step such as `ruff check .`")
    )
    return kind_outcome(facts, "lint", "a linter", fix)


@rule(
    code="CI005",
    name="ci-without-type-checker",
    title="CI runs a type checker",
    severity="low",
    practices=("seml-26",),
)
def ci_without_type_checker(facts: Facts) -> Outcome:
    """## What it finds
    CI that runs no type checker (mypy, pyright, pytype, pyre, ty), directly or through a
    target or pre-commit hook. Not applicable to repositories whose only code is notebooks.

    ## Why it matters
    Type checking is the static analysis that catches wrong shapes of data passed between
    pipeline steps (seml-26) before a long training run does.

    ## Example
    A project with `[tool.mypy]` in pyproject.toml whose CI only runs `pytest`.

    ## Instead
    Add `- run: mypy src` (or a mypy pre-commit hook that CI runs).
    """
    if not [m for m in facts.python.source_modules if not m.is_notebook]:
        return Outcome.not_applicable("no Python modules outside notebooks")
    use = facts.tools.use("mypy", "pyright", "pytype", "pyre")
    fix = (
        f"add a step that runs {use.tool} (configured in {use.path})"
        if use
        else ("add a step such as `mypy src`")
    )
    return kind_outcome(facts, "typecheck", "a type checker", fix)


@rule(
    code="CI006",
    name="ci-without-security-scan",
    title="CI scans code and dependencies for security problems",
    severity="medium",
    practices=("seml-27",),
)
def ci_without_security_scan(facts: Facts) -> Outcome:
    """## What it finds
    CI that runs no security scanning: no bandit (or ruff with the `S` rules, or flake8
    with flake8-bandit), pip-audit, safety, CodeQL, Trivy, Semgrep, Snyk, secret scanner,
    or GitLab SAST / dependency-scanning template. A dependabot or renovate configuration
    alone gives half the score: it flags vulnerable dependencies but scans no code.

    ## Why it matters
    SE-ML "Assure Application Security" (seml-27): ML services load pickled models, parse
    untrusted input and pull large dependency trees; scanning code and dependencies on
    every change is the cheapest defence.

    ## Example
    A workflow that runs tests and ruff with its default rules, nothing else.

    ## Instead
    ```yaml
      - run: pip install pip-audit bandit && pip-audit && bandit -r src -q
    ```
    or enable CodeQL (`github/codeql-action`), or select ruff's `S` rules.
    """
    run = facts.tools.ci("security")
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    bots = [p for p in DEP_BOTS if facts.files.exists(p)]
    run = manual_run(facts, "security")
    evidence = [run.evidence()] if run else []
    if bots:
        evidence.append(
            Evidence(f"dependency updates by a bot ({bots[0]})", Strength.AUTOMATED, bots[0], 1)
        )
        return Outcome.partial(
            0.5,
            Hit(
                "no security scan of the code in CI: add bandit (or ruff's S rules), "
                "pip-audit or CodeQL",
                ci_files(facts)[0] if ci_files(facts) else bots[0],
                1,
            ),
            evidence=evidence,
        )
    if run is not None:
        return Outcome.partial(
            0.5,
            Hit(
                "CI runs security scanning only by hand: run it on push and pull requests",
                run.path,
                run.line,
            ),
            evidence=evidence,
        )
    return kind_outcome(
        facts,
        "security",
        "a security scan",
        "add pip-audit and bandit (or ruff's S rules), or CodeQL",
    )


def _pipeline_run(facts: Facts) -> Evidence | None:
    """A CI-run test that exercises the pipeline end to end counts as running it."""
    tests = facts.tests.pipeline_tests
    if not tests:
        return None
    from mlsteward.audit.rules.tst import ci_test_evidence

    ev = ci_test_evidence(facts, [t.path for t in tests])
    if ev is None or ev.strength < Strength.AUTOMATED:
        return None
    first = tests[0]
    return Evidence(
        f"{ev.text}; it includes the end-to-end test {first.path}::"
        f"{first.case.name} ({first.reason})",
        ev.strength,
        ev.path,
        ev.line,
    )


@rule(
    code="CI007",
    name="ci-without-training-run",
    title="CI runs the training pipeline on a small sample",
    severity="medium",
    practices=("mts-infra-3",),
    applies_when=("model",),
)
def ci_without_training_run(facts: Facts) -> Outcome:
    """## What it finds
    Repositories with training code whose CI never trains: no job runs a `train*.py`
    script, `python -m ...train`, `dvc repro`, `mlflow run` or a target that does, and no
    CI-run test that trains and predicts end to end. Not applicable when training happens
    only in notebooks or there is no training code.

    ## Why it matters
    ML Test Score Infrastructure 3, "The ML pipeline is integration tested": a change to a
    feature, a dependency or a config can break training in ways unit tests miss. A smoke
    run on a tiny sample in CI finds it in minutes.

    ## Example
    `src/train.py` and `dvc.yaml`, and a workflow that only runs `pytest tests/unit`.

    ## Instead
    ```yaml
      - run: python -m mypkg.train --config configs/smoke.yaml  # 100 rows, 1 epoch
    ```
    or `dvc repro` on a sample dataset, or a pytest test that trains and predicts.
    """
    gate = _training_gate(facts)
    if gate is not None:
        return gate
    run = facts.tools.ci("train")
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    pipeline = _pipeline_run(facts)
    if pipeline is not None:
        return Outcome.passed(pipeline)
    modules, _ = training_code(facts)
    dvc = facts.files.named("dvc.yaml")
    where = training_anchor(modules) or (dvc[0] if dvc else None)
    run = manual_run(facts, "train")
    if run is not None:
        return Outcome.partial(
            0.5,
            Hit(
                "CI trains only when started by hand: run the smoke training on push or "
                "pull requests",
                run.path,
                run.line,
            ),
            evidence=[run.evidence()],
        )
    if not ci_files(facts):
        return Outcome.failed(no_ci_hit(facts, "the training pipeline"))
    return Outcome.failed(
        Hit(
            "nothing in CI runs the training pipeline: add a smoke run on a tiny sample "
            "(`python train.py --sample 100 --epochs 1`, `dvc repro`) or an end-to-end test",
            where or ci_files(facts)[0],
            1,
        )
    )


@rule(
    code="CI008",
    name="ci-without-model-evaluation",
    title="CI evaluates the model against a quality bar",
    severity="medium",
    practices=("mts-infra-4",),
)
def ci_without_model_evaluation(facts: Facts) -> Outcome:
    """## What it finds
    Repositories with training code whose CI never evaluates a model: no job runs an
    `eval*.py` script, `dvc metrics diff`, CML, `steward gate` or an evaluation target, and
    no CI-run test asserts a metric floor or golden predictions. Not applicable when there
    is no training code outside notebooks.

    ## Why it matters
    ML Test Score Infrastructure 4, "Model quality is validated before serving": a model
    should pass a quality check, ideally against the current production model, before it
    can be served. In CI that check runs on every change, not only when someone remembers.

    ## Example
    A workflow that trains a model and uploads it as an artifact, with no evaluation step.

    ## Instead
    ```yaml
      - run: python evaluate.py --min-accuracy 0.85   # exits non-zero below the bar
      - run: dvc metrics diff main --md >> $GITHUB_STEP_SUMMARY
    ```
    """
    gate = _training_gate(facts)
    if gate is not None:
        return gate
    run = facts.tools.ci("evaluate")
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    checks = facts.tests.quality_checks
    if checks:
        from mlsteward.audit.rules.tst import ci_test_evidence

        ev = ci_test_evidence(facts, [c.path for c in checks])
        if ev is not None and ev.strength >= Strength.AUTOMATED:
            first = checks[0]
            return Outcome.passed(
                Evidence(
                    f"{ev.text}; the tests include a quality check: {first.reason}",
                    ev.strength,
                    ev.path,
                    ev.line,
                ),
                Evidence(
                    f"{first.path}::{first.case.name} {first.reason}",
                    Strength.PRESENT,
                    first.path,
                    first.where,
                ),
            )
    run = manual_run(facts, "evaluate")
    if run is not None:
        return Outcome.partial(
            0.5,
            Hit(
                "CI evaluates the model only when started by hand: run it on push or pull requests",
                run.path,
                run.line,
            ),
            evidence=[run.evidence()],
        )
    if not ci_files(facts):
        return Outcome.failed(no_ci_hit(facts, "a model evaluation"))
    return Outcome.failed(
        Hit(
            "nothing in CI evaluates a model against a quality bar: add an evaluation step "
            "that fails below a threshold, or tests that assert metric floors",
            ci_files(facts)[0],
            1,
        )
    )


_SCHEDULED_KINDS = ("train", "evaluate", "drift", "data-validation")


@rule(
    code="CI009",
    name="no-scheduled-ml-checks",
    title="Retraining or model checks run on a schedule",
    severity="medium",
    practices=("mts-monitor-4",),
    applies_when=("deployed",),
)
def no_scheduled_ml_checks(facts: Facts) -> Outcome:
    """## What it finds
    Deployed ML projects with no recurring job that retrains the model, re-evaluates it,
    validates fresh data or checks for drift: no CI job with a `schedule` trigger (cron)
    of those kinds, no Kubernetes CronJob or Airflow DAG with a schedule that trains or
    evaluates. Applies only when the project is deployed.

    ## Why it matters
    ML Test Score Monitoring 4, "Models are not too stale": a served model ages as the
    world drifts away from its training data. A scheduled retraining or evaluation job is
    the static evidence that someone watches its age.

    ## Example
    A model served from `serve.py`, retrained whenever someone remembers to run
    `python train.py`.

    ## Instead
    ```yaml
    on:
      schedule: [{cron: "0 3 * * 1"}]   # every Monday
    jobs:
      retrain:
        steps: [{run: "dvc repro && python evaluate.py --min-auc 0.8"}]
    ```
    """
    scheduled: list[CIRun] = [
        r for k in _SCHEDULED_KINDS for r in facts.tools.ci_runs(k) if _recurring(r)
    ]
    if scheduled:
        best = max(scheduled, key=lambda r: r.strength)
        return Outcome.passed(best.evidence())
    nightly = [
        r for k in _SCHEDULED_KINDS for r in facts.tools.ci_runs(k) if "schedule" in r.triggers
    ]
    other = _scheduler_evidence(facts)
    if other is not None:
        return Outcome.passed(other)
    modules, notebooks = training_code(facts)
    if not modules and not notebooks and not facts.tools.ci("train"):
        return Outcome.not_applicable("no training code in the repository")
    anchor = ci_files(facts)[0] if ci_files(facts) else training_anchor(modules or notebooks)
    note = ""
    if nightly:
        note = (
            f"job '{nightly[0].job}' in {nightly[0].path} also runs on a schedule, but as part of "
            "the CI run on every change, not as a recurring retraining or evaluation"
        )
    return Outcome.failed(
        Hit(
            "no scheduled job retrains or re-evaluates the deployed model: add a cron-"
            "triggered job (or a scheduled pipeline) that trains or evaluates it",
            anchor,
            1,
        ),
        note=note,
    )


def _recurring(run: CIRun) -> bool:
    """A job that runs on a schedule and not on every change: a recurring ML job, not CI."""
    return "schedule" in run.triggers and not run.triggers & {"push", "pull_request"}


#: where Kubernetes manifests that could hold a CronJob live (reading every YAML is slow)
_MANIFEST_HINT = re.compile(r"cron|k8s|kube|deploy|manifest|helm|chart|schedul|retrain|infra", re.I)
_CRON_ML = re.compile(r"train|evaluat|retrain|drift|validat", re.I)


def _scheduler_evidence(facts: Facts) -> Evidence | None:
    """A Kubernetes CronJob or an Airflow DAG with a schedule that trains or evaluates."""
    for rel in facts.files.with_suffix(".yaml", ".yml"):
        if facts.files.size(rel) > 200_000 or not _MANIFEST_HINT.search(rel):
            continue
        text = facts.files.read_text(rel) or ""
        if re.search(r"^kind:\s*CronJob\b", text, re.M) and _CRON_ML.search(text):
            return Evidence(
                f"Kubernetes CronJob in {rel} trains or evaluates", Strength.AUTOMATED, rel, 1
            )
    for m in facts.python.importers("airflow", "prefect", "dagster", tests=False):
        if re.search(r"schedule(_interval)?\s*=\s*['\"@]", m.source) and _CRON_ML.search(m.source):
            return Evidence(
                f"scheduled workflow in {m.path} trains or evaluates", Strength.AUTOMATED, m.path, 1
            )
    return None


@rule(
    code="CI010",
    name="ci-without-ml-audit",
    title="CI runs an ML readiness audit",
    severity="low",
    practices=(),
)
def ci_without_ml_audit(facts: Facts) -> Outcome:
    """## What it finds
    CI that never runs `steward audit` (or mllint), directly, through a target or through
    a pre-commit hook. A pre-commit hook that CI does not run gives half the score.

    ## Why it matters
    An audit that runs on every pull request keeps the readiness score from eroding: a
    new notebook without a seed or a removed test shows up in review, not months later.

    ## Example
    A repository that ran `steward audit` once, by hand, and never again.

    ## Instead
    ```yaml
      - run: pip install mlsteward && steward audit --fail-under 60
    ```
    """
    run = facts.tools.ci("audit")
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    use = facts.tools.use("steward", "mllint")
    if use is not None:
        return Outcome.partial(
            0.5,
            Hit("the audit runs only locally: run it in CI too", use.path, use.line),
            evidence=[use.evidence()],
        )
    files = ci_files(facts)
    if not files:
        return Outcome.failed(no_ci_hit(facts, "an ML readiness audit"))
    return Outcome.failed(
        Hit("CI never runs an ML readiness audit: add a step `steward audit`", files[0], 1)
    )
