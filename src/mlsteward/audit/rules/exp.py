"""EXP: experiment tracking and training practices, read from code, configs, DVC and CI.

Each rule looks for the libraries and calls that carry out a practice (a tracker, a tuner,
a config loader) in source modules and notebooks; test modules do not count as the
project's training. A repository with no training code at all gets not_applicable from
the training rules: there is nothing to track or tune.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.mlcode import (
    BLACK_BOX,
    DL_LIBS,
    DUMMY,
    INTERPRETABLE,
    Site,
    ci_running,
    dvc_pipeline,
    enclosing_function,
    engineered_features,
    first_import,
    gate_evidence,
    in_training_loop,
    index,
    is_entry_point,
    library_users,
    local_imports,
    training_anchor,
    training_modules,
    training_sites,
)
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.yamlfile import load_yaml
from mlsteward.audit.rule import Evidence, Outcome, Strength, rule

# -- data ------------------------------------------------------------------------------------
# fmt: off

#: shared experiment trackers: label -> packages or dotted names
TRACKERS: dict[str, tuple[str, ...]] = {
    "MLflow": ("mlflow",),
    "Weights & Biases": ("wandb",),
    "Neptune": ("neptune",),
    "Comet": ("comet_ml",),
    "ClearML": ("clearml",),
    "Aim": ("aim",),
    "Sacred": ("sacred",),
    "DVCLive": ("dvclive",),
    "Polyaxon": ("polyaxon",),
    "Guild": ("guild",),
    "mlsteward": ("mlsteward",),
    "Azure ML": ("azureml.core.Run", "azureml.core.Experiment", "azureml.core.run.Run"),
    "SageMaker Experiments": ("sagemaker.experiments",),
    "Vertex AI Experiments": ("google.cloud.aiplatform.start_run",
                              "google.cloud.aiplatform.log_metrics"),
}
#: mlsteward is also imported for other things: only its run API counts as tracking
_STEWARD_TRACKING = ("start_run", "log_metric", "log_metrics", "log_param", "log_params")
#: tracker integrations of frameworks, by the class name they are built from
_LOGGER_CLASSES = (
    "MLFlowLogger", "WandbLogger", "NeptuneLogger", "CometLogger", "AimLogger", "DVCLiveLogger",
    "WandbCallback", "MLflowCallback", "NeptuneCallback", "CometCallback", "DVCLiveCallback",
    "ClearMLCallback", "MLflowLoggerCallback", "WandbLoggerCallback", "CometLoggerCallback",
)
_SERVING_CALL = re.compile(r"\.(load_model|load|deployments|models|pyfunc\.spark_udf)\b")
_REPORT_TO = re.compile(r"wandb|mlflow|comet|neptune|clearml|aim|dvclive")
#: local-only metric logs: a start, but no one else sees them
LOCAL_LOGGERS: tuple[str, ...] = (
    "torch.utils.tensorboard.SummaryWriter", "tensorboardX.SummaryWriter", "tensorflow.summary.",
    "keras.callbacks.TensorBoard", "tensorflow.keras.callbacks.TensorBoard",
    "keras.callbacks.CSVLogger", "tensorflow.keras.callbacks.CSVLogger",
    "pytorch_lightning.loggers.TensorBoardLogger", "pytorch_lightning.loggers.CSVLogger",
    "lightning.pytorch.loggers.TensorBoardLogger", "lightning.pytorch.loggers.CSVLogger",
)

#: method names that record a metric value on a run, writer or logger object
_LOG_METHODS = (
    "log", "log_metric", "log_metrics", "add_scalar", "add_scalars", "track", "report_scalar",
    "log_dict", "next_step", "scalar", "log_scalar", "report", "report_intermediate_result",
)
#: training frameworks that take metric reports per epoch (Ray Train/Tune, NNI, Optuna)
_REPORTERS = ("ray.train", "ray.tune", "ray.air", "nni", "optuna", "torch.utils.tensorboard")
#: functions a framework calls once per step or epoch
_PER_STEP_FUNCTION = re.compile(
    r"^(on_\w+|\w*_step|\w*_step_end|\w*epoch\w*|\w*callback\w*|\w*_batch_end|train_one\w*)$"
)
#: framework options that measure validation metrics every epoch or iteration
_PER_EPOCH_KEYWORDS = (
    "callbacks", "validation_data", "validation_split", "eval_set", "evals", "valid_sets",
    "eval_strategy", "evaluation_strategy",
)
_EARLY_STOPPING = ("EarlyStopping", "early_stopping", "EarlyStoppingCallback")
_METRIC_WORDS = re.compile(
    r"loss|acc|f1|auc|prec|recall|metric|score|error|rmse|mae|perplex|iou|map"
)

#: hyper-parameter optimisation: label -> dotted call names ("." ends a package prefix)
HPO: dict[str, tuple[str, ...]] = {
    "Optuna": ("optuna.",),
    "Ray Tune": ("ray.tune.", "tune_sklearn."),
    "Hyperopt": ("hyperopt.",),
    "scikit-optimize": ("skopt.",),
    "KerasTuner": ("keras_tuner.", "kerastuner."),
    "Nevergrad": ("nevergrad.",),
    "Ax": ("ax.service.", "ax.modelbridge."),
    "BayesianOptimization": ("bayes_opt.",),
    "Syne Tune": ("syne_tune.",),
    "SMAC": ("smac.",),
    "Talos": ("talos.",),
    "W&B sweeps": ("wandb.sweep", "wandb.agent"),
    "Comet optimizer": ("comet_ml.Optimizer",),
    "ClearML HPO": ("clearml.automation.",),
    "scikit-learn search": (
        "sklearn.model_selection.GridSearchCV", "sklearn.model_selection.RandomizedSearchCV",
        "sklearn.model_selection.HalvingGridSearchCV",
        "sklearn.model_selection.HalvingRandomSearchCV",
    ),
}

#: configuration frameworks
CONFIG_LIBS: tuple[str, ...] = (
    "hydra", "omegaconf", "gin", "ml_collections", "jsonargparse", "simple_parsing",
    "mmengine.config", "mmcv.Config", "pytorch_lightning.cli", "lightning.pytorch.cli",
    "transformers.HfArgumentParser",
)
#: command-line parsers
CLI_LIBS: tuple[str, ...] = ("argparse", "click", "typer", "docopt", "fire", "absl.flags", "tap")
_YAML_LOADS = ("yaml.safe_load", "yaml.load", "yaml.full_load", "omegaconf.OmegaConf.load")
#: loaders of files that may hold data as well as settings: only a config-ish name counts
_CONFIG_LOADS = (
    "json.load", "toml.load", "tomllib.load", "tomli.load", "configparser.ConfigParser",
)
_CONFIG_WORDS = re.compile(r"conf|param|hparam|hyper|setting|args", re.I)

#: calls that take the metric models are selected or stopped on, and that keyword
_SELECTORS = (
    "ModelCheckpoint", "EarlyStopping", "ReduceLROnPlateau", "create_study", "TuneConfig",
    "CheckpointConfig", "GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV",
    "HalvingRandomSearchCV", "cross_val_score", "cross_validate", "TrainingArguments", "Tuner",
    "run", "fit", "XGBClassifier", "XGBRegressor", "LGBMClassifier", "LGBMRegressor",
    "CatBoostClassifier", "CatBoostRegressor",
)
_SELECTION_KEYWORDS = (
    "monitor", "metric", "scoring", "metric_for_best_model", "checkpoint_score_attribute",
    "eval_metric", "objective_metric_name", "direction", "directions",
)
_METRICS_FILE = re.compile(r"(^|/)\w*(metrics?|scores?|results?)\.json$", re.I)
_METRICS_WORD = re.compile(r"(metrics?|scores?|results?)\.json", re.I)

#: AutoML and architecture search: label -> packages
AUTOML: dict[str, tuple[str, ...]] = {
    "auto-sklearn": ("autosklearn",),
    "FLAML": ("flaml",),
    "AutoGluon": ("autogluon",),
    "AutoKeras": ("autokeras",),
    "NNI": ("nni",),
    "TPOT": ("tpot",),
    "H2O AutoML": ("h2o.automl",),
    "PyCaret": ("pycaret",),
    "EvalML": ("evalml",),
    "mljar-supervised": ("supervised.automl",),
    "LazyPredict": ("lazypredict",),
    "Auto-PyTorch": ("autoPyTorch",),
    "hyperopt-sklearn": ("hpsklearn",),
    "Ludwig AutoML": ("ludwig.automl",),
    "NASLib": ("naslib",),
    "Archai": ("archai",),
    "KerasTuner (architecture search)": ("keras_tuner", "kerastuner"),
}

#: automated feature generation and selection
FEATURE_AUTOMATION: tuple[str, ...] = (
    "featuretools.", "tsfresh.", "autofeat.", "boruta.", "mlxtend.feature_selection.",
    "feature_engine.selection.", "feature_engine.creation.", "openfe.", "featurewiz.",
    "sklearn.feature_selection.", "sklearn.preprocessing.PolynomialFeatures",
    "sklearn.preprocessing.SplineTransformer",
)

#: post-hoc explanation of a black box: worth something, not an interpretable model
EXPLAINERS: tuple[str, ...] = (
    "shap", "lime", "captum", "eli5", "dalex", "alibi", "interpret.blackbox", "sklearn.inspection",
)

#: making models smaller or cheaper, or measuring their energy: label -> packages
EFFICIENCY: dict[str, tuple[str, ...]] = {
    "quantisation": (
        "torch.ao.quantization", "torch.quantization", "onnxruntime.quantization",
        "tensorflow_model_optimization", "neural_compressor", "nncf", "bitsandbytes", "optimum",
        "torch.ao.nn.quantized",
    ),
    "pruning": ("torch.nn.utils.prune", "torch.ao.pruning", "torch_pruning"),
    "compilation to an inference engine": ("tensorrt", "torch_tensorrt", "openvino"),
    "energy measurement": ("codecarbon", "carbontracker", "eco2ai", "zeus"),
}
_LOW_PRECISION_KW = ("load_in_8bit", "load_in_4bit")
_DISTILL = re.compile(r"distil", re.I)
_MODEL_NAME = re.compile(r"model|net|ema", re.I)

# fmt: on


# -- shared helpers --------------------------------------------------------------------------


def _no_training(facts: Facts, what: str) -> Outcome | None:
    """not_applicable when nothing in the repository trains a model."""
    if training_sites(facts):
        return None
    return Outcome.not_applicable(f"no training code found (no fit/backward/trainer call): {what}")


def _first_call(facts: Facts, names: Iterable[str]) -> Site | None:
    sites = index(facts).calls(*names)
    return sites[0] if sites else None


def _with_ci(
    facts: Facts, evidence: list[Evidence], modules: Iterable[Module], kinds: tuple[str, ...]
) -> list[Evidence]:
    """The evidence, plus a CI job that runs one of ``modules`` when there is one."""
    ci = ci_running(facts, modules, kinds)
    return [*evidence, ci] if ci is not None else evidence


def _import_evidence(m: Module, libs: tuple[str, ...], what: str) -> Evidence:
    site = first_import(m, libs)
    if site is None:
        return Evidence(f"{what} in {m.path}", Strength.PRESENT, m.path)
    return site.evidence(f"{what}: `{site.name}` in {site.where}")


def _call_text(site: Site, limit: int = 60) -> str:
    text = ast.unparse(site.node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- EXP001 ------------------------------------------------------------------------------------


def _tracker_sites(facts: Facts) -> list[tuple[str, Site]]:
    """(tracker, first call) for every tracker the source uses."""
    idx = index(facts)
    found: list[tuple[str, Site]] = []
    for label, libs in TRACKERS.items():
        if label == "mlsteward":
            sites = [
                s for s in idx.calls("mlsteward.") if s.name.rsplit(".", 1)[-1] in _STEWARD_TRACKING
            ]
        else:
            sites = idx.calls(*(f"{lib}." for lib in libs), *libs)
            # loading a registered model to serve it is not tracking experiments
            sites = [s for s in sites if not _SERVING_CALL.search(s.name)]
        if sites:
            found.append((label, sites[0]))
    found += [(s.name.rsplit(".", 1)[-1], s) for s in idx.methods(*_LOGGER_CLASSES)]
    for s in idx.methods("TrainingArguments", "SFTConfig"):
        value = next((k.value for k in _keywords(s) if k.arg == "report_to"), None)
        text = ast.unparse(value) if value is not None else ""
        if _REPORT_TO.search(text):
            found.append((f"report_to={text}", s))
    return found


def _tracked_runs(facts: Facts) -> Evidence | None:
    """Runs in the project's mlsteward store: verified, not inferred from the source."""
    runs = facts.records.runs
    if not facts.records.readable or not runs.with_params + runs.with_metrics:
        return None
    return Evidence(
        f"{runs.total} runs tracked in .steward/steward.db ({runs.with_params} with params, "
        f"{runs.with_metrics} with metrics)",
        Strength.VERIFIED,
        ".steward/steward.db",
    )


