"""DAT: data validation and schemas, data quality checks, bias, privacy and labelling.

Evidence comes from imports and calls of data-validation, profiling, fairness and
privacy libraries (in source, notebooks and tests: a test that validates the dataset is
validation), schema files committed to the repository, DVC stages and CI jobs. A
repository that reads no data and trains nothing gets not_applicable.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.mlcode import (
    Site,
    ci_running,
    ci_runs_tests,
    context_said,
    dvc_pipeline,
    first_import,
    gate_evidence,
    index,
    library_users,
    loads_data,
    local_imports,
    training_modules,
    training_sites,
)
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.yamlfile import load_json
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

# -- data ------------------------------------------------------------------------------------
# fmt: off

#: data-validation libraries: label -> packages
VALIDATORS: dict[str, tuple[str, ...]] = {
    "pandera": ("pandera",),
    "Great Expectations": ("great_expectations",),
    "TensorFlow Data Validation": ("tensorflow_data_validation",),
    "Deepchecks": ("deepchecks",),
    "Evidently tests": ("evidently.test_suite", "evidently.tests", "evidently.test_preset"),
    "whylogs constraints": ("whylogs.core.constraints",),
    "Soda": ("soda.scan",),
    "Pointblank": ("pointblank",),
    "Frictionless": ("frictionless",),
    "PyDeequ": ("pydeequ",),
    "dataframely": ("dataframely",),
    "Patito": ("patito",),
    "pandas_schema": ("pandas_schema",),
    "Data Contract CLI": ("datacontract",),
}
#: pydantic validates records only when a model is applied to loaded rows
_RECORD_VALIDATION = ("model_validate", "parse_obj", "validate_python", "model_validate_json")
#: a hand-written check on a frame: ``assert df.notna().all()``, ``assert len(df) > 0``
_FRAME_CHECK = re.compile(
    r"\.(isnull|isna|notna|notnull|duplicated|dtypes|columns|nunique|between|empty|"
    r"is_unique|hasnans)\b"
)
#: a size check counts only on something named like data (not ``len(opt.cfg)``)
_SIZE_CHECK = re.compile(
    r"(len\(|\.shape\b).*\b(df|data\w*|dataset|frame|X|y|labels?|targets?|features?|"
    r"train\w*|test\w*|rows|records|samples)\b|\b(df|data\w*|dataset|X|y)\w*\.shape\b"
)
#: a project's own data check: verify_image_label(), check_dataset(), validate_rows()
_CHECK_FUNCTION = re.compile(
    r"^_?(verify|validate|sanity_check|check)_?(\w+_)?(data|label|image|record|row|frame|df)",
    re.I,
)
_DECORATOR_CHECK = re.compile(r"\bcheck_(types|input|output|io)\b")
#: calls that run a validation (an import of the library alone may be for something else)
_VALIDATE_VERBS = (
    "validate", "validate_statistics", "validate_examples_in_csv", "check_types",
    "check_input", "check_output", "check_io", "run_checkpoint", "interrogate",
    "run_validation_operator", "get_validator", "add_checkpoint", "add_or_update_checkpoint",
    "validate_df", "test_suite",
)
#: libraries whose suites run with a generic verb (only counted for them)
_SUITE_VERBS: dict[str, tuple[str, ...]] = {
    "Deepchecks": ("run",), "Evidently tests": ("run",), "Soda": ("execute_scan", "scan"),
}
#: where validation runs in a pipeline: a stage or task named so
_VALIDATION_STEP = re.compile(r"validat|check_data|data_check|expectation|schema|sanity", re.I)
_DATA_TEST = re.compile(r"(^|/)(data\w*|datasets?)/|test_data", re.I)
_DATA_MODULE = re.compile(r"data|prep|load|ingest|feature|train", re.I)
_ORCHESTRATORS = ("airflow", "prefect", "dagster", "kfp", "zenml", "metaflow", "flytekit")

#: checks of completeness, balance and distribution: aspect -> dotted names or methods
_MISSING_METHODS = ("isnull", "isna", "expect_column_values_to_not_be_null", "missing_values")
_BALANCE_NAMES = (
    "sklearn.model_selection.StratifiedKFold", "sklearn.model_selection.StratifiedShuffleSplit",
    "sklearn.model_selection.StratifiedGroupKFold",
    "sklearn.model_selection.RepeatedStratifiedKFold",
    "sklearn.utils.class_weight.compute_class_weight",
    "sklearn.utils.class_weight.compute_sample_weight", "imblearn.",
    "skmultilearn.model_selection.iterative_train_test_split",
)
_FRAME_LIBS = ("pandas", "polars", "numpy", "pyspark", "dask", "matplotlib", "seaborn", "plotly",
               "modin", "vaex", "cudf", "datasets")
_DISTRIBUTION_METHODS = ("describe", "hist", "histplot", "displot", "distplot", "kdeplot",
                         "countplot", "value_counts", "boxplot", "violinplot", "pairplot")
#: estimators that take class weights, and the keywords that set them
_WEIGHTED_MODELS = ("LogisticRegression", "RandomForestClassifier", "SVC", "LinearSVC",
                    "DecisionTreeClassifier", "ExtraTreesClassifier", "LGBMClassifier",
                    "XGBClassifier", "CatBoostClassifier", "CrossEntropyLoss", "BCEWithLogitsLoss")
_WEIGHT_KEYWORDS = ("class_weight", "is_unbalance", "scale_pos_weight", "auto_class_weights",
                    "pos_weight", "weight")
#: profilers look at all three aspects at once
PROFILERS: tuple[str, ...] = (
    "ydata_profiling", "pandas_profiling", "sweetviz", "dtale", "dataprep.eda", "skimpy",
    "missingno", "autoviz", "lux", "tensorflow_data_validation", "whylogs", "deepchecks",
    "dataprofiler",
)

#: fairness toolkits that measure data as well as models
BIAS_LIBS: tuple[str, ...] = (
    "aif360", "fairlearn", "aequitas", "fairlens", "raimitigations", "responsibleai",
    "dalex.fairness",
)
#: attributes the law or ethics protect; columns named so are looked at for representation
PROTECTED = re.compile(
    r"^(sex|gender|race|ethnic\w*|religio\w*|age|age_group|nationality|disab\w*|marital\w*|"
    r"sexual\w*|pregnan\w*|skin\w*|caste|national_origin|citizenship)$",
    re.I,
)

#: privacy-preserving techniques: label -> packages
PRIVACY: dict[str, tuple[str, ...]] = {
    "differential privacy": ("opacus", "tensorflow_privacy", "diffprivlib", "pydp", "opendp",
                             "snsql", "jax_privacy", "private_transformers"),
    "federated learning": ("flwr", "syft", "fedml", "tensorflow_federated", "nvflare"),
    "encrypted computation": ("tf_encrypted", "crypten", "tenseal", "concrete.ml"),
    "PII detection and anonymisation": ("presidio_analyzer", "presidio_anonymizer", "scrubadub",
                                        "anonympy", "faker_anonymizer"),
    "synthetic data": ("snsynth", "sdv", "synthcity", "ydata_synthetic"),
}

#: labelling tools and agreement measures
LABELLING: dict[str, tuple[str, ...]] = {
    "labelling tool": ("label_studio_sdk", "label_studio_ml", "cvat_sdk", "prodigy",
                       "doccano_client", "argilla", "labelbox", "superannotate", "encord",
                       "labelme", "roboflow"),
    "programmatic labelling": ("snorkel.labeling",),
    "label-quality review": ("cleanlab",),
    "inter-annotator agreement": ("sklearn.metrics.cohen_kappa_score", "krippendorff",
                                  "statsmodels.stats.inter_rater", "nltk.metrics.agreement",
                                  "irrCAC"),
}
_GUIDELINE_FILES = (
    "*label*guide*", "*labeling*.md", "*labelling*.md", "*annotation*guide*", "*annotation*.md",
    "*annotator*.md", "*codebook*",
)

#: config keys and code names that hold a protected-attribute list
_DENYLIST_KEY = re.compile(
    r"^\s*[\"']?(protected|sensitive|denylist|blocklist|blacklist|forbidden|excluded|"
    r"prohibited)_?(attributes|features|columns|cols|fields)?[\"']?\s*[:=]",
    re.I | re.M,
)
#: a cheap text test before any tree is read: the names all start with one of these words
_DENYLIST_WORDS = (
    "protected", "sensitive", "denylist", "blocklist", "blacklist", "forbidden", "prohibited",
)  # fmt: skip
_DENYLIST_NAME = re.compile(
    r"^(protected|sensitive|denylist|blocklist|blacklist|forbidden|prohibited)"
    r"_?(attributes|attrs|features|columns|cols|fields)?$",
    re.I,
)
_CONFIG_GLOBS = (
    "*.yaml", "*.yml", "*.toml", "conf/**/*.yaml", "config/**/*.yaml", "configs/**/*.yaml",
    "*config*.json", "*param*.json", "*feature*.json", "*.cfg",
)

# fmt: on


# -- shared helpers --------------------------------------------------------------------------


def _no_data(facts: Facts, what: str) -> Outcome | None:
    """not_applicable when the repository neither reads data nor trains."""
    if loads_data(facts) or training_sites(facts):
        return None
    return Outcome.not_applicable(f"no data is read and nothing is trained: {what}")


def _data_anchor(facts: Facts, message: str) -> Hit:
    """A repository-level finding pinned on the first place data is read (scripts first)."""

    def rank(s: Site) -> tuple[bool, bool, str, int]:
        return (s.module.is_notebook, not _DATA_MODULE.search(s.path), s.path, s.line or 0)

    sites = sorted(loads_data(facts), key=rank)
    if sites:
        return sites[0].hit(message)
    train = sorted(training_sites(facts), key=lambda s: (s.module.is_notebook, s.path))
    if train:
        return train[0].hit(message)
    return Hit(message, facts.files.anchor("data/**", "README*"))


def _import_evidence(
    m: Module, libs: Iterable[str], what: str, strength: Strength = Strength.PRESENT
) -> Evidence:
    site = first_import(m, libs)
    if site is None:
        return Evidence(f"{what} in {m.path}", strength, m.path)
    return site.evidence(f"{what}: `{site.name}` in {site.where}", strength)


def _validator_users(facts: Facts) -> list[tuple[str, Module]]:
    """(library, module) for every module, test or not, that validates with a library.

    An import is not enough: pandera also generates mock data, Great Expectations also
    profiles. A validation call (``validate``, ``@check_types``, a checkpoint, a suite
    ``run``) must be there too, in the module or, for Great Expectations, any ``expect_*``
    call in the repository (a fixture in conftest.py, the expectations in a test).
    """
    idx = index(facts)
    expectations = any(a.startswith("expect_") for a in idx.by_attr)
    out = []
    for label, libs in VALIDATORS.items():
        users = library_users(facts, libs, tests=None)
        if label == "Great Expectations" and expectations:
            out += [(label, m) for m in users]
            continue
        names = (*_VALIDATE_VERBS, *_SUITE_VERBS.get(label, ()))
        verbs = {s.path for s in idx.methods(*names, tests=None, within=users)}
        out += [(label, m) for m in users if m.path in verbs or _decorated_check(m)]
    # mlsteward's data validation API, not any of its names that say "validation"
    steward = [
        s
        for s in idx.calls("mlsteward.data.", "mlsteward.gates.", "mlsteward.validate", tests=None)
        if "validat" in s.name
    ]
    out += [("mlsteward data validation", s.module) for s in steward]
    return out


def _decorated_check(m: Module) -> bool:
    """``@pa.check_types`` / ``@check_input(schema)`` on a function."""
    return any(
        _DECORATOR_CHECK.search(ast.unparse(d))
        for fn in m.nodes(ast.FunctionDef)
        for d in fn.decorator_list
    )


def _record_models(facts: Facts) -> list[Site]:
    """pydantic models applied to loaded records (not only API schemas)."""
    data_paths = {s.path for s in loads_data(facts)}
    return [
        s
        for s in index(facts).methods(*_RECORD_VALIDATION)
        if s.path in data_paths and s.module.imports_any("pydantic")
    ]


def _frame_asserts(facts: Facts) -> list[Site]:
    """Hand-written data checks: asserts about frames in modules that read data or in data
    tests (``tests/data*``, ``test_dataset*.py``), and the project's own check functions."""
    out = []
    paths = dict.fromkeys(s.path for s in loads_data(facts))
    paths.update(
        dict.fromkeys(m.path for m in facts.python.test_modules if _DATA_TEST.search(m.path))
    )
    for path in paths:
        m = facts.python.by_path[path]
        if m.is_notebook:
            continue  # an assert in a notebook demonstrates; it guards no pipeline
        for a in m.nodes(ast.Assert):
            text = ast.unparse(a.test)
            if _FRAME_CHECK.search(text) or (
                _SIZE_CHECK.search(text) and _against_constant(a.test)
            ):
                out.append(Site(m, a))
        if not m.is_test:
            out += [Site(m, f) for f in m.nodes(ast.FunctionDef) if _CHECK_FUNCTION.match(f.name)]
    return sorted(out, key=lambda s: (s.module.is_test, s.path, s.line or 0))


