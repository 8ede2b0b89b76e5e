"""MON, continued: checks that run beside serving - numerics, staleness, quality, alerts.

ML Test Score Monitor 4 (staleness), 5 (numerical stability) and 7 (prediction quality),
and the alerting half of SE-ML practice 30. Split from `mon` to keep each module small;
the same family, applicability (deployed models) and helpers.
"""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.dpl import evidence_of, served_here
from mlsteward.audit.rules.mon import (
    DRIFT_LIBS,
    METRICS_LIBS,
    ci_running,
    first_import,
    import_line,
    judged,
    serving_anchor,
    sources,
)

# -- MON005 ---------------------------------------------------------------------------------

_DL_FRAMEWORKS = (
    "torch",
    "tensorflow",
    "keras",
    "jax",
    "flax",
    "paddle",
    "mxnet",
    "lightning",
    "pytorch_lightning",
)
_NUMERIC_TOOLS = {
    "torch.autograd.detect_anomaly": "autograd anomaly detection",
    "torch.autograd.set_detect_anomaly": "autograd anomaly detection",
    "torch.autograd.anomaly_mode.detect_anomaly": "autograd anomaly detection",
    "torch.autograd.anomaly_mode.set_detect_anomaly": "autograd anomaly detection",
    "tensorflow.debugging.check_numerics": "tf.debugging.check_numerics",
    "tensorflow.debugging.enable_check_numerics": "tf.debugging.enable_check_numerics",
    "tensorflow.debugging.assert_all_finite": "tf.debugging.assert_all_finite",
    "tensorflow.keras.callbacks.TerminateOnNaN": "TerminateOnNaN callback",
    "keras.callbacks.TerminateOnNaN": "TerminateOnNaN callback",
}
_NUMERIC_KWARGS = {
    "detect_anomaly": "Lightning detect_anomaly",
    "error_if_nonfinite": "non-finite gradients raise",
}
_FINITE_FUNCS = frozenset(
    {"isfinite", "isnan", "isinf", "is_finite", "is_nan", "is_inf", "isneginf", "isposinf"}
)
_MODEL_VALUES = re.compile(
    r"loss|logit|output|\bout\b|pred|grad|prob|score|y_?hat|result|weight|param|activation", re.I
)
#: a module without one of these words has no numerical check: it is never parsed
_FINITE_WORDS = (
    *("isfinite", "isnan", "isinf", "is_finite", "is_nan", "is_inf", "anomaly", "numerics"),
    *("TerminateOnNaN", "nonfinite", "debug_nans"),
)


def _numeric_checks(m: Module) -> list[tuple[int, str]]:
    if not any(w in m.source for w in _FINITE_WORDS):
        return []
    out: list[tuple[int, str]] = []
    for call, qual in m.calls():
        if qual in _NUMERIC_TOOLS:
            out.append((call.lineno, _NUMERIC_TOOLS[qual]))
            continue
        for kw in call.keywords:
            if (
                kw.arg in _NUMERIC_KWARGS
                and isinstance(kw.value, ast.Constant)
                and kw.value.value is True
            ):
                out.append((call.lineno, _NUMERIC_KWARGS[kw.arg]))
        if any(isinstance(a, ast.Constant) and a.value == "jax_debug_nans" for a in call.args):
            out.append((call.lineno, "jax_debug_nans"))
    for call in m.nodes(ast.Call):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        if name not in _FINITE_FUNCS:
            continue
        node: ast.AST = call
        while (parent := m.parents.get(node)) is not None and not isinstance(parent, ast.stmt):
            node = parent
        argument = ast.unparse(call)
        if isinstance(parent, ast.Assert) or (
            isinstance(parent, ast.If | ast.While)
            and node is parent.test
            and _MODEL_VALUES.search(argument)
        ):
            out.append((call.lineno, f"`{argument[:50]}` checked"))
    return out