def _keywords(site: Site) -> list[ast.keyword]:
    return site.node.keywords if isinstance(site.node, ast.Call) else []


def _conditional(site: Site) -> bool:
    """Whether the tracker is imported inside a block (try/if/def): optional."""
    imp = first_import(site.module, (site.name.split(".", 1)[0],))
    tree = site.module.tree
    return imp is not None and tree is not None and imp.node not in tree.body


@rule(
    code="EXP001",
    name="experiment-tracking",
    title="Experiments are recorded in a tracker",
    severity="medium",
    practices=("seml-23",),
)
def experiment_tracking(facts: Facts) -> Outcome:
    """## What it finds
    Training code that records its runs in no experiment tracker: no MLflow, Weights &
    Biases, Neptune, Comet, ClearML, Aim, Sacred, DVCLive, Azure ML or mlsteward run is
    started or logged to anywhere in the source. TensorBoard or CSV logs alone count for
    half: they stay on the machine that trained.

    ## Why it matters
    SE-ML practice 23, "Share Status and Outcomes of Experiments Within the Team": runs
    kept in a notebook's output or a local folder cannot be compared, repeated or found by
    anyone else, so work is duplicated and results are lost.

    ## Example
    ```python
    model.fit(X_train, y_train)
    print("accuracy", model.score(X_test, y_test))   # gone when the terminal closes
    ```

    ## Instead
    ```python
    import mlflow
    with mlflow.start_run():
        mlflow.log_params(params)
        model.fit(X_train, y_train)
        mlflow.log_metric("accuracy", model.score(X_test, y_test))
    ```
    """
    trackers = _tracker_sites(facts)
    recorded = _tracked_runs(facts)
    if trackers:
        evidence = [
            s.evidence(
                f"{label}: `{s.name or _call_text(s)}` in {s.where}"
                + (" (imported conditionally: optional)" if _conditional(s) else "")
            )
            for label, s in trackers[:3]
        ]
        mods = {s.path: s.module for _, s in trackers}
        evidence = _with_ci(facts, evidence, mods.values(), ("train",))
        return Outcome.passed(*([recorded] if recorded else []), *evidence)
    if recorded is not None:
        return Outcome.passed(recorded)
    local = _first_call(facts, LOCAL_LOGGERS)
    if local is not None:
        return Outcome.partial(
            0.5,
            local.hit(
                "metrics are logged locally only (TensorBoard/CSV); record runs in a shared "
                "tracker (MLflow, W&B, mlsteward) so the team can see and compare them"
            ),
            evidence=[local.evidence(f"local metric log `{local.name}` in {local.where}")],
        )
    return _no_training(facts, "nothing to track") or Outcome.failed(
        training_anchor(
            facts,
            "training records its runs in no experiment tracker; log params and metrics to "
            "MLflow, W&B or an mlsteward run",
        )
    )