def _against_constant(test: ast.expr) -> bool:
    """``len(df) > 0``, ``X.shape[1] == 12``; not ``dimension >= X.shape[1]`` (an argument)."""
    return any(
        isinstance(side, ast.Constant)
        for cmp in ast.walk(test)
        if isinstance(cmp, ast.Compare)
        for side in (cmp.left, *cmp.comparators)
    )


# -- DAT001 ------------------------------------------------------------------------------------


@rule(
    code="DAT001",
    name="data-validation",
    title="Data is validated before use",
    severity="medium",
    practices=("seml-1", "mts-data-1"),
)
def data_validation(facts: Facts) -> Outcome:
    """## What it finds
    Projects that read data and never check it: no data-validation library (pandera,
    Great Expectations, TFDV, Deepchecks, Evidently tests, whylogs constraints, Soda),
    no pydantic model applied to loaded records and no mlsteward data validation. Plain
    `assert` checks on data frames count for half.

    ## Why it matters
    SE-ML practice 1, "Use Sanity Checks for All External Data Sources", and ML Test Score
    Data 1, "Feature expectations are captured in a schema": a renamed column, a unit
    change or a batch of nulls upstream trains a worse model silently unless something
    checks the data at the door.

    ## Example
    ```python
    df = pd.read_csv(URL)
    model.fit(df[FEATURES], df.label)      # whatever arrived is trained on
    ```

    ## Instead
    ```python
    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.in_range(0, 120)),
                                 "label": pa.Column(str, pa.Check.isin(LABELS))})
    df = schema.validate(pd.read_csv(URL))
    ```
    """
    users = _validator_users(facts)
    evidence: list[Evidence] = []
    seen: set[str] = set()
    for label, m in users:
        if label not in seen:
            seen.add(label)
            evidence.append(_import_evidence(m, VALIDATORS.get(label, ("mlsteward",)), label))
    records = _record_models(facts)
    if records:
        evidence.append(
            records[0].evidence(
                f"pydantic models validate loaded records: `{records[0].name}` in "
                f"{records[0].where}"
            )
        )
    if facts.files.glob("**/great_expectations.yml", "**/gx/*.yml"):
        rel = facts.files.glob("**/great_expectations.yml", "**/gx/*.yml")[0]
        evidence.append(Evidence(f"Great Expectations project: {rel}", Strength.PRESENT, rel))
    if evidence:
        ci = facts.ci.evidence("data-validation") or ci_runs_tests(facts, [m for _, m in users])
        return Outcome.passed(*evidence[:3], *([ci] if ci else []))
    asserts = _frame_asserts(facts)
    if asserts:
        return Outcome.partial(
            0.5,
            asserts[0].hit(
                "data is checked by hand-written code only; declare the expectations in a "
                "validation library (pandera, Great Expectations) so every check is reported"
            ),
            evidence=[asserts[0].evidence(f"hand-written data check at {asserts[0].where}")],
        )
    return _no_data(facts, "nothing to validate") or Outcome.failed(
        _data_anchor(
            facts,
            "data is used without validation; check schema, types and ranges with pandera, "
            "Great Expectations or TFDV before training",
        )
    )


