"""SML010, SML021, SML022: feature-engineering and evaluation smells of scikit-learn code.

Like seeds, preprocessing is judged per process: a notebook must scale its own features;
the Python modules of a repository are one program, so a scaler in any of them counts.
"""

from __future__ import annotations

import ast

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.sml_ast import (
    assigned_calls,
    bind_targets,
    cached,
    calls,
    hit,
    is_const,
    kwarg,
    last,
    line_of,
    parsed,
    root_name,
    scope_of,
    smell_outcome,
    words,
)

_SK = ("sklearn", "imblearn")


def _sk_name(m: Module, name: str, *prefixes: str) -> bool:
    """``name`` is a scikit-learn (or the given libraries') name, or a star-imported bare one."""
    cls = last(name)
    return name.startswith(("sklearn.", *prefixes)) or (name == cls and m.imports_any("sklearn"))


# -- SML010 ------------------------------------------------------------------------------------

_SCALERS = words(
    """
    StandardScaler MinMaxScaler MaxAbsScaler RobustScaler Normalizer QuantileTransformer
    PowerTransformer scale minmax_scale robust_scale maxabs_scale normalize
    quantile_transform power_transform
    """
)
_SENSITIVE = words(
    """
    SVC SVR LinearSVC LinearSVR NuSVC NuSVR KNeighborsClassifier KNeighborsRegressor
    RadiusNeighborsClassifier RadiusNeighborsRegressor MLPClassifier MLPRegressor
    SGDClassifier SGDRegressor PCA KernelPCA LogisticRegression
    """
)


_TEXT_FEATURES = frozenset({"TfidfVectorizer", "TfidfTransformer", "HashingVectorizer"})


def _scales(m: Module) -> ast.AST | None:
    """Where this file scales features: a sklearn scaler, or (x - mean) / std, or / 255."""
    for a in m.nodes(ast.ImportFrom):
        if a.module and a.module.startswith("sklearn") and any(n.name in _SCALERS for n in a.names):
            return a
    for call, name in calls(m):
        if last(name) in _SCALERS and _sk_name(m, name):
            return call
        if last(name) in _TEXT_FEATURES and _sk_name(m, name):
            return call  # tf-idf rows are normalised; counts and hashes share one unit
    for op in m.nodes(ast.BinOp):
        if not isinstance(op.op, ast.Div):
            continue
        right = ast.unparse(op.right)
        if "std" in right or ("max" in right and "min" in right):
            return op
        if is_const(op.right, 255, 255.0, 256, 256.0):
            return op
    return None


def _reads_table(m: Module) -> bool:
    """The file loads tabular data with pandas (features of mixed units, as a rule) and
    makes no synthetic data (make_moons, make_blobs: features on one scale by design)."""
    if not m.imports_any("pandas"):
        return False
    names = [name for _, name in calls(m)]
    return any(n.startswith("pandas.read_") for n in names) and not any(
        n.startswith("sklearn.datasets.make_") for n in names
    )


def _sensitive(m: Module, call: ast.Call, name: str) -> bool:
    cls = last(name)
    if cls not in _SENSITIVE or not _sk_name(m, name):
        return False
    if cls == "LogisticRegression":
        penalty = kwarg(call, "penalty")
        return penalty is not None and not is_const(penalty, "none", None)
    return True


