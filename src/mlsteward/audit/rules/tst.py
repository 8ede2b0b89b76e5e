"""TST: tests exist, cover the ML code that most needs them, and check ML behaviour.

Tests are found by pytest's conventions (`facts.tests`); "covered" means a test module
imports the module (or a project module that imports it, for half credit). Evidence is
*present* when the tests exist and *automated* or *enforced* when CI runs them, so the
ML Test Score can give a test its full point.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts import Facts
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.ci import training_anchor, training_code

if TYPE_CHECKING:
    from mlsteward.audit.facts.python import Module
    from mlsteward.audit.facts.tests import Target

__all__ = ["ci_test_evidence"]

#: pytest options whose value is the next word (so it is not a test path)
_VALUE_OPTIONS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-c",
        "-n",
        "-o",
        "--junitxml",
        "--rootdir",
        "--cov",
        "--cov-report",
        "--cov-config",
        "--ignore",
        "--deselect",
        "--durations",
        "--maxfail",
        "--tb",
        "-W",
        "--timeout",
        "--basetemp",
        "--confcutdir",
        "--log-level",
        "--dist",
        "--reruns",
    }
)
_PYTEST = re.compile(r"\b(?:py\.test|pytest)\b(.*)")
_CD = re.compile(r"\bcd\s+([^\s;&|]+)")


def _covers(text: str, paths: Sequence[str]) -> bool:
    """Whether a test command runs any of ``paths`` (pytest without a path runs them all)."""
    for line in text.splitlines():
        match = _PYTEST.search(line)
        if match is None:
            continue
        cds = _CD.findall(text[: text.find(line)] + line[: match.start()])
        base = cds[-1].strip("./") if cds else ""
        try:
            args = shlex.split(match.group(1), comments=True)
        except ValueError:
            args = match.group(1).split()
        selected: list[str] = []
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("&&", ";", "|", "||"):
                break
            if a.startswith("-"):
                skip = a in _VALUE_OPTIONS
                continue
            if a.startswith("$") or "=" in a:
                continue
            selected.append("/".join(p for p in (base, a.split("::")[0].strip("./")) if p))
        if not selected:
            selected = [base] if base else []
        if not selected or any(
            p == s or p.startswith(s + "/") or not s for s in selected for p in paths
        ):
            return True
    # tox, nox, make test and the like: the tests they run are not visible here
    return not _PYTEST.search(text)


def ci_test_evidence(facts: Facts, paths: Iterable[str] = ()) -> Evidence | None:
    """The strongest CI run of the tests that covers ``paths`` (all tests when empty)."""
    wanted = list(paths)
    best = None
    for run in facts.tools.ci_runs("test"):
        if wanted and not _covers(run.text, wanted):
            continue
        if best is None or run.strength > best.strength:
            best = run
    return best.evidence() if best else None


def _with_ci(facts: Facts, evidence: list[Evidence], paths: Iterable[str]) -> list[Evidence]:
    ev = ci_test_evidence(facts, paths)
    return [*evidence, ev] if ev is not None and ev.strength >= Strength.AUTOMATED else evidence


def _coverage(facts: Facts, targets: Sequence[Target], what: str, fix: str) -> Outcome:
    """Score targets by tests: direct import 1, through another project module 0.5."""
    tests = facts.tests
    hits: list[Hit] = []
    evidence: list[Evidence] = []
    score = 0.0
    covering: list[str] = []
    for t in targets:
        direct = tests.tested(t.path)
        if direct:
            score += 1
            covering += direct
            evidence.append(
                Evidence(
                    f"{t.path} is imported by {direct[0]}"
                    + (f" and {len(direct) - 1} more" if len(direct) > 1 else ""),
                    Strength.PRESENT,
                    direct[0],
                    1,
                )
            )
            continue
        reached = tests.reached(t.path)
        if reached:
            score += 0.5
            covering += reached
            hits.append(
                Hit(
                    f"{what} {t.path} is reached by tests ({reached[0]}) only through "
                    f"other modules: {fix}",
                    t.path,
                    t.line,
                )
            )
        else:
            hits.append(Hit(f"no test imports {what} {t.path} ({t.reason}): {fix}", t.path, t.line))
    total = len(targets)
    note = f"{score:g} of {total} module(s) covered by tests"
    evidence = _with_ci(facts, evidence[:5], covering)
    return Outcome.partial(score / total, *hits, evidence=evidence, note=note)


def _no_model_code(notebooks: Sequence[Module], only_notebooks: str) -> Outcome:
    """Not applicable: there is no model code outside notebooks to test."""
    if notebooks:
        return Outcome.not_applicable(f"{only_notebooks} ({notebooks[0].path})")
    return Outcome.not_applicable("no code that defines or trains a model")


def _passed_by_tests(facts: Facts, found: Sequence[Any], note: str) -> Outcome:
    """Passed on the first test found, with CI's strength when CI runs those tests."""
    first = found[0]
    text = f"{first.path}::{first.case.name} {first.reason}"
    ev = [Evidence(text, Strength.PRESENT, first.path, first.where)]
    return Outcome.passed(*_with_ci(facts, ev, [f.path for f in found]), note=note)