# -- DAT002 ------------------------------------------------------------------------------------


def _schema_files(facts: Facts) -> list[Evidence]:
    """Schema artefacts committed to the repository."""
    files = facts.files
    out: list[Evidence] = []
    for rel in files.glob("**/expectations/**/*.json"):
        data = load_json(facts, rel, files.read_text(rel) or "{}")
        if isinstance(data, dict) and ("expectations" in data or "expectation_suite_name" in data):
            out.append(Evidence(f"Great Expectations suite {rel}", Strength.PRESENT, rel))
            break
    for rel in files.glob("*schema*.pbtxt", "*.avsc", "datapackage.json"):
        out.append(Evidence(f"data schema {rel}", Strength.PRESENT, rel))
    for rel in files.glob("*schema*.json", "*schema*.yaml", "*schema*.yml", "*schema*.toml"):
        if rel.startswith((".github/", "docs/")) or "config" in rel.lower():
            continue
        text = files.read_text(rel) or ""
        if re.search(
            r"schema_type:\s*dataframe|[\"']?(columns|fields|features|properties)[\"']?\s*[:=]",
            text,
        ):
            out.append(Evidence(f"data schema {rel}", Strength.PRESENT, rel))
    return out


def _schema_in_code(facts: Facts) -> list[Evidence]:
    """Schemas declared in code: pandera/dataframely models, GE expectations, TFDV schemas."""
    idx = index(facts)
    out: list[Evidence] = []
    sites = idx.calls(
        "pandera.DataFrameSchema",
        "pandera.SeriesSchema",
        "pandera.polars.DataFrameSchema",
        "tensorflow_data_validation.load_schema_text",
        "tensorflow_data_validation.write_schema_text",
        tests=None,
    )
    sites += _expectation_calls(facts, library_users(facts, ("great_expectations",), tests=None))
    out += [s.evidence(f"schema in code: `{s.name or _short(s)}` in {s.where}") for s in sites[:1]]
    for m in facts.python.modules:
        if not m.imports_any("pandera", "dataframely", "patito"):
            continue  # a schema class derives from one of these: no need to parse the rest
        for cls in m.nodes(ast.ClassDef):
            bases = [m.qualname(b) or "" for b in cls.bases]
            if any(b.startswith(("pandera.", "dataframely.", "patito.")) for b in bases):
                text = f"schema class `{cls.name}` in {m.path} {m.where(cls.lineno)}"
                out.append(Evidence(text, Strength.PRESENT, m.path, cls.lineno))
                return out
    return out