# -- EXP002 ------------------------------------------------------------------------------------


def _tracker_libs() -> tuple[str, ...]:
    """Packages whose users may log metrics through an object (``run.log``, ``self.log``)."""
    libs = [lib.split(".")[0] for ls in TRACKERS.values() for lib in ls]
    return (*libs, *_REPORTERS, "tensorboardX", "pytorch_lightning", "lightning", "tensorflow")


#: resolved names that are metric logging in themselves
_LOGGING_PREFIXES = (
    *(f"{lib}." for libs in TRACKERS.values() for lib in libs),
    *(f"{lib}." for lib in _REPORTERS),
    "tensorflow.summary.",
)


def _is_metric_log(site: Site) -> bool:
    """``run.log(...)``, ``wandb.log(...)``, ``self.log(...)``; not ``np.log(x)``."""
    if site.name.startswith(_LOGGING_PREFIXES):
        return True
    node = site.node.func if isinstance(site.node, ast.Call) else None
    if not isinstance(node, ast.Attribute):
        return False  # a bare log(...) is math.log imported by name, more often than not
    while isinstance(node, ast.Attribute):
        node = node.value
    # a method of an imported module (np.log, math.log, logging.log) is not a metric log;
    # a method of a local object (run, writer, live, self) is
    return not (isinstance(node, ast.Name) and node.id in site.module.aliases)