@rule(
    code="MON005",
    name="numerical-instability-unchecked",
    title="NaN and infinite values are detected in training and serving",
    severity="medium",
    practices=("mts-monitor-5",),
    applies_when=("deployed",),
)
def numerical_instability_unchecked(facts: Facts) -> Outcome:
    """## What it finds
    Checks for NaN and infinite values in deep-learning code (PyTorch, TensorFlow/Keras,
    JAX): autograd anomaly detection, `tf.debugging.check_numerics`, the
    `TerminateOnNaN` callback, Lightning's `detect_anomaly`, `error_if_nonfinite` when
    clipping gradients, `jax_debug_nans`, or `isfinite`/`isnan` asserted on losses,
    outputs or gradients (in code or in tests, which CI may run).

    ## Why it matters
    ML Test Score Monitor 5: a NaN loss silently ruins the rest of a training run, and a
    model that starts answering NaN or infinity in serving is wrong for every request.
    Failing fast where the value first appears is far cheaper than finding it downstream.

    ## Example
    A training loop that keeps stepping after the loss became `nan`.

    ## Instead
    ```python
    loss = criterion(model(x), y)
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss is {loss.item()} at step {step}")
    ```
    """
    py = facts.python
    if not py.uses(*_DL_FRAMEWORKS):
        return Outcome.unknown("no deep-learning code (PyTorch, TensorFlow, Keras, JAX) to judge")
    evidence: list[Evidence] = []
    tests: list[Evidence] = []
    for m in py.modules:
        for line, what in _numeric_checks(m):
            item = Evidence(f"{what} in {m.path}", Strength.PRESENT, m.path, line)
            (tests if m.is_test else evidence).append(item)
            break
    if tests and (ci := facts.ci.evidence("test")) is not None:
        tests.append(ci)
    if evidence or tests:
        return Outcome.passed(*evidence[:2], *tests[:2])
    training = next(
        (
            m.path
            for m in sources(facts, notebooks=True)
            if ".backward(" in m.source or ".fit(" in m.source
        ),
        None,
    )
    return Outcome.failed(
        Hit(
            "nothing detects NaN or infinite losses or outputs; assert torch.isfinite or "
            "enable anomaly detection",
            training or facts.files.anchor(),
        )
    )


# -- MON006 ---------------------------------------------------------------------------------

_TEST_JOB = re.compile(r"test|check|smoke|ci\b", re.I)
_SCHEDULERS = ("airflow", "prefect", "dagster", "kfp", "zenml", "metaflow", "flytekit")
_SCHEDULE_KWARGS = frozenset(
    {"schedule", "schedule_interval", "cron", "cron_schedule", "interval", "timetable"}
)
#: names of a model-age check (``max_age`` alone is usually HTTP caching or CORS)
_STALENESS = re.compile(
    r"model_?age|max_?model_?age|model_?staleness|stale_?model|model_?freshness|"
    r"days_since_(train|training)|trained_at|training_date|retrain_after",
    re.I,
)


def _scheduled_training(facts: Facts) -> list[Evidence]:
    out: list[Evidence] = []
    for job in facts.ci.ranked("train"):
        # a scheduled test workflow that trains for a few steps checks code, it does not retrain
        testing = (
            "pull_request" in job.triggers or "test" in job.kinds or _TEST_JOB.search(job.name)
        )
        if "schedule" in job.triggers and not testing:
            out.append(job.evidence("train"))
    for doc in facts.deploy.manifests:
        if (
            doc.kind in ("CronJob", "CronWorkflow", "ScheduledWorkflow")
            and "train" in str(doc.data).lower()
        ):
            text = f"{doc.where()} retrains on a schedule"
            out.append(Evidence(text, Strength.AUTOMATED, doc.path, doc.line))
    for m in sources(facts):
        if not m.imports_any(*_SCHEDULERS) or "train" not in m.source.lower():
            continue
        for call, qual in m.calls():
            scheduled = [
                kw
                for kw in call.keywords
                if kw.arg in _SCHEDULE_KWARGS
                and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
            ]
            if scheduled or qual.split(".")[-1] in ("create_recurring_run", "ScheduleDefinition"):
                text = f"training pipeline scheduled in {m.path} (`{qual.split('.')[-1]}`)"
                out.append(Evidence(text, Strength.AUTOMATED, m.path, call.lineno))
                break
    return out