def _expectation_calls(facts: Facts, ge: list[Module]) -> list[Site]:
    """The first ``expect_*`` call, when the repository uses Great Expectations."""
    if not ge:
        return []
    found = [
        s for a, sites in index(facts).by_attr.items() if a.startswith("expect_") for s in sites
    ]
    return sorted(found, key=lambda s: (s.path, s.line or 0))[:1]


@rule(
    code="DAT002",
    name="data-schema",
    title="A data schema is committed",
    severity="medium",
    practices=("mts-data-1", "mts-monitor-2"),
)
def data_schema(facts: Facts) -> Outcome:
    """## What it finds
    Projects that read data with no schema of it in the repository: no Great Expectations
    suite, pandera schema (a `DataFrameSchema`, a `DataFrameModel` class or a YAML
    schema), TFDV `schema.pbtxt`, Frictionless or Avro schema, or data JSON/YAML schema
    file, and no expectations declared in code.

    ## Why it matters
    ML Test Score Data 1, "Feature expectations are captured in a schema", and Monitor 2,
    "Data invariants hold for inputs": a written schema is what training data and live
    inputs are both checked against; without one, what "valid" means lives in someone's
    head.

    ## Example
    ```
    data/
      train.csv       # 40 columns, types and ranges known only to the author
    train.py
    ```

    ## Instead
    ```python
    class Applicant(pa.DataFrameModel):
        age: int = pa.Field(ge=18, le=100)
        income: float = pa.Field(ge=0)
        region: str = pa.Field(isin=REGIONS)
    ```
    """
    evidence = _schema_files(facts) + _schema_in_code(facts)
    if evidence:
        return Outcome.passed(*evidence[:3])
    return _no_data(facts, "no data to describe") or Outcome.failed(
        _data_anchor(
            facts,
            "no schema describes the data; commit one (pandera model, Great Expectations suite, "
            "TFDV schema) and validate data against it",
        )
    )


# -- DAT003 ------------------------------------------------------------------------------------