def _per_step_logs(facts: Facts) -> list[Site]:
    """Metric-logging calls that run once per step or epoch."""
    users = library_users(facts, _tracker_libs())
    out: list[Site] = []
    for s in index(facts).methods(*_LOG_METHODS, within=users):
        if not _is_metric_log(s):
            continue
        func = enclosing_function(s.module, s.node)
        if in_training_loop(s.module, s.node) or (
            func is not None and _PER_STEP_FUNCTION.match(func.name)
        ):
            out.append(s)
    return out


def _per_epoch_features(facts: Facts) -> list[Site]:
    """Framework calls that measure validation metrics every epoch or iteration."""
    idx = index(facts)
    ml = {m.path for m in library_users(facts, (*DL_LIBS, "xgboost", "lightgbm", "catboost"))}
    out = [s for s in idx.methods(*_EARLY_STOPPING) if s.path in ml]
    for s in idx.methods("fit", "train", "TrainingArguments", "Trainer", "SFTConfig"):
        if s.path not in ml:
            continue
        kws = [k for k in _keywords(s) if k.arg in _PER_EPOCH_KEYWORDS]
        if any(
            not (isinstance(k.value, ast.Constant) and k.value.value in (None, "no")) for k in kws
        ):
            out.append(s)
    return out


def _printed_in_loop(modules: Iterable[Module]) -> Site | None:
    """A print or log line in a training loop that shows a metric."""
    for m in modules:
        for call, name in m.calls():
            if name not in ("print", "logging.info") and not name.endswith(
                (".info", ".set_postfix", ".set_description")
            ):
                continue
            if _METRIC_WORDS.search(ast.unparse(call).lower()) and in_training_loop(m, call):
                return Site(m, call, name)
    return None


def _recorded_per_version(facts: Facts) -> Evidence | None:
    """Evidence that each run's metrics are kept (DVC metrics or a tracker log call)."""
    pipe = dvc_pipeline(facts)
    if pipe.metrics_files:
        text = f"DVC tracks metrics: {', '.join(pipe.metrics_files[:3])}"
        return Evidence(text, Strength.PRESENT, pipe.path)
    users = library_users(facts, _tracker_libs())
    logs = [s for s in index(facts).methods(*_LOG_METHODS, within=users) if _is_metric_log(s)]
    logs += index(facts).calls("mlflow.autolog", "mlflow.sklearn.autolog")
    if logs:
        return logs[0].evidence(f"metrics recorded per run: `{logs[0].name}` in {logs[0].where}")
    return None


@rule(
    code="EXP002",
    name="metrics-during-training",
    title="Training records metrics as it runs",
    severity="medium",
    practices=("seml-20",),
)
def metrics_during_training(facts: Facts) -> Outcome:
    """## What it finds
    Training code that measures quality only once, at the end, or not at all. Passes when
    metrics are logged inside the training loop or from per-step/per-epoch hooks
    (`wandb.log`, `mlflow.log_metric`, `writer.add_scalar`, Lightning's `self.log`, Ray's
    `train.report`), when the framework evaluates every epoch (Keras `validation_data` or
    callbacks, `eval_set` for boosting, `EarlyStopping`), or, for one-shot classical
    training, when each version's metrics are recorded (a tracker or DVC metrics). Losses
    that are only printed in the loop count for half.

    ## Why it matters
    SE-ML practice 20, "Continuously Measure Model Quality and Performance": a metric
    time series shows divergence, over-fitting and regressions while they happen; a final
    number hides them.

    ## Example
    ```python
    for epoch in range(epochs):
        train_one_epoch(model, loader)
    print(evaluate(model))            # the only measurement
    ```

    ## Instead
    ```python
    for epoch in range(epochs):
        loss = train_one_epoch(model, loader)
        run.log_metric("val_loss", evaluate(model), step=epoch)
    ```
    """
    logs = _per_step_logs(facts)
    runs = facts.records.runs
    if facts.records.readable and runs.stepped:
        stepped = Evidence(
            f"{runs.stepped} tracked runs recorded metrics step by step (.steward/steward.db)",
            Strength.VERIFIED,
            ".steward/steward.db",
        )
        return Outcome.passed(stepped, *[s.evidence(f"`{s.name}` in {s.where}") for s in logs[:1]])
    if logs:
        return Outcome.passed(
            *[
                s.evidence(f"metrics logged per step/epoch: `{s.name}` in {s.where}")
                for s in logs[:2]
            ]
        )
    epoch = _per_epoch_features(facts)
    if epoch:
        s = epoch[0]
        text = (
            f"the framework measures metrics every epoch/iteration: `{_call_text(s)}` in {s.where}"
        )
        return Outcome.passed(s.evidence(text))
    na = _no_training(facts, "nothing to measure")
    if na is not None:
        return na
    iterative = [m for m in training_modules(facts) if m.imports_any(*DL_LIBS)]
    if iterative:
        printed = _printed_in_loop(iterative)
        if printed is not None:
            return Outcome.partial(
                0.5,
                printed.hit(
                    "metrics are only printed during training; log them to a tracker per step "
                    "or epoch so the series is kept"
                ),
                evidence=[
                    printed.evidence(f"metrics printed in the training loop at {printed.where}")
                ],
            )
        return Outcome.failed(
            training_anchor(
                facts,
                "no metric is logged during training; log validation metrics per epoch "
                "(tracker, callbacks or early stopping)",
            )
        )
    recorded = _recorded_per_version(facts)
    if recorded is not None:
        return Outcome.passed(
            recorded, note="one-shot (classical) training: metrics recorded per version"
        )
    return Outcome.failed(
        training_anchor(
            facts,
            "model quality is not recorded for each training run; log metrics to a tracker or "
            "DVC metrics so versions can be compared",
        )
    )