@rule(
    code="MON006",
    name="model-staleness-unwatched",
    title="Retraining is scheduled or the model's age is watched",
    severity="low",
    practices=("mts-monitor-4",),
    applies_when=("deployed",),
)
def model_staleness_unwatched(facts: Facts) -> Outcome:
    """## What it finds
    A schedule that retrains the model (a CI job with a `schedule` trigger that trains,
    a Kubernetes CronJob or Argo CronWorkflow running training, an Airflow, Prefect,
    Dagster or Kubeflow pipeline with a schedule) or code that checks how old the served
    model is (`model_age`, `max_age`, `trained_at` compared with a limit).

    ## Why it matters
    ML Test Score Monitor 4: a model's quality decays as the world moves away from its
    training data. Knowing how old the served model is, and refreshing it before it is
    too old, keeps that decay bounded.

    ## Example
    A model trained once, by hand, eighteen months ago.

    ## Instead
    ```yaml
    on:
      schedule: [{cron: "0 3 * * 1"}]     # weekly retraining
    jobs:
      retrain:
        steps: [{run: dvc repro && steward gate && steward models promote churn}]
    ```
    """
    evidence = _scheduled_training(facts)
    if evidence:
        return Outcome.passed(*evidence[:3])
    for m in sources(facts):
        if m.path in facts.deploy.serving_modules or re.search(r"monitor", m.path, re.I):
            match = _STALENESS.search(m.source)
            if match:
                line = m.source.count("\n", 0, match.start()) + 1
                return Outcome.passed(
                    Evidence(f"model age checked in {m.path}", Strength.PRESENT, m.path, line)
                )
    trained = next(iter(facts.ci.ranked("train")), None)
    note = ""
    if trained is not None:
        when = ", ".join(sorted(trained.triggers)) or "no trigger"
        note = (
            f"; CI job '{trained.name}' trains as a test ({when}), not to refresh the model"
            if "schedule" in trained.triggers
            else f"; CI trains on {when} only, never on a schedule"
        )
    where = trained.path if trained else facts.files.anchor("train.py", "*train*.py")
    return Outcome.failed(Hit(f"no scheduled retraining and no model-age check{note}", where))


# -- MON007 ---------------------------------------------------------------------------------

_QUALITY_WORDS = re.compile(
    r"ClassificationPreset|RegressionPreset|ClassificationQuality|RegressionQuality|"
    r"PerformanceCalculator|CBPE|\bDLE\b|log_classification_metrics|log_regression_metrics|"
    r"ground_?truth|actuals?\b|labels?_arrived|feedback",
)
_MONITOR_PATH = re.compile(r"monitor|feedback|ground_?truth|quality|online_eval", re.I)


def _quality_check(m: Module) -> tuple[int, str] | None:
    if m.imports_any("evidently", "nannyml", "whylogs") and (
        match := _QUALITY_WORDS.search(m.source)
    ):
        return m.source.count("\n", 0, match.start()) + 1, f"`{match.group(0)}`"
    if _MONITOR_PATH.search(m.path) and m.imports_any("sklearn.metrics", "torchmetrics"):
        joins = any(q.split(".")[-1] in ("merge", "join") for _c, q in m.calls())
        if joins:
            for call, qual in m.calls():
                if qual.startswith(("sklearn.metrics", "torchmetrics")):
                    return call.lineno, f"`{qual.split('.')[-1]}` on predictions joined with labels"
    return None


@rule(
    code="MON007",
    name="prediction-quality-unmonitored",
    title="Prediction quality is tracked once labels arrive",
    severity="medium",
    practices=("mts-monitor-7",),
    applies_when=("deployed", "labels"),
)
def prediction_quality_unmonitored(facts: Facts) -> Outcome:
    """## What it finds
    A job that scores served predictions against the labels that arrive later:
    Evidently classification or regression quality on production data, NannyML
    performance calculation (or its estimation before labels arrive), whylogs
    classification metrics, or a monitoring module that joins predictions with ground
    truth and computes metrics. Run by a CI job, it is automated; only in a notebook,
    partial.

    ## Why it matters
    ML Test Score Monitor 7: offline test sets age. The only proof that a served model
    is still good is its quality on the traffic it actually serves.

    ## Example
    Accuracy known from the test set at training time, never measured again.

    ## Instead
    ```python
    served = predictions.merge(labels, on="request_id")        # labels from the CRM
    f1 = sklearn.metrics.f1_score(served.label, served.prediction)
    if f1 < F1_FLOOR: alert(f"F1 fell to {f1:.3f}")
    ```
    """
    evidence: list[Evidence] = []
    notebooks: list[Evidence] = []
    for m in sources(facts, notebooks=True):
        found = _quality_check(m)
        if found is None:
            continue
        item = Evidence(f"{found[1]} in {m.path}", Strength.PRESENT, m.path, found[0])
        if m.is_notebook:
            notebooks.append(item)
            continue
        evidence.append(item)
        if (ci := ci_running(facts, m.path)) is not None:
            evidence.insert(0, ci)
    return judged(
        evidence,
        notebooks,
        only_notebooks="served predictions are only scored in a notebook; run it as a job",
        missing="nothing scores served predictions against the labels that arrive later",
        where=serving_anchor(facts),
    )