def _validation_stages(facts: Facts) -> list[Evidence]:
    pipe = dvc_pipeline(facts)
    out = []
    for st in pipe.stages:
        if _VALIDATION_STEP.search(st.name) or _VALIDATION_STEP.search(st.cmd):
            out.append(
                Evidence(
                    f"DVC stage '{st.name}' validates the data (`{st.cmd[:60]}`)",
                    Strength.PRESENT,
                    st.path,
                    st.line,
                )
            )
    return out


def _orchestrated(facts: Facts) -> list[Evidence]:
    """A validation task in an Airflow, Prefect, Dagster or Kubeflow pipeline."""
    out = []
    for m in library_users(facts, _ORCHESTRATORS, text=_VALIDATION_STEP):
        scheduled = any(
            k.arg in ("schedule", "schedule_interval", "cron")
            for call in m.nodes(ast.Call)
            for k in call.keywords
            if not (isinstance(k.value, ast.Constant) and k.value.value is None)
        )
        strength = Strength.AUTOMATED if scheduled else Strength.PRESENT
        for node in m.nodes(ast.Constant):
            if (
                isinstance(node.value, str)
                and len(node.value) < 60
                and _VALIDATION_STEP.search(node.value)
            ):
                out.append(
                    Evidence(
                        f"pipeline task '{node.value}' in {m.path}"
                        + (" (scheduled)" if scheduled else ""),
                        strength,
                        m.path,
                        node.lineno,
                    )
                )
                break
        else:
            for fn in m.nodes(ast.FunctionDef):
                if _VALIDATION_STEP.search(fn.name) and fn.decorator_list:
                    out.append(
                        Evidence(
                            f"pipeline task `{fn.name}` in {m.path}"
                            + (" (scheduled)" if scheduled else ""),
                            strength,
                            m.path,
                            fn.lineno,
                        )
                    )
                    break
    return out


@rule(
    code="DAT003",
    name="data-validation-automated",
    title="Data validation runs automatically",
    severity="medium",
    practices=("mts-data-1", "seml-1"),
)
def data_validation_automated(facts: Facts) -> Outcome:
    """## What it finds
    Data validation that only runs when someone remembers to: no CI job validates data,
    no DVC stage or orchestrator task (Airflow, Prefect, Dagster, Kubeflow) runs the
    checks, CI does not run the tests that validate the dataset, and training does not
    validate what it reads. Validation code that exists but runs by hand counts for half.

    ## Why it matters
    ML Test Score Data 1 counts a schema check fully only when it runs on every pipeline
    run, and SE-ML practice 1 asks for checks on all external data: a check that runs by
    hand is skipped exactly when a deadline makes it matter.

    ## Example
    ```yaml
    # dvc.yaml: the data goes straight from download to training
    stages:
      train:
        cmd: python train.py data/raw.csv
    ```

    ## Instead
    ```yaml
    stages:
      validate:
        cmd: steward data validate data/raw.csv --schema schema.yaml
        deps: [data/raw.csv, schema.yaml]
      train:
        cmd: python train.py data/raw.csv
        deps: [data/raw.csv]
    ```
    """
    evidence: list[Evidence] = []
    ci = facts.ci.evidence("data-validation")
    if ci is not None:
        evidence.append(ci)
    users = _validator_users(facts)
    tests = [m for _, m in users if m.is_test]
    sources = [m for _, m in users if not m.is_test]
    for found in (ci_runs_tests(facts, tests), ci_running(facts, sources, ("data-validation",))):
        if found is not None:
            evidence.append(found)
    evidence += _validation_stages(facts) + _orchestrated(facts)
    checks = _frame_asserts(facts)
    source_paths = {m.path for m in sources} | {c.path for c in checks}
    for m in sorted(training_modules(facts), key=lambda m: (m.path.count("/"), m.path)):
        via = [d for d in (m, *local_imports(facts, m)) if d.path in source_paths]
        if via:
            evidence.append(
                Evidence(
                    f"training validates its data ({m.path}"
                    + (f" uses {via[0].path})" if via[0].path != m.path else ")"),
                    Strength.PRESENT,
                    m.path,
                )
            )
            break
    if evidence:
        evidence.sort(key=lambda e: -e.strength)
        return Outcome.passed(*evidence[:3])
    if users or checks:
        where = users[0][1] if users else checks[0].module
        return Outcome.partial(
            0.5,
            Hit(
                "data validation exists but nothing runs it automatically; run it in CI, as a "
                "pipeline stage before training, or from the training script",
                where.path,
            ),
            evidence=[Evidence(f"validation code in {where.path}", Strength.PRESENT, where.path)],
        )
    return _no_data(facts, "nothing to validate") or Outcome.failed(
        _data_anchor(
            facts,
            "no data validation runs automatically; add a validation stage before training "
            "and run it in CI",
        )
    )


# -- DAT004 ------------------------------------------------------------------------------------