# -- EXP003 ------------------------------------------------------------------------------------


def _yaml_files(facts: Facts, *words: str) -> list[str]:
    pats = [f"*{w}*.{ext}" for w in words for ext in ("yaml", "yml")]
    pats += [f"**/*{w}*/*.{ext}" for w in words for ext in ("yaml", "yml")]
    return facts.files.glob(*pats)


def _sweep_configs(facts: Facts) -> list[Evidence]:
    """W&B sweep, Katib or similar search-space files, and Hydra sweepers."""
    out = []
    for rel in _yaml_files(facts, "sweep", "katib", "hpo", "tune", "tuning"):
        text = facts.files.read_text(rel)
        data = load_yaml(facts, rel, text) if text is not None else None
        if not isinstance(data, dict):
            continue
        spec = data["spec"] if isinstance(data.get("spec"), dict) else data
        if "parameters" in spec and any(
            k in spec for k in ("method", "metric", "algorithm", "objective")
        ):
            out.append(Evidence(f"search space and method in {rel}", Strength.PRESENT, rel, 1))
    for rel in facts.files.glob("**/conf/**/*.yaml", "**/configs/**/*.yaml", "**/config/**/*.yaml"):
        text = facts.files.read_text(rel) or ""
        match = re.search(r"hydra/sweeper|^\s*sweeper:", text, re.M)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            out.append(Evidence(f"Hydra sweeper configured in {rel}", Strength.PRESENT, rel, line))
    return out


@rule(
    code="EXP003",
    name="hyperparameter-search",
    title="Hyper-parameters are tuned by an automated search",
    severity="medium",
    practices=("seml-18", "mts-model-3"),
    applies_when=("model",),
)
def hyperparameter_search(facts: Facts) -> Outcome:
    """## What it finds
    Training code with no automated hyper-parameter search: no Optuna, Ray Tune,
    Hyperopt, scikit-optimize, KerasTuner, Nevergrad or Ax study, no scikit-learn
    `GridSearchCV`/`RandomizedSearchCV`/`Halving*SearchCV`, no W&B sweep, Katib
    experiment or Hydra sweeper configuration.

    ## Why it matters
    SE-ML practice 18, "Automate Hyper-Parameter Optimisation", and ML Test Score Model 3,
    "All hyperparameters have been tuned": hand-picked values leave quality on the table
    and cannot be reproduced or revisited when the data changes.

    ## Example
    ```python
    model = RandomForestClassifier(n_estimators=300, max_depth=12)  # chosen by hand
    ```

    ## Instead
    ```python
    search = RandomizedSearchCV(RandomForestClassifier(), {"max_depth": range(2, 20)},
                                n_iter=50, random_state=0)
    search.fit(X_train, y_train)
    ```
    """
    found = [(label, s) for label, names in HPO.items() if (s := _first_call(facts, names))]
    evidence = [s.evidence(f"{label}: `{s.name}` in {s.where}") for label, s in found[:3]]
    evidence += _sweep_configs(facts)[:2]
    if evidence:
        mods = {s.path: s.module for _, s in found}
        return Outcome.passed(*_with_ci(facts, evidence, mods.values(), ("train",)))
    return _no_training(facts, "nothing to tune") or Outcome.failed(
        training_anchor(
            facts,
            "hyper-parameters are set by hand; search them with Optuna, Ray Tune or "
            "scikit-learn's *SearchCV",
        )
    )


# -- EXP004 ------------------------------------------------------------------------------------


def _reads_settings(m: Module) -> str | None:
    """How a module takes settings from outside, if it does."""
    if m.imports_any(*CONFIG_LIBS):
        return "a configuration framework"
    if m.imports_any(*CLI_LIBS):
        return "command-line options"
    for call, name in m.calls():
        if name in _YAML_LOADS:
            return f"a YAML config (`{name}`)"
        if name in _CONFIG_LOADS and _CONFIG_WORDS.search(ast.unparse(call)):
            return f"a config file (`{name}`)"
        if name == "exec" and call.args and "open(" in ast.unparse(call.args[0]):
            return "a configurator script (`exec(open(...).read())`)"
    return None


def _papermill_parameters(facts: Facts, m: Module) -> bool:
    """Whether a notebook has a cell tagged ``parameters`` (papermill injects settings)."""
    text = facts.files.read_text(m.path)
    if not text or '"parameters"' not in text:
        return False
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return False
    return any(
        "parameters" in (c.get("metadata", {}).get("tags") or [])
        for c in cells
        if isinstance(c, dict) and isinstance(c.get("metadata"), dict)
    )