@rule(
    code="TST001",
    name="no-tests",
    title="The repository has automated tests",
    severity="high",
    practices=("seml-24",),
)
def no_tests(facts: Facts) -> Outcome:
    """## What it finds
    Repositories without tests: no `test_*.py` / `*_test.py` module, nothing under a
    `tests/` folder, no module the pytest config's `python_files` matches and no
    `unittest.TestCase` subclass, that defines at least one test function. Test files that
    define no test are reported too.

    ## Why it matters
    SE-ML "Run Automated Regression Tests" (seml-24): without tests every change to data
    loading, features or training code is checked only by rerunning experiments by eye.
    The evidence is stronger (automated) when CI runs the tests.

    ## Example
    ```
    src/model.py
    src/train.py
    notebooks/exploration.ipynb
    ```

    ## Instead
    Add `tests/test_model.py` with a first test (the model builds, a forward pass has the
    expected shape) and run `pytest` in CI.
    """
    tests = facts.tests
    if tests.count and tests.example is not None:
        first = tests.example
        ev = [
            Evidence(
                f"{tests.count} test(s) in {len(tests.modules)} module(s), e.g. {first.path}",
                Strength.PRESENT,
                first.path,
                tests.cases_in(first.path)[0].line,
            )
        ]
        return Outcome.passed(*_with_ci(facts, ev, ()))
    cfg = facts.tools.pytest
    if cfg is not None and "--doctest-modules" in cfg.addopts:
        return Outcome.passed(
            Evidence(
                f"pytest runs doctests (--doctest-modules in {cfg.path})",
                Strength.PRESENT,
                cfg.path,
                cfg.line,
            )
        )
    empty = [m for m in tests.support if not m.path.endswith(("conftest.py", "__init__.py"))]
    named = [m for m in empty if m.path.rpartition("/")[2].startswith("test")]
    if named:
        return Outcome.failed(
            *[
                Hit(
                    f"{m.path} defines no test function (pytest collects `test_*` functions)",
                    m.path,
                    1,
                )
                for m in named[:5]
            ]
        )
    return Outcome.failed(
        Hit(
            "no tests: add a tests/ folder with test_*.py modules and run pytest",
            facts.files.anchor("README*", "pyproject.toml", "setup.py"),
            1,
        )
    )


@rule(
    code="TST002",
    name="feature-code-untested",
    title="Feature code is tested",
    severity="medium",
    practices=("seml-11", "mts-data-7"),
    applies_when=("features",),
)
def feature_code_untested(facts: Facts) -> Outcome:
    """## What it finds
    Modules that build features (a path or name with *feature*, *transform*, *preprocess*,
    *encoding*, and code that uses a data library such as pandas, numpy or scikit-learn)
    that no test imports. A module reached by tests only through another project module
    counts half. Docs, examples and templates are left out. Not applicable when no module
    looks like feature code (notebooks are not counted: see CQ006) or when the project has
    no hand-made features.

    ## Why it matters
    SE-ML "Test all Feature Extraction Code" (seml-11) and ML Test Score Data 7, "All input
    feature code is tested": a bug in feature code silently corrupts every model trained
    on its output, and nothing downstream fails.

    ## Example
    `src/features/build_features.py` with `def add_ratios(df): ...` and tests only for the
    model.

    ## Instead
    ```python
    # tests/test_build_features.py
    from mypkg.features.build_features import add_ratios

    def test_add_ratios_handles_zero_denominator():
        out = add_ratios(pd.DataFrame({"a": [1], "b": [0]}))
        assert out["a_per_b"].isna().all()
    ```
    """
    targets = facts.tests.feature_targets
    if not targets:
        return Outcome.not_applicable(
            "no module named after features (feature, transform, preprocess, encoding) that "
            "works with a data library"
        )
    return _coverage(
        facts,
        targets,
        "feature module",
        "add a test that imports it and checks its output on a small frame",
    )