def _aspects(facts: Facts) -> dict[str, Evidence]:
    """Evidence per aspect: completeness, balance, distribution."""
    idx = index(facts)
    found: dict[str, Evidence] = {}
    profilers = library_users(facts, PROFILERS, tests=None)
    if profilers:
        ev = _import_evidence(profilers[0], PROFILERS, "data profiling")
        return {"completeness": ev, "balance": ev, "distribution": ev}
    missing = idx.methods(*_MISSING_METHODS, tests=None)
    if missing:
        found["completeness"] = missing[0].evidence(
            f"missing values checked: `{missing[0].name or 'isnull'}` in {missing[0].where}"
        )
    balance = idx.calls(*_BALANCE_NAMES, tests=None)
    balance += [
        s
        for s in idx.methods("train_test_split", tests=None)
        if any(k.arg == "stratify" and not _is_none(k.value) for k in _keywords(s))
    ]
    balance += [s for s in idx.methods("value_counts", tests=None) if _normalised(s)]
    # a project's own helper: labels_to_class_weights(...), compute_class_weights(...)
    balance += [
        s
        for attr, sites in idx.by_attr.items()
        if "class_weight" in attr.lower()
        for s in sites
        if not s.module.is_test
    ]
    balance += [
        s
        for s in idx.methods(*_WEIGHTED_MODELS)
        if any(k.arg in _WEIGHT_KEYWORDS for k in _keywords(s))
    ]
    if balance:
        s = balance[0]
        found["balance"] = s.evidence(f"class balance handled: `{_short(s)}` in {s.where}")
    # `describe(exc)` in a tool is not a look at a distribution: the call must be in code
    # that uses a data frame or plotting library
    frames = library_users(facts, _FRAME_LIBS, tests=None)
    dist = idx.methods(*_DISTRIBUTION_METHODS, tests=None, within=frames)
    if dist:
        found["distribution"] = dist[0].evidence(
            f"distributions inspected: `{_short(dist[0])}` in {dist[0].where}"
        )
    return found


def _keywords(site: Site) -> list[ast.keyword]:
    return site.node.keywords if isinstance(site.node, ast.Call) else []


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _normalised(site: Site) -> bool:
    return isinstance(site.node, ast.Call) and any(
        k.arg == "normalize" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in site.node.keywords
    )


def _short(site: Site, limit: int = 50) -> str:
    text = ast.unparse(site.node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@rule(
    code="DAT004",
    name="data-balance-checked",
    title="Input data is checked for completeness, balance and distribution",
    severity="medium",
    practices=("seml-2",),
)
def data_balance_checked(facts: Facts) -> Outcome:
    """## What it finds
    Projects that read data without looking at it as a whole. Three aspects are sought:
    completeness (missing values counted: `isnull()`, `isna()`, not-null expectations),
    balance (a stratified split, class weights, `value_counts(normalize=True)`,
    resampling) and distribution (`describe()`, histograms, `value_counts()`). A data
    profiler (ydata-profiling, TFDV statistics, whylogs, Deepchecks) covers all three.
    The score is the share of aspects covered.

    ## Why it matters
    SE-ML practice 2, "Check that Input Data is Complete, Balanced and Well Distributed":
    a model trained on data with hidden gaps or a 99:1 class ratio learns the gaps and the
    majority class, and its accuracy says nothing about the rare cases that matter.

    ## Example
    ```python
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    ```

    ## Instead
    ```python
    print(df.isna().mean(), y.value_counts(normalize=True))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y)
    ```
    """
    na = _no_data(facts, "no data to inspect")
    if na is not None:
        return na
    found = _aspects(facts)
    missing = [a for a in ("completeness", "balance", "distribution") if a not in found]
    hits = []
    if missing:
        hits.append(
            _data_anchor(
                facts,
                f"the data is not checked for {' or '.join(missing)}; "
                "profile it (missing values, class ratios, distributions) before training",
            )
        )
    return Outcome.partial(len(found) / 3, *hits, evidence=list(dict.fromkeys(found.values())))


# -- DAT005 ------------------------------------------------------------------------------------


def _representation_checks(facts: Facts) -> list[Site]:
    """``df.groupby("gender")``, ``df["race"].value_counts()``: groups of people counted."""
    out = []
    for s in index(facts).methods("groupby", "value_counts", "crosstab", "countplot", tests=None):
        node = s.node
        if not isinstance(node, ast.Call):
            continue
        texts = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        texts += [
            k.value.value
            for k in node.keywords
            if isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
        ]
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Subscript):
            key = func.value.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                texts.append(key.value)
        if any(PROTECTED.match(t) for t in texts):
            out.append(s)
    return out