def _configured(facts: Facts, m: Module, staged: set[str]) -> str | None:
    how = _reads_settings(m)
    if how:
        return how
    if m.is_notebook and _papermill_parameters(facts, m):
        return "a papermill parameters cell"
    if m.path in staged:
        return "DVC params"
    for dep in local_imports(facts, m):
        if _reads_settings(dep):
            return f"{_reads_settings(dep)} through {dep.path}"
    return None


@rule(
    code="EXP004",
    name="training-configured",
    title="Training takes its parameters from configuration",
    severity="medium",
    practices=("seml-16",),
)
def training_configured(facts: Facts) -> Outcome:
    """## What it finds
    Training scripts and notebooks whose hyper-parameters and paths are constants in the
    code: no configuration framework (Hydra, OmegaConf, gin), no command-line options
    (argparse, click, typer, fire), no config file read (`params.yaml`, JSON, TOML), no
    papermill parameters cell and no DVC stage passing `params`, in the script or in a
    project module it imports. The score is the share of training entry points (scripts
    with a `__main__` guard or top-level training, notebooks) that are parameterised.

    ## Why it matters
    SE-ML practice 16, "Enable Parallel Training Experiments": experiments run side by
    side only when each one is a configuration, not an edited copy of the script; a
    configuration is also what the tracker records and a reviewer can diff.

    ## Example
    ```python
    LR = 0.01          # edit and re-run
    EPOCHS = 20
    model.fit(X, y, epochs=EPOCHS)
    ```

    ## Instead
    ```python
    @hydra.main(config_path="conf", config_name="train", version_base=None)
    def main(cfg):
        model.fit(X, y, epochs=cfg.epochs)
    ```
    """
    sites = training_sites(facts)
    if not sites:
        return Outcome.not_applicable("no training code found (no fit/backward/trainer call)")
    pipe = dvc_pipeline(facts)
    staged = {
        m.path
        for m in training_modules(facts)
        for st in pipe.stages
        if st.params and m.path in st.cmd
    }
    mods = training_modules(facts)
    top_level = {s.path for s in sites if enclosing_function(s.module, s.node) is None}
    entries = [m for m in mods if is_entry_point(m) or m.path in top_level] or mods
    good: list[tuple[Module, str]] = []
    hits = []
    for m in entries:
        how = _configured(facts, m, staged)
        if how:
            good.append((m, how))
        else:
            site = next(s for s in sites if s.path == m.path)
            hits.append(
                site.hit(
                    "training parameters are constants in the code; read them from a config "
                    "file or command-line options"
                )
            )
    evidence = []
    for m, how in good[:3]:
        imp = first_import(m, (*CONFIG_LIBS, *CLI_LIBS))
        line = imp.line if imp else None
        evidence.append(Evidence(f"{m.path} reads {how}", Strength.PRESENT, m.path, line))
    return Outcome.partial(
        len(good) / len(entries),
        *hits,
        evidence=evidence,
        note=f"{len(good)} of {len(entries)} training entry points parameterised",
    )


# -- EXP005 ------------------------------------------------------------------------------------


def _selection_metric(facts: Facts) -> Evidence | None:
    """A metric handed to a checkpoint, early stopping, search or study."""
    for s in index(facts).methods(*_SELECTORS):
        for k in _keywords(s):
            if k.arg in _SELECTION_KEYWORDS and not (
                isinstance(k.value, ast.Constant) and k.value.value is None
            ):
                value = ast.unparse(k.value)[:40]
                return s.evidence(f"models are selected on `{k.arg}={value}` in {s.where}")
    return None


def _best_so_far(facts: Facts) -> Evidence | None:
    """``if val_loss < best_val_loss``: a model kept when one number improves."""
    for m in training_modules(facts):
        for cmp in m.nodes(ast.Compare):
            if not all(isinstance(op, ast.Lt | ast.Gt | ast.LtE | ast.GtE) for op in cmp.ops):
                continue
            for side in (cmp.left, *cmp.comparators):
                name = side.id if isinstance(side, ast.Name) else getattr(side, "attr", "")
                if name.startswith("best_"):
                    text = (
                        f"models are kept when `{name}` improves ({m.path} {m.where(cmp.lineno)})"
                    )
                    return Evidence(text, Strength.PRESENT, m.path, cmp.lineno)
    return None


def _metrics_file_written(facts: Facts) -> Evidence | None:
    """A ``metrics.json``-like file named in the source (evaluation writes it)."""
    for m in facts.python.source_modules:
        if ".json" not in m.source or not _METRICS_WORD.search(m.source):
            continue  # the file name must be in the text: no need to parse
        for const in m.nodes(ast.Constant):
            value = const.value
            if isinstance(value, str) and len(value) < 120 and _METRICS_FILE.search(value):
                text = f"evaluation writes `{value}` ({m.path} {m.where(const.lineno)})"
                return Evidence(text, Strength.PRESENT, m.path, const.lineno)
    return None