@rule(
    code="SML010",
    name="no-scaling-before-sensitive-operation",
    title="Features are scaled before scale-sensitive models",
    severity="medium",
    practices=("smell-10",),
    scope="code",
)
def no_scaling_before_sensitive_operation(facts: Facts) -> Outcome:
    """## What it finds
    Scale-sensitive scikit-learn models (SVMs, nearest neighbours, MLPs, SGD models, PCA,
    `LogisticRegression` with an explicit `penalty`) in code that reads tables
    (`pd.read_*`) where nothing scales the features: no `StandardScaler`/`MinMaxScaler`/
    `RobustScaler`/... (in a Pipeline or alone), no `(x - mean) / std`, no `/ 255`, no
    TF-IDF or hashing vectoriser (text features share one unit), and no synthetic data
    (`make_moons`). A notebook must scale its own features; in the Python modules a scaler
    in any module counts. Test files are skipped.

    ## Why it matters
    These models measure distances or penalise weights, so a feature in thousands (income)
    drowns one in units (age) and the model effectively ignores most features; PCA finds
    the direction of the largest unit instead of the largest structure (smell-10, No
    Scaling Before Scaling-sensitive Operation).

    ## Example
    ```python
    df = pd.read_csv("customers.csv")
    model = SVC(C=1.0).fit(df[features], df["churn"])
    ```

    ## Instead
    ```python
    model = make_pipeline(StandardScaler(), SVC(C=1.0)).fit(df[features], df["churn"])
    ```
    """
    mods = parsed(facts, "sklearn")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports scikit-learn")
    candidates = [(m, c, n) for m in mods for c, n in calls(m) if _sensitive(m, c, n)]
    program = [m for m in parsed(facts) if not m.is_notebook] if candidates else []
    program_pandas = any(_reads_table(m) for m in program)
    program_scaler: tuple[Module, ast.AST] | None = None
    for m in program:
        where = _scales(m)
        if where is not None:
            program_scaler = (m, where)
            break
    hits: list[Hit] = []
    for m, call, name in candidates:
        tabular = _reads_table(m) if m.is_notebook else program_pandas
        if not tabular or (_scales(m) if m.is_notebook else program_scaler) is not None:
            continue
        hits.append(
            hit(
                m,
                call,
                f"{last(name)} is sensitive to feature scale but nothing "
                "scales the features: put a StandardScaler before it in a Pipeline",
            )
        )
    evidence = []
    if program_scaler is not None:
        sm, node = program_scaler
        evidence.append(
            Evidence(
                f"features scaled: {sm.line(line_of(node)).strip()}",
                Strength.PRESENT,
                sm.path,
                line_of(node),
            )
        )
    return Outcome.from_hits(
        hits,
        evidence=evidence
        or ([] if hits else [Evidence(f"{len(candidates)} scale-sensitive model(s) checked")]),
        note=f"{len(mods)} file(s) using scikit-learn checked",
    )


# -- SML021 ------------------------------------------------------------------------------------

#: transformers whose fit learns from the data it sees (statistics, vocabularies, selections)
_LEARNING_TRANSFORMERS = words(
    """
    StandardScaler MinMaxScaler MaxAbsScaler RobustScaler QuantileTransformer
    PowerTransformer SimpleImputer KNNImputer IterativeImputer PCA TruncatedSVD KernelPCA
    SelectKBest SelectPercentile SelectFromModel RFE RFECV SequentialFeatureSelector
    TfidfVectorizer KBinsDiscretizer TargetEncoder SMOTE ADASYN BorderlineSMOTE SVMSMOTE
    RandomOverSampler SMOTENC SMOTETomek SMOTEENN
    """
)
_SPLITS = words(
    """
    train_test_split cross_val_score cross_validate cross_val_predict learning_curve
    validation_curve permutation_test_score
    """
)
_SPLITTERS = words(
    """
    KFold StratifiedKFold GroupKFold RepeatedKFold RepeatedStratifiedKFold ShuffleSplit
    StratifiedShuffleSplit GroupShuffleSplit TimeSeriesSplit StratifiedGroupKFold
    LeaveOneOut LeavePOut
    """
)


#: transformers that learn from the target or the class balance: a leak even within CV
_STRONG_LEAK = words(
    """
    SelectKBest SelectPercentile SelectFromModel RFE RFECV SequentialFeatureSelector
    TargetEncoder SMOTE ADASYN BorderlineSMOTE SVMSMOTE RandomOverSampler SMOTENC
    SMOTETomek SMOTEENN
    """
)


def _stores(m: Module) -> dict[str, list[ast.Name]]:
    """Name -> the places it is bound (assignment, loop or with target)."""

    def build(mod: Module) -> dict[str, list[ast.Name]]:
        out: dict[str, list[ast.Name]] = {}
        for n in mod.nodes(ast.Name):
            if isinstance(n.ctx, ast.Store):
                out.setdefault(n.id, []).append(n)
        return out

    return cached(m, "stores", build)