@rule(
    code="DAT005",
    name="data-bias-tested",
    title="Training data is tested for social bias",
    severity="medium",
    practices=("seml-3",),
    applies_when=("personal_data",),
)
def data_bias_tested(facts: Facts) -> Outcome:
    """## What it finds
    Projects on personal data that never look at how groups of people are represented in
    their training data: no fairness toolkit (AIF360, Fairlearn, Aequitas, Responsible AI
    data balance) and no count of rows per protected attribute (`groupby("gender")`,
    `df["race"].value_counts()`). A datasheet alone counts for half. Applies when the
    context says `personal_data = true`.

    ## Why it matters
    SE-ML practice 3, "Test for Social Bias in Training Data": a group that is missing or
    mislabelled in the data is served badly by every model trained on it, and the
    aggregate metrics will not show it.

    ## Example
    ```python
    df = pd.read_parquet("applicants.parquet")
    model.fit(df[FEATURES], df.approved)
    ```

    ## Instead
    ```python
    print(df.groupby("gender").approved.agg(["size", "mean"]))
    metric = BinaryLabelDatasetMetric(dataset, privileged_groups=[{"sex": 1}],
                                      unprivileged_groups=[{"sex": 0}])
    assert abs(metric.disparate_impact() - 1) < 0.2
    ```
    """
    users = library_users(facts, BIAS_LIBS, tests=None)
    if users:
        return Outcome.passed(_import_evidence(users[0], BIAS_LIBS, "fairness toolkit"))
    checks = _representation_checks(facts)
    if checks:
        return Outcome.passed(
            checks[0].evidence(
                f"group representation counted: `{_short(checks[0])}` in {checks[0].where}"
            )
        )
    sheets = facts.files.glob("*datasheet*", "*data_card*", "*datacard*", "*data-card*")
    if sheets:
        return Outcome.partial(
            0.5,
            _data_anchor(
                facts,
                "the datasheet is not backed by a measurement; count each group's "
                "rows and outcomes in the training data",
            ),
            evidence=[Evidence(f"datasheet {sheets[0]}", Strength.DECLARED, sheets[0])],
        )
    return _no_data(facts, "no training data") or Outcome.failed(
        _data_anchor(
            facts,
            "the training data is not tested for social bias; measure each protected group's "
            "representation and outcomes (AIF360, Fairlearn, a groupby)",
        )
    )


# -- DAT006 ------------------------------------------------------------------------------------


@rule(
    code="DAT006",
    name="privacy-techniques",
    title="Personal data is protected by privacy-preserving techniques",
    severity="medium",
    practices=("seml-7", "mts-data-5"),
    applies_when=("personal_data",),
)
def privacy_techniques(facts: Facts) -> Outcome:
    """## What it finds
    Projects on personal data with no privacy-preserving technique in the code: no
    differential privacy (Opacus, TensorFlow Privacy, diffprivlib, OpenDP), federated
    learning (Flower, PySyft), encrypted computation, PII detection and anonymisation
    (Presidio, scrubadub) or synthetic data (SDV, SmartNoise). Applies when the context
    says `personal_data = true`.

    ## Why it matters
    SE-ML practice 7, "Use Privacy-Preserving Machine Learning Techniques", and ML Test
    Score Data 5, "The data pipeline has appropriate privacy controls": models memorise
    and leak what they are trained on, and every copy of raw personal data is one more
    place it can escape.

    ## Example
    ```python
    df = pd.read_csv("patients.csv")            # names, dates of birth, diagnoses
    model.fit(df.drop(columns="outcome"), df.outcome)
    ```

    ## Instead
    ```python
    from opacus import PrivacyEngine
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader,
        noise_multiplier=1.1, max_grad_norm=1.0)
    ```
    """
    for label, libs in PRIVACY.items():
        users = library_users(facts, libs, tests=None)
        if users:
            return Outcome.passed(_import_evidence(users[0], libs, label))
    return _no_data(facts, "no personal data is processed here") or Outcome.failed(
        _data_anchor(
            facts,
            "personal data is used with no privacy-preserving technique; anonymise PII "
            "(Presidio) or train with differential privacy (Opacus)",
        )
    )


# -- DAT007 ------------------------------------------------------------------------------------


@rule(
    code="DAT007",
    name="labelling-controlled",
    title="Labels are produced by a controlled process",
    severity="low",
    practices=("seml-5",),
    applies_when=("labels",),
)
def labelling_controlled(facts: Facts) -> Outcome:
    """## What it finds
    No sign of how labels are made: no labelling guideline document, no labelling tool
    project (Label Studio, CVAT, Prodigy, Argilla), no programmatic labelling (Snorkel),
    label-quality review (cleanlab) or inter-annotator agreement (`cohen_kappa_score`,
    krippendorff). Many projects use labels made elsewhere (a public dataset), which the
    code cannot tell: the verdict is then unknown, and failed only when the context says
    `labels = true` explicitly.

    ## Why it matters
    SE-ML practice 5, "Ensure Data Labelling is Performed in a Strictly Controlled
    Process": label quality bounds model quality; written guidelines, review and measured
    agreement are what keep labels consistent across people and time.

    ## Example
    ```
    data/labels.csv     # labelled by whoever was free that week
    ```

    ## Instead
    ```python
    # docs/labelling-guidelines.md states the rules; agreement is measured on an overlap
    kappa = cohen_kappa_score(annotator_a, annotator_b)
    assert kappa > 0.8
    ```
    """
    for label, names in LABELLING.items():
        site = index(facts).calls(*(f"{n}." for n in names), *names, tests=None)
        if site:
            return Outcome.passed(site[0].evidence(f"{label}: `{site[0].name}` in {site[0].where}"))
        users = library_users(facts, names, tests=None)
        if users:
            return Outcome.passed(_import_evidence(users[0], names, label))
    configs = [
        rel
        for rel in facts.files.with_suffix(".xml")
        if re.search(r"<View>|<Choices|Labels\b", facts.files.read_text(rel) or "")
    ]
    if configs:
        return Outcome.passed(
            Evidence(f"labelling interface config {configs[0]}", Strength.PRESENT, configs[0])
        )
    guides = [f for f in facts.files.glob(*_GUIDELINE_FILES) if not f.endswith((".py", ".ipynb"))]
    if guides:
        return Outcome.passed(
            Evidence(f"labelling guidelines {guides[0]}", Strength.DECLARED, guides[0])
        )
    if context_said(facts, "labels"):
        return Outcome.failed(
            _data_anchor(
                facts,
                "no labelling process is evident; write labelling guidelines and measure "
                "inter-annotator agreement",
            )
        )
    return Outcome.unknown(
        "no labelling guideline, tool or agreement measure found; labels may come from a public "
        "dataset. Set [tool.steward.context] labels = true if the team labels its own data"
    )