@rule(
    code="EXP005",
    name="primary-metric",
    title="A primary metric is declared",
    severity="medium",
    practices=("seml-10",),
    applies_when=("model",),
)
def primary_metric(facts: Facts) -> Outcome:
    """## What it finds
    Training code with no declared metric to judge models by: no DVC `metrics:` file, no
    gate in `[tool.steward.gates]`, no selection metric given to the tools that pick
    models (`monitor=` of a checkpoint or early stopping, `scoring=` of a search, Optuna's
    `direction=`, `metric_for_best_model=`), no "best so far" comparison, no sweep metric
    and no metrics file written by evaluation.

    ## Why it matters
    SE-ML practice 10, "Capture the Training Objective in a Metric that is Easy to Measure
    and Understand": one agreed metric is what makes two runs comparable and a model
    "better"; without it every review argues from a different number.

    ## Example
    ```python
    print(classification_report(y_test, pred))    # twelve numbers, none chosen
    ```

    ## Instead
    ```yaml
    # dvc.yaml
    stages:
      evaluate:
        cmd: python evaluate.py
        metrics:
          - eval/metrics.json: {cache: false}
    ```
    """
    pipe = dvc_pipeline(facts)
    evidence: list[Evidence] = []
    if pipe.metrics_files:
        text = f"DVC metrics: {', '.join(pipe.metrics_files[:3])}"
        evidence.append(Evidence(text, Strength.PRESENT, pipe.path))
    for found in (gate_evidence(facts), _selection_metric(facts), _best_so_far(facts)):
        if found is not None:
            evidence.append(found)
    if not evidence:
        evidence += [e for e in _sweep_configs(facts) if "sweeper" not in e.text]
        written = _metrics_file_written(facts)
        evidence += [written] if written else []
    if evidence:
        return Outcome.passed(*evidence[:3])
    return _no_training(facts, "no model to judge") or Outcome.failed(
        training_anchor(
            facts,
            "no primary metric is declared; name the metric models are judged by (DVC metrics, "
            "a gate, or the selection metric of checkpoints and searches)",
        )
    )


# -- EXP006 ------------------------------------------------------------------------------------


@rule(
    code="EXP006",
    name="automl",
    title="Algorithm or model structure is searched automatically",
    severity="low",
    practices=("seml-19",),
    profiles=("production",),
    applies_when=("model",),
)
def automl(facts: Facts) -> Outcome:
    """## What it finds
    Training code that fixes the algorithm and the model structure by hand: no AutoML or
    architecture-search library (auto-sklearn, FLAML, AutoGluon, AutoKeras, NNI, TPOT,
    H2O AutoML, PyCaret, KerasTuner) is used. Checked in the production profile only.

    ## Why it matters
    SE-ML practice 19, "Automate Configuration of Algorithms or Model Structure": a search
    over model families and structures explores more than a person tries by hand and
    records why the winner won. It is an advanced practice; its absence is a missed
    opportunity rather than a defect, hence the low severity.

    ## Example
    ```python
    model = GradientBoostingClassifier()    # the only family ever tried
    ```

    ## Instead
    ```python
    from flaml import AutoML
    automl = AutoML()
    automl.fit(X_train, y_train, task="classification", time_budget=600)
    ```
    """
    for label, libs in AUTOML.items():
        site = _first_call(facts, [f"{lib}." for lib in libs])
        if site is not None:
            return Outcome.passed(site.evidence(f"{label}: `{site.name}` in {site.where}"))
    return _no_training(facts, "nothing to configure automatically") or Outcome.failed(
        training_anchor(
            facts,
            "the model family and structure are fixed by hand; try an AutoML search (FLAML, "
            "AutoGluon, auto-sklearn) to see what else fits",
        )
    )


# -- EXP007 ------------------------------------------------------------------------------------


@rule(
    code="EXP007",
    name="feature-automation",
    title="Features are generated or selected automatically",
    severity="low",
    practices=("seml-17",),
    applies_when=("features",),
)
def feature_automation(facts: Facts) -> Outcome:
    """## What it finds
    Projects with hand-made features where no automated feature generation or selection
    is used: no featuretools, tsfresh, autofeat, Boruta, `sklearn.feature_selection`
    (`SelectKBest`, `RFE`, `SelectFromModel`) or `PolynomialFeatures`. Projects that only
    train neural networks are not applicable unless the context says `features = true`:
    the network learns its features.

    ## Why it matters
    SE-ML practice 17, "Automate Feature Generation and Selection": candidate features and
    the choice among them should come from a repeatable procedure, not only from
    intuition, so that useless features are dropped and the choice can be re-run.

    ## Example
    ```python
    X = df[["age", "income", "tenure"]]    # picked by hand, never re-examined
    ```

    ## Instead
    ```python
    pipe = make_pipeline(SelectKBest(mutual_info_classif, k=20), LogisticRegression())
    ```
    """
    site = _first_call(facts, FEATURE_AUTOMATION)
    if site is not None:
        return Outcome.passed(site.evidence(f"`{site.name}` in {site.where}"))
    hand = engineered_features(facts)
    if hand is None:
        return Outcome.not_applicable("no training code found: no features to select")
    if not hand:
        return Outcome.not_applicable(
            "only neural networks are trained: they learn their features "
            "(set [tool.steward.context] features = true if the project engineers features)"
        )
    return Outcome.failed(
        training_anchor(
            facts,
            "features are chosen by hand; add automated selection (SelectKBest, RFE, "
            "SelectFromModel) or generation (featuretools, tsfresh)",
        )
    )


# -- EXP008 ------------------------------------------------------------------------------------