def _rebound(m: Module, name: str, scope: ast.AST, after: int, before: int) -> bool:
    """``name`` is bound again between two lines of the same scope (it is other data now)."""
    return any(
        after < n.lineno < before and scope_of(m, n) is scope for n in _stores(m).get(name, [])
    )


def _derived(m: Module, scope: ast.AST, seeds: set[str], after: int, before: int) -> set[str]:
    """Names holding data made from ``seeds`` at line ``before``: ``X_t = torch.tensor(X_s)``
    keeps the taint, ``X_s = load()`` removes it (assignments in line order)."""
    tainted = set(seeds)
    steps = sorted(
        (n for n in m.nodes(ast.Assign) if after < n.lineno < before and scope_of(m, n) is scope),
        key=lambda n: n.lineno,
    )
    for node in steps:
        uses = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        targets = {t for target in node.targets for t in bind_targets(target)}
        if uses & tainted:
            tainted |= targets
        else:
            tainted -= targets
    return tainted


def _applications(m: Module, owner: str, scope: ast.AST, after: int) -> list[ast.Call]:
    """``owner.transform(...)`` calls after line ``after`` in ``scope``, until it is rebound."""
    out: list[ast.Call] = []
    for call in m.nodes(ast.Call):
        f = call.func
        if (
            isinstance(f, ast.Attribute)
            and f.attr == "transform"
            and isinstance(f.value, ast.Name)
            and f.value.id == owner
            and call.lineno > after
            and scope_of(m, call) is scope
            and not _rebound(m, owner, scope, after, call.lineno)
        ):
            out.append(call)
    return out


def _transformer(m: Module, owner: ast.AST) -> str | None:
    """The learning transformer ``owner`` is (``StandardScaler()``) or is bound to, if any."""
    if isinstance(owner, ast.Call):
        name = m.qualname(owner.func) or ""
        return (
            last(name)
            if last(name) in _LEARNING_TRANSFORMERS and _sk_name(m, name, "imblearn.")
            else None
        )
    if isinstance(owner, ast.Name):
        for name in assigned_calls(m).get(owner.id, []):
            if last(name) in _LEARNING_TRANSFORMERS and _sk_name(m, name, "imblearn."):
                return last(name)
    return None


def _evaluates_on(m: Module, call: ast.Call, name: str) -> bool:
    """A split or cross-validation call: train_test_split(...), kf.split(...), search.fit(...)."""
    if last(name) in _SPLITS and _sk_name(m, name):
        return True
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        bound = assigned_calls(m).get(f.value.id, [])
        if f.attr == "split":
            return any(last(b) in _SPLITTERS for b in bound)
        if f.attr == "fit":
            return any(last(b).endswith("SearchCV") for b in bound)
    return False