@rule(
    code="TST003",
    name="data-prep-code-untested",
    title="Data preparation code is tested",
    severity="medium",
    practices=("seml-4",),
)
def data_prep_code_untested(facts: Facts) -> Outcome:
    """## What it finds
    Modules that load, clean, merge or split data (a path or name with *data*, *dataset*,
    *clean*, *etl*, *ingest*, *prepare*, *merge*, and code that uses a data library) that
    no test imports. A module reached only through another project module counts half.
    Not applicable when no module looks like data preparation code.

    ## Why it matters
    SE-ML "Write Reusable Scripts for Data Cleaning and Merging" (seml-4): cleaning code
    is reusable when it lives in a module with tests that pin its behaviour, so the same
    preparation can be rerun and trusted.

    ## Example
    `src/data/clean.py` with `def drop_duplicates_and_outliers(df)` and no test.

    ## Instead
    Test each cleaning step on a tiny hand-made frame: duplicates removed, outliers
    clipped, column types as expected.
    """
    targets = facts.tests.dataprep_targets
    if not targets:
        return Outcome.not_applicable(
            "no module named after data preparation (data, dataset, clean, etl, prepare, "
            "merge) that works with a data library"
        )
    return _coverage(
        facts,
        targets,
        "data preparation module",
        "add a test that runs it on a tiny hand-made sample",
    )


@rule(
    code="TST004",
    name="model-code-untested",
    title="Model code is unit tested",
    severity="high",
    practices=("mts-infra-2",),
    applies_when=("model",),
)
def model_code_untested(facts: Facts) -> Outcome:
    """## What it finds
    Modules that define models (subclasses of `torch.nn.Module`, Lightning, Keras or Flax
    modules, scikit-learn estimators, also through another project class) or functions
    that build or train them (`build_model`, `train`, `fit_model`) that no test imports.
    Not applicable when model code lives only in notebooks or there is none.

    ## Why it matters
    ML Test Score Infrastructure 2, "Model specs are unit tested": a test that builds the
    model, runs one step on a tiny batch and checks the loss falls catches a broken
    architecture or config in seconds instead of after hours of training.

    ## Example
    `src/model.py` defining `class Net(nn.Module)`, and tests only for the data loader.

    ## Instead
    ```python
    def test_net_overfits_one_batch():
        net, x, y = Net(), torch.randn(8, 4), torch.randint(0, 2, (8,))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        first = last = None
        for _ in range(20):
            opt.zero_grad(); loss = F.cross_entropy(net(x), y); loss.backward(); opt.step()
            first, last = first or loss.item(), loss.item()
        assert last < first
    ```
    """
    targets = facts.tests.model_targets
    if not targets:
        _, notebooks = training_code(facts)
        if notebooks:
            return Outcome.not_applicable(
                f"model code lives only in notebooks ({notebooks[0].path})"
            )
        return Outcome.not_applicable("no module defines or trains a model")
    return _coverage(
        facts,
        targets,
        "model module",
        "add a test that builds the model and runs one training step",
    )


@rule(
    code="TST005",
    name="no-pipeline-test",
    title="The ML pipeline has an end-to-end test",
    severity="medium",
    practices=("mts-infra-3",),
    applies_when=("model",),
)
def no_pipeline_test(facts: Facts) -> Outcome:
    """## What it finds
    Projects with training code but no test that runs the pipeline end to end: no test
    that trains and then predicts or evaluates, calls the project's training entry point,
    or runs `dvc repro` / `python train.py` / `mlflow run` through a subprocess or CLI
    runner. Not applicable without training code outside notebooks.

    ## Why it matters
    ML Test Score Infrastructure 3, "The ML pipeline is integration tested": each stage
    can pass its unit tests while the stages no longer fit together (a renamed column, a
    changed file format). Only a run through the whole pipeline on tiny data shows it.

    ## Example
    Unit tests for `features.py` and `model.py`, and no test that goes from raw rows to a
    prediction.

    ## Instead
    ```python
    def test_pipeline_end_to_end(tmp_path):
        model = train(load_sample("tests/data/sample.csv"), epochs=1, out=tmp_path)
        preds = predict(model, load_sample("tests/data/sample.csv"))
        assert len(preds) == 20
    ```
    """
    modules, notebooks = training_code(facts)
    if not modules and not facts.files.named("dvc.yaml"):
        return _no_model_code(notebooks, "training happens only in notebooks")
    found = facts.tests.pipeline_tests
    if found:
        return _passed_by_tests(facts, found, f"{len(found)} end-to-end test(s)")
    anchor = training_anchor(modules) or facts.files.named("dvc.yaml")[0]
    return Outcome.failed(
        Hit(
            "no test runs the training pipeline end to end: add one that trains on a tiny "
            "sample and predicts",
            anchor,
            1,
        )
    )