@rule(
    code="EXP008",
    name="interpretable-model",
    title="An interpretable model is tried",
    severity="low",
    practices=("seml-14",),
)
def interpretable_model(facts: Facts) -> Outcome:
    """## What it finds
    Black-box models (ensembles, boosting, neural networks) trained with no interpretable
    model beside them: no linear or logistic regression, decision tree, naive Bayes, GAM
    or EBM is built in the project. A dummy baseline or post-hoc explanations (SHAP, LIME,
    captum) count for half. When only neural networks are trained and no classical model
    appears, the verdict is unknown: whether an interpretable model could do the task
    (images, text) cannot be told from code.

    ## Why it matters
    SE-ML practice 14, "Employ Interpretable Models When Possible": a model people can
    inspect is easier to debug, to explain and to trust; a black box should earn its
    place by beating one, with the reason written down.

    ## Example
    ```python
    model = XGBClassifier(n_estimators=500).fit(X_train, y_train)   # nothing simpler tried
    ```

    ## Instead
    ```python
    simple = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    model = XGBClassifier(n_estimators=500).fit(X_train, y_train)
    report(simple, model)       # keep the black box only if it clearly wins
    ```
    """
    idx = index(facts)
    glass, black = idx.calls(*INTERPRETABLE), idx.calls(*BLACK_BOX)
    dl = [m for m in training_modules(facts) if m.imports_any(*DL_LIBS)]
    if glass:
        beside = " beside black-box models" if black or dl else ""
        return Outcome.passed(
            glass[0].evidence(f"interpretable model `{glass[0].name}` in {glass[0].where}{beside}")
        )
    if not black and not dl:
        return _no_training(facts, "no model") or Outcome.not_applicable(
            "no model family recognised in the training code"
        )
    partial: list[Evidence] = []
    dummy = idx.calls(*DUMMY)
    if dummy:
        partial.append(dummy[0].evidence(f"dummy baseline `{dummy[0].name}` in {dummy[0].where}"))
    explainers = library_users(facts, EXPLAINERS)
    if explainers:
        partial.append(_import_evidence(explainers[0], EXPLAINERS, "post-hoc explanations"))
    message = (
        "no interpretable model (linear, decision tree, GAM) is evaluated beside the black-box "
        "models; try one and keep the black box only if it clearly wins"
    )
    hit = black[0].hit(message) if black else training_anchor(facts, message, {m.path for m in dl})
    if partial:
        return Outcome.partial(0.5, hit, evidence=partial)
    if not black:
        return Outcome.unknown(
            "only neural networks are trained: whether an interpretable model could do this task "
            "cannot be told from code; declare seml-14 if you compared one"
        )
    return Outcome.failed(hit)


# -- EXP009 ------------------------------------------------------------------------------------


def _efficiency(facts: Facts, dl_mods: list[Module]) -> Evidence | None:
    for label, libs in EFFICIENCY.items():
        site = _first_call(facts, [f"{lib}." for lib in libs])
        if site is not None:
            return site.evidence(f"{label}: `{site.name}` in {site.where}")
        users = library_users(facts, libs)
        if users:
            return _import_evidence(users[0], libs, label)
    dl_paths = {m.path for m in dl_mods}
    for s in index(facts).methods("from_pretrained", "half"):
        func = s.node.func if isinstance(s.node, ast.Call) else None
        if s.path not in dl_paths or not isinstance(func, ast.Attribute):
            continue
        receiver = (s.module.qualname(func.value) or "").rsplit(".", 1)[-1]
        if func.attr == "half" and _MODEL_NAME.search(receiver):
            return s.evidence(f"half precision: `{_call_text(s)}` in {s.where}")
        if any(k.arg in _LOW_PRECISION_KW for k in _keywords(s)):
            return s.evidence(f"8/4-bit loading: `{_call_text(s)}` in {s.where}")
    for m in dl_mods:
        defs: list[ast.FunctionDef | ast.ClassDef] = [
            *m.nodes(ast.FunctionDef),
            *m.nodes(ast.ClassDef),
        ]
        for node in defs:
            if _DISTILL.search(node.name):
                text = f"distillation: `{node.name}` in {m.path} {m.where(node.lineno)}"
                return Evidence(text, Strength.PRESENT, m.path, node.lineno)
    return None


@rule(
    code="EXP009",
    name="efficient-models",
    title="Models are made smaller or cheaper",
    severity="low",
    practices=("seml-46",),
)
def efficient_models(facts: Facts) -> Outcome:
    """## What it finds
    Neural-network projects with no step that makes models cheaper to run: no
    quantisation (`torch.ao.quantization`, ONNX Runtime, Optimum, TF Model Optimization,
    bitsandbytes), pruning (`torch.nn.utils.prune`), distillation, half precision or
    TensorRT/OpenVINO compilation, and no energy measurement (codecarbon). Projects that
    train no network are not applicable: these techniques target networks.

    ## Why it matters
    SE-ML practice 46, "Use The Most Efficient Models": the smallest model that does the
    job saves compute, latency and energy in every prediction it serves.

    ## Example
    ```python
    torch.save(model, "model.pt")       # full fp32 network shipped as trained
    ```

    ## Instead
    ```python
    small = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    ```
    """
    dl_mods = library_users(facts, DL_LIBS)
    found = _efficiency(facts, dl_mods)
    if found is not None:
        return Outcome.passed(found)
    dl_training = {m.path for m in training_modules(facts) if m.imports_any(*DL_LIBS)}
    if not dl_training:
        return _no_training(facts, "no model") or Outcome.not_applicable(
            "no neural network is trained: quantisation and pruning target networks"
        )
    return Outcome.failed(
        training_anchor(
            facts,
            "no step makes the trained networks smaller or cheaper; measure size and latency and "
            "try quantisation, pruning, distillation or half precision",
            dl_training,
        )
    )