# -- DAT008 ------------------------------------------------------------------------------------


def _denylist_config(facts: Facts) -> Evidence | None:
    for rel in facts.files.glob(*_CONFIG_GLOBS):
        if rel.startswith(".github/") or facts.files.size(rel) > 200_000:
            continue
        text = facts.files.read_text(rel) or ""
        match = _DENYLIST_KEY.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return Evidence(f"protected attributes listed in {rel}", Strength.PRESENT, rel, line)
    return None


def _denylist_code(facts: Facts) -> tuple[list[Evidence], list[Evidence]]:
    """(lists of protected attributes defined in code, checks that use them)."""
    lists: list[Evidence] = []
    checks: list[Evidence] = []
    names: set[str] = set()
    modules = [m for m in facts.python.modules if m.mentions(*_DENYLIST_WORDS)]
    for m in modules:
        for node in m.nodes(ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Name)
                    and _DENYLIST_NAME.match(target.id)
                    and isinstance(node.value, ast.List | ast.Tuple | ast.Set | ast.Call)
                ):
                    names.add(target.id)
                    lists.append(
                        Evidence(
                            f"protected attributes `{target.id}` in {m.path} "
                            f"{m.where(node.lineno)}",
                            Strength.PRESENT,
                            m.path,
                            node.lineno,
                        )
                    )
    for m in modules:
        refs: list[ast.expr] = [
            n for n in m.nodes(ast.Name) if n.id in names or _DENYLIST_NAME.match(n.id)
        ]
        refs += [n for n in m.nodes(ast.Attribute) if _DENYLIST_NAME.match(n.attr)]
        for ref in refs:
            check = _check_around(m, ref)
            if check is not None:
                name = ref.id if isinstance(ref, ast.Name) else getattr(ref, "attr", "")
                text = f"check against `{name}` in {m.path} {m.where(check.lineno)}"
                checks.append(Evidence(text, Strength.PRESENT, m.path, check.lineno))
                break
    return lists, checks


def _check_around(m: Module, ref: ast.expr) -> ast.stmt | ast.expr | None:
    """The assert, comparison or exclusion call that uses ``ref``, if any (tests: any use)."""
    cur: ast.AST | None = ref
    while cur is not None and not isinstance(cur, ast.FunctionDef | ast.ClassDef | ast.Module):
        if isinstance(cur, ast.Assert | ast.Compare) or _is_exclusion(cur):
            return cur  # type: ignore[return-value]
        if isinstance(cur, ast.stmt):
            return cur if m.is_test else None
        cur = m.parents.get(cur)
    return None


def _is_exclusion(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr
        in ("drop", "difference", "isdisjoint", "intersection", "remove", "discard")
    )


@rule(
    code="DAT008",
    name="protected-attributes-excluded",
    title="Protected attributes are kept out of model features",
    severity="medium",
    practices=("seml-6", "mts-data-4"),
    applies_when=("personal_data",),
)
def protected_attributes_excluded(facts: Facts) -> Outcome:
    """## What it finds
    Projects on personal data with no declared list of protected attributes kept out of
    the model's features, or a list that nothing checks. Passes with a
    `[tool.steward.gates.*]` policy naming protected attributes, or with a list in a
    config file or in code (`PROTECTED_ATTRIBUTES = [...]`) plus a check that uses it (an
    assert, a test, a `drop`/set difference). A list with no check counts for half.
    Applies when the context says `personal_data = true`.

    ## Why it matters
    SE-ML practice 6, "Prevent Discriminatory Data Attributes Used As Model Features",
    and ML Test Score Data 4, "Features adhere to meta-level requirements": a protected
    attribute slips into the features through a join or a refactor unless a check fails
    when it does.

    ## Example
    ```python
    FEATURES = [c for c in df.columns if c != "label"]     # gender and age included
    ```

    ## Instead
    ```python
    PROTECTED_ATTRIBUTES = {"gender", "age", "ethnicity"}
    assert PROTECTED_ATTRIBUTES.isdisjoint(FEATURES), "protected attribute used as feature"
    ```
    """
    gate = gate_evidence(
        facts, "protected", "protected_attributes", "denylist", "sensitive", "sensitive_features"
    )
    if gate is not None:
        return Outcome.passed(gate)
    lists, checks = _denylist_code(facts)
    config = _denylist_config(facts)
    if config is not None:
        lists.insert(0, config)
    if lists and checks:
        return Outcome.passed(lists[0], checks[0])
    if lists:
        first = lists[0]
        return Outcome.partial(
            0.5,
            Hit(
                "protected attributes are listed but nothing checks the features against the "
                "list; assert it in a test or a gate",
                first.path,
                first.line,
            ),
            evidence=[first],
        )
    return _no_data(facts, "no features to check") or Outcome.failed(
        _data_anchor(
            facts,
            "no list of protected attributes is kept out of the features; declare one and "
            "check the feature list against it",
        )
    )