@rule(
    code="TST006",
    name="no-ml-regression-tests",
    title="Tests check model quality or golden predictions",
    severity="medium",
    practices=("seml-24",),
)
def no_ml_regression_tests(facts: Facts) -> Outcome:
    """## What it finds
    ML projects whose tests never check what the model does: no assertion of a metric
    bound (`assert accuracy >= 0.9`, `assert loss < first_loss`), no metric pinned with
    `pytest.approx`, no predictions compared with expected or golden values
    (`np.testing.assert_allclose(preds, expected)`). Only tests that use an ML library or
    the project's ML code count. Not applicable without ML code outside notebooks.

    ## Why it matters
    SE-ML "Run Automated Regression Tests" (seml-24) names ML-specific regression tests:
    golden predictions and metric floors catch the silent failures (a shifted
    preprocessing step, a dependency that changed numerics) that unit tests pass over.

    ## Example
    Tests that check `model(x).shape == (8, 2)` and nothing about what it predicts.

    ## Instead
    ```python
    def test_model_meets_quality_bar(trained_model, holdout):
        assert accuracy(trained_model, holdout) >= 0.85

    def test_golden_predictions(trained_model):
        np.testing.assert_allclose(trained_model.predict(GOLDEN_X), GOLDEN_Y, atol=1e-4)
    ```
    """
    modules, notebooks = training_code(facts)
    if not modules and not facts.files.named("dvc.yaml"):
        return _no_model_code(notebooks, "ML code lives only in notebooks")
    checks = facts.tests.quality_checks
    if checks:
        return _passed_by_tests(facts, checks, f"{len(checks)} test(s) check model quality")
    dvc = facts.files.named("dvc.yaml")
    where = training_anchor(modules) or (dvc[0] if dvc else facts.files.anchor("README*"))
    return Outcome.failed(
        Hit(
            "no test checks model quality: assert a metric floor or compare predictions with "
            "golden values on a fixed sample",
            where,
            1,
        )
    )


_TASK_TEST = re.compile(r"\b(py\.test|pytest|unittest|nosetests)\b")


@rule(
    code="TST007",
    name="no-test-config",
    title="How to run the tests is configured",
    severity="low",
    practices=("seml-24",),
)
def no_test_config(facts: Facts) -> Outcome:
    """## What it finds
    Test suites with no runner configuration: no pytest config (`pytest.ini`,
    `[tool.pytest.ini_options]`, `[tool:pytest]` in setup.cfg, `[pytest]` in tox.ini), no
    tox or nox file, no Makefile/justfile/Hatch/Poe target that runs the tests. A
    `conftest.py` alone gives half the score. Not applicable without tests.

    ## Why it matters
    A configured runner (test paths, markers, warnings as errors) makes `pytest` mean the
    same thing on every machine and in CI, which is what makes the suite a regression
    test (seml-24) rather than a folder of scripts.

    ## Example
    `tests/test_model.py`, and no `[tool.pytest.ini_options]` or tox.ini.

    ## Instead
    ```toml
    [tool.pytest.ini_options]
    testpaths = ["tests"]
    addopts = "-ra --strict-markers"
    filterwarnings = ["error"]
    ```
    """
    tests = facts.tests
    if not tests.count:
        return Outcome.not_applicable("no tests to configure")
    tools = facts.tools
    cfg = tools.pytest
    if cfg is not None:
        return Outcome.passed(
            Evidence(f"pytest configured in {cfg.path}", Strength.PRESENT, cfg.path, cfg.line)
        )
    for task in tools.tasks:
        cmd = next((c for c in task.commands if _TASK_TEST.search(c.text)), None)
        if cmd is not None:
            return Outcome.passed(
                Evidence(
                    f"{task.runner} {task.name} runs the tests: `{cmd.text[:60]}`",
                    Strength.PRESENT,
                    task.path,
                    cmd.line or task.line,
                )
            )
    for name in ("tox", "nox"):
        use = tools.use(name)
        if use is not None:
            return Outcome.passed(use.evidence())
    conftest = [m for m in tests.support if m.path.endswith("conftest.py")]
    hit = Hit(
        "no test runner configuration: add [tool.pytest.ini_options] with testpaths "
        "to pyproject.toml (or a pytest.ini / tox.ini)",
        facts.files.anchor("pyproject.toml", "setup.cfg", "README*"),
        1,
    )
    if conftest:
        return Outcome.partial(
            0.5,
            hit,
            evidence=[
                Evidence(
                    f"pytest fixtures in {conftest[0].path}", Strength.PRESENT, conftest[0].path, 1
                )
            ],
        )
    return Outcome.failed(hit)


