"""MON: monitoring of served models - metrics, prediction logs, drift, inputs, alerts.

SE-ML practices 30 (continuously monitor deployed models), 31 (detect skew), 33 (log
predictions with the model version and inputs) and the ML Test Score monitoring tests 2
to 7 (input invariants, training/serving skew, staleness, numerical stability, computing
performance, prediction quality). All of them apply only to deployed models
(``[tool.steward.context] deployed``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.serving import Handler
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.dpl import deploy_anchor, evidence_of, served_here

NOT_SERVED = "nothing in this repository serves a model"


def sources(facts: Facts, notebooks: bool = False) -> Iterator[Module]:
    """Non-test modules (and notebooks if asked), unparsed: callers check the text or the
    imports before the tree, so most modules of a large repository are never parsed."""
    for m in facts.python.source_modules:
        if notebooks or not m.is_notebook:
            yield m


def first_import(m: Module, libs: Iterable[str]) -> str | None:
    return next((lib for lib in libs if lib in m.imports), None)


def import_line(m: Module, lib: str) -> int | None:
    for imp in m.nodes(ast.Import):
        if any(a.name == lib or a.name.startswith(f"{lib}.") for a in imp.names):
            return imp.lineno
    for frm in m.nodes(ast.ImportFrom):
        if frm.module and (frm.module == lib or frm.module.startswith(f"{lib}.")):
            return frm.lineno
    return None


def ci_running(facts: Facts, path: str) -> Evidence | None:
    """Evidence that a CI job runs this file (its path or module name in a command)."""
    dotted = path[:-3].replace("/", ".") if path.endswith(".py") else path
    for job in sorted(facts.ci.jobs, key=lambda j: -j.strength):
        for cmd in job.commands:
            if path in cmd.text or dotted in cmd.text:
                when = ", ".join(sorted(job.triggers)) or "no trigger"
                text = f"{job.provider} job '{job.name}' runs {path} ({when})"
                return Evidence(text, min(job.strength, Strength.AUTOMATED), job.path, cmd.line)
    return None


def serving_anchor(facts: Facts) -> str | None:
    serving = facts.deploy.of("serving")
    return serving[0].path if serving else deploy_anchor(facts)


# -- MON001 ---------------------------------------------------------------------------------

METRICS_LIBS = {
    "prometheus_client": "Prometheus client",
    "prometheus_fastapi_instrumentator": "Prometheus FastAPI instrumentator",
    "starlette_exporter": "starlette-exporter",
    "starlette_prometheus": "starlette-prometheus",
    "prometheus_flask_exporter": "Prometheus Flask exporter",
    "aioprometheus": "aioprometheus",
    "statsd": "StatsD",
    "datadog": "Datadog",
    "ddtrace": "Datadog APM",
    "opentelemetry": "OpenTelemetry",
    "newrelic": "New Relic",
    "ray.util.metrics": "Ray metrics",
    "bentoml.metrics": "BentoML metrics",
}


def judged(
    evidence: list[Evidence],
    notebooks: list[Evidence],
    *,
    only_notebooks: str,
    missing: str,
    where: str | None,
) -> Outcome:
    """Passed on evidence from code or CI; half when only a notebook does it; else failed."""
    if evidence:
        return Outcome.passed(*evidence[:3])
    if notebooks:
        return Outcome.partial(0.5, Hit(only_notebooks, notebooks[0].path), evidence=notebooks[:2])
    return Outcome.failed(Hit(missing, where))


@rule(
    code="MON001",
    name="serving-metrics-missing",
    title="The served model exports operational metrics",
    severity="medium",
    practices=("seml-30", "mts-monitor-6"),
    applies_when=("deployed",),
)
def serving_metrics_missing(facts: Facts) -> Outcome:
    """## What it finds
    Whether the serving code exports metrics (Prometheus client or an instrumentator,
    StatsD, Datadog, OpenTelemetry, New Relic, Ray or BentoML metrics) or the deployment
    has them scraped (a ServiceMonitor or PodMonitor, `prometheus.io/scrape`
    annotations, a Prometheus scrape config). Metrics exported only from other code (a
    training job) are a partial verdict.

    ## Why it matters
    SE-ML practice 30 asks that deployed models be watched continuously, and ML Test
    Score Monitor 6 that latency, throughput and memory do not regress unnoticed.
    Request counts, errors and latency per model version are the minimum to notice that
    a new model is slower or failing.

    ## Example
    A FastAPI `/predict` endpoint with no `/metrics` and no exporter.

    ## Instead
    ```python
    from prometheus_fastapi_instrumentator import Instrumentator
    Instrumentator().instrument(app).expose(app)        # /metrics with latency histograms
    ```
    """
    deploy = facts.deploy
    if not served_here(facts):
        return Outcome.unknown(NOT_SERVED)
    evidence = evidence_of(deploy.of("metrics"))
    elsewhere: list[Evidence] = []
    for m in sources(facts):
        lib = first_import(m, METRICS_LIBS)
        if lib is None:
            continue
        found = Evidence(
            f"{METRICS_LIBS[lib]} in {m.path}", Strength.PRESENT, m.path, import_line(m, lib)
        )
        (evidence if m.path in deploy.serving_modules else elsewhere).append(found)
    if evidence:
        return Outcome.passed(*evidence[:3])
    if elsewhere:
        return Outcome.partial(
            0.5,
            Hit("metrics are exported, but not from the serving code", serving_anchor(facts)),
            evidence=elsewhere[:2],
        )
    return Outcome.failed(
        Hit(
            "the served model exports no metrics (requests, latency, errors per version)",
            serving_anchor(facts),
        )
    )


# -- MON002 ---------------------------------------------------------------------------------

_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "msg"}
)
_LOG_SINK = re.compile(
    r"log_?pred|record_?pred|log_?(request|response|inference)|save_?pred|store_?pred|write_?pred|capture"
)
_STREAM_SINKS = frozenset(
    {"send", "produce", "put_record", "put_records", "insert_rows_json", "publish"}
)
_VERSION = re.compile(
    r"version|run_id|model_id|model_name|model_uri|revision|model_hash|model_tag|checkpoint", re.I
)
_INPUTS = re.compile(
    r"request|input|payload|feature|\bdata\b|body|\btext\b|query|instance|sample|\bx\b|image|json|params",
    re.I,
)


def _is_log_call(call: ast.Call, qual: str | None) -> bool:
    func = call.func
    name = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else ""
    )
    if isinstance(func, ast.Attribute) and name in _LOG_METHODS:
        return "log" in ast.unparse(func.value).lower()
    if _LOG_SINK.search(name.lower()) or name in _STREAM_SINKS:
        return True
    return bool(qual and qual.startswith(("mlflow.log_", "wandb.log", "whylogs.log")))


def _reachable(m: Module, handler: Handler) -> list[ast.AST]:
    """The handler and the same-module functions it calls directly (one level)."""
    funcs: list[ast.FunctionDef | ast.AsyncFunctionDef] = [*m.nodes(ast.FunctionDef)]
    funcs += m.nodes(ast.AsyncFunctionDef)
    local = {f.name: f for f in funcs}
    out: list[ast.AST] = [handler.node]
    for call in (n for n in ast.walk(handler.node) if isinstance(n, ast.Call)):
        func = call.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        if name in local and local[name] is not handler.node:
            out.append(local[name])
    for fn in local.values():  # request middleware logs for every handler of the module
        if any("middleware" in ast.unparse(d) for d in fn.decorator_list):
            out.append(fn)
    return out


def _logging_score(m: Module, handler: Handler) -> tuple[float, str]:
    nodes = _reachable(m, handler)
    assigned: dict[str, str] = {}
    logs: list[ast.Call] = []
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assign):
                for t in sub.targets:
                    if isinstance(t, ast.Name):
                        assigned[t.id] = assigned.get(t.id, "") + ast.unparse(sub.value)
            elif isinstance(sub, ast.Call) and _is_log_call(sub, m.qualname(sub.func)):
                logs.append(sub)
    if not logs:
        return 0.0, "does not log its predictions"
    best, what = 0.0, ""
    for call in logs:
        text = ast.unparse(call)
        names = {n.id for n in ast.walk(call) if isinstance(n, ast.Name)}
        text += " ".join(assigned.get(n, "") for n in names)
        version, inputs = bool(_VERSION.search(text)), bool(_INPUTS.search(text))
        score = (1 + version + inputs) / 3
        if score > best:
            missing = [
                w for w, ok in (("the model version", version), ("the inputs", inputs)) if not ok
            ]
            best, what = (
                score,
                "logs predictions without " + " or ".join(missing) if missing else "",
            )
    return best, what


@rule(
    code="MON002",
    name="predictions-not-logged",
    title="Predictions are logged with the model version and inputs",
    severity="medium",
    practices=("seml-33",),
    applies_when=("deployed",),
)
def predictions_not_logged(facts: Facts) -> Outcome:
    """## What it finds
    Whether each prediction endpoint logs what it answered, with the model version and
    the inputs (a logger call, a prediction-log writer, a Kafka or Kinesis producer in
    the handler, the functions it calls, or request middleware), or the platform
    captures payloads (KServe or Seldon logger, SageMaker data capture, Vertex AI
    request-response logging, the mlsteward server). A log line without the version or
    the inputs counts for a third each missing.

    ## Why it matters
    SE-ML practice 33: without the inputs and the model version of each prediction, a
    wrong answer cannot be reproduced, drift cannot be measured on real traffic, and
    labels that arrive later cannot be joined to the prediction they judge.

    ## Example
    ```python
    @app.post("/predict")
    def predict(req: Request):
        return {"score": model.predict_proba(to_frame(req))[0, 1]}    # nothing recorded
    ```

    ## Instead
    ```python
        score = model.predict_proba(to_frame(req))[0, 1]
        log.info("prediction", extra={"model_version": MODEL_VERSION,
                                      "request_id": rid, "inputs": req.model_dump(),
                                      "score": score})
    ```
    """
    deploy = facts.deploy
    captured = deploy.of("prediction-log")
    if captured:
        return Outcome.passed(*evidence_of(captured))
    handlers = deploy.predict_handlers
    if not handlers:
        if served_here(facts):
            return Outcome.unknown("no prediction endpoint found in the serving code")
        return Outcome.unknown(NOT_SERVED)
    scores: list[float] = []
    hits: list[Hit] = []
    evidence: list[Evidence] = []
    for h in handlers:
        m = facts.python.by_path[h.path]
        score, what = _logging_score(m, h)
        scores.append(score)
        if score >= 1.0:
            evidence.append(
                Evidence(
                    f"{h.where()} logs predictions with version and inputs",
                    Strength.PRESENT,
                    h.path,
                    h.line,
                )
            )
        else:
            hits.append(Hit(f"prediction endpoint {h.where()} {what}", h.path, h.line))
    return Outcome.partial(sum(scores) / len(scores), *hits, evidence=evidence)


# -- MON003 ---------------------------------------------------------------------------------

DRIFT_LIBS = {
    "evidently": "Evidently",
    "nannyml": "NannyML",
    "alibi_detect": "Alibi Detect",
    "whylogs": "whylogs",
    "deepchecks": "Deepchecks",
    "frouros": "Frouros",
    "river.drift": "river drift detectors",
    "tensorflow_data_validation": "TFDV",
    "mlsteward.data": "mlsteward drift",
}
_STAT_TESTS = frozenset(
    {
        "ks_2samp",
        "wasserstein_distance",
        "chi2_contingency",
        "jensenshannon",
        "anderson_ksamp",
        "energy_distance",
    }
)
_DRIFT_WORDS = re.compile(r"drift|skew", re.I)
#: a CI command about model data drift (ci's "drift" kind also matches "lockfile drift")
_ML_DRIFT_COMMAND = re.compile(
    r"evidently|nannyml|alibi|whylogs|deepchecks|frouros|steward\s+data\s+drift|drift\w*\.py|"
    r"-m\s+\S*drift|(data|feature|concept|prediction)[-_ ]drift|skew"
)


def _drift_check(m: Module) -> tuple[int | None, str] | None:
    """Where a module checks drift or skew, and with what."""
    if not any(w in m.source for w in ("drift", "Drift", "DRIFT", "skew", "Skew")):
        return None
    lib = first_import(m, DRIFT_LIBS)
    if lib is not None:
        return import_line(m, lib), DRIFT_LIBS[lib]
    for call, qual in m.calls():
        if qual.split(".")[-1] in _STAT_TESTS:
            return call.lineno, f"`{qual.split('.')[-1]}` comparing distributions"
    for fn in m.nodes(ast.FunctionDef):
        if re.search(r"drift|skew|population_stability|\bpsi\b", fn.name, re.I):
            return fn.lineno, f"`{fn.name}()`"
    return None


@rule(
    code="MON003",
    name="no-drift-check",
    title="Served data is compared with training data (drift and skew)",
    severity="medium",
    practices=("seml-31", "mts-monitor-3"),
    applies_when=("deployed",),
)
def no_drift_check(facts: Facts) -> Outcome:
    """## What it finds
    Code that compares the data a model sees with the data it was trained on: Evidently,
    NannyML, Alibi Detect, whylogs, Deepchecks, Frouros, TFDV skew or drift comparators,
    mlsteward's drift checks, or two-sample tests (`ks_2samp`, Wasserstein, PSI) in a
    drift or skew module; and CI jobs that run such checks (on a schedule: automated). A
    check that only lives in a notebook is a partial verdict.

    ## Why it matters
    SE-ML practice 31 and ML Test Score Monitor 3: when serving features are computed
    differently from training ones, or the world changes, accuracy drops silently. A
    regular comparison of feature distributions is the early warning.

    ## Example
    A model served for a year on data whose distribution nobody has looked at since
    training.

    ## Instead
    ```python
    from evidently import Report
    from evidently.presets import DataDriftPreset
    report = Report([DataDriftPreset()]).run(reference_data=train_df, current_data=last_week)
    ```
    and run it from a scheduled CI job or pipeline.
    """
    evidence: list[Evidence] = []
    notebooks: list[Evidence] = []
    for m in sources(facts, notebooks=True):
        found = _drift_check(m)
        if found is None:
            continue
        line, what = found
        item = Evidence(f"{what} in {m.path}", Strength.PRESENT, m.path, line)
        if m.is_notebook:
            notebooks.append(item)
            continue
        evidence.append(item)
        if (ci := ci_running(facts, m.path)) is not None:
            evidence.insert(0, ci)
    for job in facts.ci.ranked("drift"):
        cmd = job.command_for("drift")
        if cmd is not None and _ML_DRIFT_COMMAND.search(cmd.text.lower()):
            evidence.insert(0, job.evidence("drift"))
            break
    return judged(
        evidence,
        notebooks,
        only_notebooks="drift is only checked in a notebook; check served data on a schedule",
        missing="nothing compares served data with the training data (drift, skew)",
        where=serving_anchor(facts),
    )


# -- MON004 ---------------------------------------------------------------------------------

_UNSTRUCTURED = re.compile(
    r"^((starlette\.requests|fastapi|typing)\.)?(Request|Any|dict|Dict|object|bytes|WebSocket|"
    r"BackgroundTasks|Response|UploadFile|Optional\[Any\])$|^(dict|Dict)\["
)
#: frameworks that validate a handler's typed parameters before calling it
_TYPED_FRAMEWORKS = frozenset({"fastapi", "litestar", "bentoml"})
_SCHEMA_BASES = re.compile(
    r"(BaseModel|RootModel|Schema|DataFrameModel|SchemaModel|TypedDict|Struct)$"
)
_SCHEMA_WORDS = ("BaseModel", "RootModel", "Schema", "DataFrameModel", "TypedDict", "Struct")
_VALIDATE_ATTRS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "parse_obj",
        "parse_raw",
        "validate",
        "validate_python",
        "load",
    }
)
_REJECT_STATUS = frozenset({400, 415, 422})


def _schema_classes(facts: Facts) -> frozenset[str]:
    names: set[str] = set()
    for m in sources(facts):
        if not any(w in m.source for w in _SCHEMA_WORDS):
            continue
        for cls in m.nodes(ast.ClassDef):
            if any(_SCHEMA_BASES.search(m.qualname(b) or "") for b in cls.bases):
                names.add(cls.name)
    return frozenset(names)


def _validation(m: Module, h: Handler, schemas: frozenset[str]) -> tuple[float, str]:
    """1 for a declared schema, 0.5 for checks written by hand, 0 for none."""
    node = h.node
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    for a in args:
        if a.arg in ("self", "cls") or a.annotation is None:
            continue
        text = ast.unparse(a.annotation)
        typed = h.framework in _TYPED_FRAMEWORKS and not _UNSTRUCTURED.search(text)
        if typed or text in schemas:
            return 1.0, f"parameter `{a.arg}: {text}`"
    if h.framework == "bentoml":
        for dec in node.decorator_list:
            if re.search(r"pydantic_model|enforce_dtype|enforce_shape", ast.unparse(dec)):
                return 1.0, "the BentoML IO descriptor enforces a schema"
    manual = ""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            qual = m.qualname(func) or ""
            if (
                name in schemas
                or qual.endswith("jsonschema.validate")
                or (
                    name in _VALIDATE_ATTRS
                    and (receiver in schemas or re.search(r"schema|validator", receiver, re.I))
                )
            ):
                return 1.0, f"`{ast.unparse(sub)[:60]}`"
            if (
                name == "abort"
                and sub.args
                and isinstance(sub.args[0], ast.Constant)
                and sub.args[0].value in _REJECT_STATUS
            ):
                manual = "rejects bad requests by hand"
            if name == "HTTPException" and re.search(r"\b(400|415|422)\b", ast.unparse(sub)):
                manual = "rejects bad requests by hand"
        elif isinstance(sub, ast.Return) and isinstance(sub.value, ast.Tuple):
            status = sub.value.elts[-1]
            if isinstance(status, ast.Constant) and status.value in _REJECT_STATUS:
                manual = "rejects bad requests by hand"
    return (0.5, manual) if manual else (0.0, "")


@rule(
    code="MON004",
    name="serving-inputs-unvalidated",
    title="Serving validates request inputs against a schema",
    severity="medium",
    practices=("mts-monitor-2",),
    applies_when=("deployed",),
)
def serving_inputs_unvalidated(facts: Facts) -> Outcome:
    """## What it finds
    Prediction endpoints that take raw request bodies (`Request`, `dict`, `await
    request.json()`) without a declared schema: a pydantic model or other typed
    parameter FastAPI validates, a BentoML descriptor with a pydantic model or enforced
    dtypes, `Model.model_validate`, a marshmallow, pandera or JSON-schema check. Checks
    written by hand that reject bad requests (a 400 or 422 response) count half.

    ## Why it matters
    ML Test Score Monitor 2: the data invariants checked on training data must hold for
    serving inputs too. A model given a missing column, a string for a number or a value
    far outside the training range still answers, just wrongly and silently.

    ## Example
    ```python
    @app.post("/predict")
    async def predict(request: Request):
        data = await request.json()                  # anything goes
        return {"y": model.predict([data["x"]])}
    ```

    ## Instead
    ```python
    class Features(BaseModel):
        age: int = Field(ge=18, le=120)
        plan: Literal["free", "pro"]

    @app.post("/predict")
    def predict(features: Features): ...
    ```
    """
    handlers = facts.deploy.predict_handlers
    if not handlers:
        return Outcome.unknown(
            "no prediction endpoint found in the serving code" if served_here(facts) else NOT_SERVED
        )
    schemas = _schema_classes(facts)
    scores: list[float] = []
    hits: list[Hit] = []
    evidence: list[Evidence] = []
    for h in handlers:
        score, how = _validation(facts.python.by_path[h.path], h, schemas)
        scores.append(score)
        if score > 0:
            strength = Strength.PRESENT
            evidence.append(Evidence(f"{h.where()}: {how}", strength, h.path, h.line))
        if score < 1:
            extra = f" ({how})" if how else ""
            hits.append(
                Hit(
                    f"prediction endpoint {h.where()} takes inputs without a schema{extra}",
                    h.path,
                    h.line,
                )
            )
    return Outcome.partial(sum(scores) / len(scores), *hits, evidence=evidence)