@rule(
    code="SML021",
    name="data-leakage-fit-before-split",
    title="Preprocessing is fitted on training data only",
    severity="high",
    practices=("smell-21",),
    scope="code",
)
def data_leakage_fit_before_split(facts: Facts) -> Outcome:
    """## What it finds
    A scaler, imputer, feature selector, PCA, TF-IDF vectoriser or oversampler (SMOTE)
    fitted with `.fit`, `.fit_transform` or `.fit_resample` on data that the same function
    later splits or cross-validates: the data (or the transformed result) is passed to
    `train_test_split`, `cross_val_score`/`cross_validate`/`cross_val_predict`, a splitter's
    `.split(...)` or a `GridSearchCV(...).fit(...)` after the fit. Test files are skipped.

    ## Why it matters
    The transformer has seen the test rows: means, vocabularies, selected features and
    synthetic samples carry information from the evaluation data into training, so the
    reported score is better than what the model will achieve on new data (smell-21, Data
    Leakage).

    ## Example
    ```python
    X_scaled = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X_scaled, y, random_state=0)
    ```

    ## Instead
    ```python
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    # cross-validation: cross_val_score(make_pipeline(StandardScaler(), clf), X, y)
    ```
    """
    mods = parsed(facts, *_SK)
    if not mods:
        return Outcome.not_applicable("no module or notebook imports scikit-learn")
    hits: list[Hit] = []
    for m in mods:
        evaluations = [(c, n) for c, n in calls(m) if _evaluates_on(m, c, n)]
        if not evaluations:
            continue
        for fit in m.nodes(ast.Call):
            f = fit.func
            if not (
                isinstance(f, ast.Attribute) and f.attr in ("fit", "fit_transform", "fit_resample")
            ):
                continue
            if not fit.args:
                continue
            cls = _transformer(m, f.value)
            if cls is None:
                continue
            data_name = root_name(fit.args[0])
            if data_name is None:
                continue
            # scaling the training part and cross-validating on it leaks little; selecting
            # features or oversampling on it leaks a lot
            if "train" in data_name.lower() and cls not in _STRONG_LEAK:
                continue
            scope = scope_of(m, fit)
            results: set[str] = set()
            parent = m.parents.get(fit)
            if isinstance(parent, ast.Assign):
                for t in parent.targets:
                    results.update(bind_targets(t))
            owner = f.value.id if isinstance(f.value, ast.Name) else None
            applied = _applications(m, owner, scope, fit.lineno) if owner else []
            for node in applied:  # Xs = scaler.transform(X) after scaler.fit(X)
                p = m.parents.get(node)
                if isinstance(p, ast.Assign) and node.args and root_name(node.args[0]) == data_name:
                    for t in p.targets:
                        results.update(bind_targets(t))
            for call, _name in evaluations:
                if call.lineno <= fit.lineno or scope_of(m, call) is not scope:
                    continue
                data = [*call.args, *(k.value for k in call.keywords if k.arg in ("X", "x"))]
                names = {n.id for a in data for n in ast.walk(a) if isinstance(n, ast.Name)}
                fresh = {n for n in names if not _rebound(m, n, scope, fit.lineno, call.lineno)}
                tainted = _derived(m, scope, results, fit.lineno, call.lineno)
                # the transformed data (or data made from it) is split, or the raw data is
                # split and the transformer fitted on all of it is applied to the parts after
                leaks = bool(names & tainted) or (
                    data_name in fresh and any(a.lineno > call.lineno for a in applied)
                )
                if leaks:
                    hits.append(
                        hit(
                            m,
                            fit,
                            f"{cls} is fitted on data that is split or "
                            f"cross-validated later (line {call.lineno}): split first, then "
                            "fit it on the training part (a Pipeline does this)",
                        )
                    )
                    break
    return smell_outcome(hits, "preprocessing is not fitted before the split", mods)


# -- SML022 ------------------------------------------------------------------------------------

_AVERAGED = words(
    """
    f1_score precision_score recall_score fbeta_score precision_recall_fscore_support
    jaccard_score
    """
)
_NEEDS_BINARY_HINT = frozenset(
    {"accuracy_score", "balanced_accuracy_score", "classification_report", "confusion_matrix"}
)
_INDEPENDENT = words(
    """
    roc_auc_score average_precision_score log_loss roc_curve precision_recall_curve
    brier_score_loss auc det_curve RocCurveDisplay PrecisionRecallDisplay DetCurveDisplay
    calibration_curve CalibrationDisplay AUROC BinaryAUROC AveragePrecision
    BinaryAveragePrecision ROC BinaryROC PrecisionRecallCurve BinaryPrecisionRecallCurve
    AUC binary_auroc binary_average_precision roc_auc LogLoss
    """
)
_TM_DEPENDENT = words(
    """
    BinaryAccuracy BinaryF1Score BinaryPrecision BinaryRecall BinaryFBetaScore
    binary_accuracy binary_f1_score binary_precision binary_recall
    """
)
_BINARY_HINTS = (
    "BCELoss",
    "BCEWithLogitsLoss",
    "binary_cross_entropy",
    "binary_crossentropy",
    "BinaryCrossentropy",
)


def _binary_hint(m: Module) -> bool:
    """The file does binary classification: a BCE loss, proba[:, 1], a 0.5 threshold."""
    if any(h in m.source for h in _BINARY_HINTS):
        return True
    for cmp in m.nodes(ast.Compare):
        if any(is_const(c, 0.5) for c in (cmp.left, *cmp.comparators)):
            return True
    for sub in m.nodes(ast.Subscript):
        s = sub.slice
        if (
            isinstance(s, ast.Tuple)
            and len(s.elts) == 2
            and is_const(s.elts[1], 1)
            and "predict_proba" in ast.unparse(sub.value)
        ):
            return True
    return False