# -- MON008 ---------------------------------------------------------------------------------

_ALERT_LIBS = {
    "pdpyras": "PagerDuty",
    "pagerduty": "PagerDuty",
    "opsgenie_sdk": "Opsgenie",
    "pymsteams": "Teams",
}
_WEBHOOK = re.compile(
    r"hooks\.slack\.com|events\.pagerduty\.com|api\.opsgenie\.com|outlook\.office\.com/webhook|discord(app)?\.com/api/webhooks"
)


#: a module without one of these words pages nobody: it is never parsed
_ALERT_HINTS = (
    *("pdpyras", "pagerduty", "opsgenie", "pymsteams", "put_metric_alarm", "chat_postMessage"),
    *("WebhookClient", "hooks.slack.com", "outlook.office.com", "/api/webhooks"),
)


def _alerting_code(facts: Facts) -> list[Evidence]:
    out: list[Evidence] = []
    for m in sources(facts):
        if not any(w in m.source for w in _ALERT_HINTS):
            continue
        monitoring = bool(_MONITOR_PATH.search(m.path)) or m.imports_any(*DRIFT_LIBS, *METRICS_LIBS)
        lib = first_import(m, _ALERT_LIBS)
        if lib is not None:
            out.append(
                Evidence(
                    f"{_ALERT_LIBS[lib]} alerts from {m.path}",
                    Strength.PRESENT,
                    m.path,
                    import_line(m, lib),
                )
            )
            continue
        for call, qual in m.calls():
            last = qual.split(".")[-1]
            if last == "put_metric_alarm":
                out.append(
                    Evidence(
                        f"CloudWatch alarm created in {m.path}",
                        Strength.PRESENT,
                        m.path,
                        call.lineno,
                    )
                )
                break
            if monitoring and (
                last in ("chat_postMessage", "WebhookClient")
                or (
                    last == "post"
                    and any(
                        isinstance(a, ast.Constant) and _WEBHOOK.search(str(a.value))
                        for a in call.args
                    )
                )
            ):
                out.append(
                    Evidence(
                        f"monitoring code notifies a channel ({m.path})",
                        Strength.PRESENT,
                        m.path,
                        call.lineno,
                    )
                )
                break
    return out


@rule(
    code="MON008",
    name="no-alerts",
    title="Alerts fire when the served model misbehaves",
    severity="medium",
    practices=("seml-30",),
    applies_when=("deployed",),
)
def no_alerts(facts: Facts) -> Outcome:
    """## What it finds
    Alerting defined as code: Prometheus alert rules (PrometheusRule resources or rule
    files), Alertmanager receivers, CloudWatch alarms, Google Cloud, Azure, Datadog,
    New Relic or Grafana alert resources in Terraform, or monitoring code that pages
    (PagerDuty, Opsgenie) or posts to a Slack or Teams webhook.

    ## Why it matters
    SE-ML practice 30: monitoring nobody looks at finds problems days late. An alert on
    error rate, latency, drift or prediction quality turns a dashboard into a response.

    ## Example
    Metrics scraped into Prometheus, no rule on them.

    ## Instead
    ```yaml
    groups:
      - name: model
        rules:
          - alert: ModelErrorRateHigh
            expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05
            for: 10m
    ```
    """
    evidence = evidence_of(facts.deploy.of("alerts")) + _alerting_code(facts)
    if evidence:
        return Outcome.passed(*evidence[:3])
    if not served_here(facts):
        return Outcome.failed(
            Hit("no alert is defined for the deployed model", facts.files.anchor())
        )
    return Outcome.failed(
        Hit(
            "no alert is defined for the served model (errors, latency, drift)",
            serving_anchor(facts),
        )
    )