_BENCH_TEST = re.compile(r"def\s+test\w*\([^)]*\bbenchmark\b|pytest\.mark\.benchmark|codspeed")
_ASV_BENCH = re.compile(r"^\s*def\s+(time|peakmem|mem|track)_\w+\(", re.M)


@rule(
    code="TST008",
    name="no-performance-benchmarks",
    title="Training or serving performance is benchmarked",
    severity="low",
    practices=("mts-monitor-6",),
    applies_when=("deployed",),
)
def no_performance_benchmarks(facts: Facts) -> Outcome:
    """## What it finds
    Deployed projects without performance benchmarks: no pytest-benchmark or CodSpeed
    test, no airspeed velocity (asv) suite, no benchmark job in CI. Applies only when the
    project is deployed.

    ## Why it matters
    ML Test Score Monitoring 6, "Computing performance has not regressed": training
    speed, serving latency and memory drift up slowly with each change; a benchmark that
    runs routinely shows both the sudden jumps and the slow creep.

    ## Example
    A FastAPI model server with unit tests and no timing of `predict`.

    ## Instead
    ```python
    def test_predict_latency(benchmark, model, batch):
        benchmark(model.predict, batch)
    ```
    and run `pytest --benchmark-autosave` in CI, or an asv suite on a schedule.
    """
    run = facts.tools.ci("benchmark")
    if run is not None and run.strength >= Strength.AUTOMATED:
        return Outcome.passed(run.evidence())
    for m in facts.tests.modules:
        match = (
            _BENCH_TEST.search(m.source)
            if "benchmark" in m.source or "codspeed" in m.source
            else None
        )
        if match:
            line = m.source.count("\n", 0, match.start()) + 1
            return Outcome.passed(
                *_with_ci(
                    facts,
                    [Evidence(f"benchmark test in {m.path}", Strength.PRESENT, m.path, line)],
                    [m.path],
                )
            )
    asv = facts.files.named("asv.conf.json")
    if asv:
        return Outcome.passed(
            Evidence(f"airspeed velocity suite ({asv[0]})", Strength.PRESENT, asv[0], 1)
        )
    for m in facts.python.modules:
        if "benchmark" in m.path.lower() and not m.is_notebook and _ASV_BENCH.search(m.source):
            return Outcome.passed(
                Evidence(f"benchmark functions in {m.path}", Strength.PRESENT, m.path, 1)
            )
    if run is not None:
        return Outcome.partial(
            0.5,
            Hit("benchmarks run only by hand: run them in CI", run.path, run.line),
            evidence=[run.evidence()],
        )
    return Outcome.failed(
        Hit(
            "no performance benchmark: add pytest-benchmark tests for training and predict latency",
            facts.files.anchor("README*", "pyproject.toml"),
            1,
        )
    )


#: mllint's expectation: one line of tests for every four lines of code
_RATIO = 0.25


@rule(
    code="TST009",
    name="thin-test-suite",
    title="Test code is proportionate to source code",
    severity="low",
    practices=("seml-24",),
)
def thin_test_suite(facts: Facts) -> Outcome:
    """## What it finds
    Projects whose test code is small next to their source code: fewer than one line of
    tests for every four lines of project code (blank and comment lines left out; docs,
    examples and notebooks not counted). The score is the ratio over 1:4. Not applicable
    when the project has no Python modules outside notebooks.

    ## Why it matters
    A rough but honest signal for how much of the code regression tests (seml-24) can
    protect; mllint uses the same 1:4 target.

    ## Example
    4,000 lines in `src/` and one 40-line `tests/test_smoke.py`.

    ## Instead
    Grow the suite where bugs hurt most: feature code, data preparation, model building
    and the training loop.
    """
    tests = facts.tests
    source = tests.source_lines
    if not source:
        return Outcome.not_applicable("no Python modules outside notebooks")
    ratio = tests.test_lines / source
    ev = Evidence(
        f"{tests.test_lines} lines of tests for {source} lines of code "
        f"(1:{source / tests.test_lines:.1f})"
        if tests.test_lines
        else f"no test code for {source} lines of code",
        Strength.PRESENT,
        tests.modules[0].path if tests.modules else None,
        None,
    )
    if ratio >= _RATIO:
        return Outcome.passed(ev)
    hit = Hit(
        f"{tests.test_lines} lines of tests for {source} lines of code, below one for "
        "every four: add tests for the untested modules",
        tests.modules[0].path if tests.modules else facts.files.anchor("README*", "pyproject.toml"),
        1,
    )
    return Outcome.partial(ratio / _RATIO, hit, evidence=[ev] if tests.test_lines else [])