def _metric_kind(m: Module, call: ast.Call, name: str, hint: bool) -> str | None:
    """Classify a metric call: independent of the threshold, dependent (and binary), or None."""
    cls = last(name)
    metrics_lib = name.startswith(("sklearn.", "torchmetrics.", "tensorflow.", "keras.")) or (
        name == cls and m.imports_any("sklearn", "torchmetrics")
    )
    if not metrics_lib:
        return None
    if cls in _INDEPENDENT:
        return "independent"
    if cls in _TM_DEPENDENT:
        return "dependent"
    if (cls in _AVERAGED and name.startswith("sklearn")) or (name == cls and cls in _AVERAGED):
        avg = kwarg(call, "average")
        return "dependent" if avg is None or is_const(avg, "binary") else None
    if cls in _NEEDS_BINARY_HINT and hint:
        return "dependent"
    return None


@rule(
    code="SML022",
    name="threshold-dependent-validation",
    title="Binary classifiers are also judged by a threshold-independent metric",
    severity="low",
    practices=("smell-22",),
    scope="code",
)
def threshold_dependent_validation(facts: Facts) -> Outcome:
    """## What it finds
    Binary classification evaluated only with metrics that depend on one decision
    threshold: scikit-learn `f1_score`, `precision_score`, `recall_score`, `fbeta_score`
    with the default (binary) averaging, `accuracy_score` / `classification_report` /
    `confusion_matrix` in files that are evidently binary (a BCE loss, `proba[:, 1]`, a 0.5
    cut-off), torchmetrics `Binary*` metrics, when no file of the repository uses a
    threshold-independent metric (`roc_auc_score`, `average_precision_score`, `log_loss`,
    `roc_curve`, `precision_recall_curve`, `AUROC`, `keras.metrics.AUC`, ...). Findings
    point at each threshold-dependent metric call. Test files are skipped.

    ## Why it matters
    Precision, recall, F1 and accuracy describe one operating point; two models can swap
    ranks when the threshold moves, and on imbalanced data accuracy rewards predicting the
    majority class. A threshold-independent metric shows how well the model ranks
    positives at every threshold (smell-22, Threshold-Dependent Validation).

    ## Example
    ```python
    print(f1_score(y_test, model.predict(X_test)))
    ```

    ## Instead
    ```python
    scores = model.predict_proba(X_test)[:, 1]
    print(f1_score(y_test, scores > 0.5), roc_auc_score(y_test, scores),
          average_precision_score(y_test, scores))
    ```
    """
    mods = parsed(facts, "sklearn", "torchmetrics", "tensorflow", "keras")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports a metrics library")
    dependent: list[tuple[Module, ast.Call, str]] = []
    independent: tuple[Module, ast.Call] | None = None
    for m in mods:
        hint = _binary_hint(m)
        for call, name in calls(m):
            kind = _metric_kind(m, call, name, hint)
            if kind == "dependent":
                dependent.append((m, call, last(name)))
            elif kind == "independent" and independent is None:
                independent = (m, call)
        if independent is None:
            for const in m.nodes(ast.Constant):  # metrics=["AUC"], scoring="roc_auc"
                if isinstance(const.value, str) and const.value in (
                    "roc_auc",
                    "average_precision",
                    "neg_log_loss",
                    "AUC",
                    "auc",
                ):
                    independent = (m, const)  # type: ignore[assignment]
                    break
    if not dependent:
        return Outcome.not_applicable("no threshold-dependent metric of a binary classifier found")
    if independent is not None:
        im, ic = independent
        return Outcome.passed(
            Evidence(
                f"threshold-independent metric: {im.line(ic.lineno).strip()}",
                Strength.PRESENT,
                im.path,
                ic.lineno,
            ),
            note=f"{len(dependent)} threshold-dependent metric call(s) found",
        )
    hits = [
        hit(
            m,
            call,
            f"{cls} depends on one decision threshold and no threshold-independent "
            "metric is reported anywhere: add roc_auc_score or average_precision_score",
        )
        for m, call, cls in dependent
    ]
    return smell_outcome(hits, "threshold-independent metrics reported", mods)
