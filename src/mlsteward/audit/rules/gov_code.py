"""GOV, continued: governance evidence found in code - audit trails, fairness, disclosure.

SE-ML practices 34 (audit trails: runs, data lineage, a model registry), 41 (fairness
and privacy enforced where personal data is used) and the in-product half of 42 (users
told that a model answers). Split from `gov`, which reads the documents.
"""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.records import finding, refs, registry_of, verified
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.gov import dated, doc_evidence

# -- audit trail ----------------------------------------------------------------------------

_TRACKERS = (
    "mlflow",
    "wandb",
    "neptune",
    "comet_ml",
    "clearml",
    "sacred",
    "aim",
    "dvclive",
    "mlsteward",
)
_LINEAGE_LIBS = {
    "openlineage": "OpenLineage",
    "ml_metadata": "ML Metadata",
    "tfx": "TFX (ML Metadata)",
    "kfp": "Kubeflow Pipelines (ML Metadata)",
    "zenml": "ZenML artifact lineage",
    "metaflow": "Metaflow artifacts",
    "flytekit": "Flyte data lineage",
    "clearml": "ClearML lineage",
    "datahub": "DataHub lineage",
}
_LINEAGE_CALLS = {"log_input": "MLflow dataset inputs", "use_artifact": "W&B artifact lineage"}
_REGISTRY_CALLS = {
    "register_model": "MLflow model registry",
    "create_model_version": "MLflow model registry",
    "set_registered_model_alias": "MLflow model registry",
    "transition_model_version_stage": "MLflow model registry",
    "link_artifact": "W&B model registry",
    "link_model": "W&B model registry",
    "create_model_package": "SageMaker model registry",
    "push_to_hub": "Hugging Face Hub model versions",
}
_REGISTRY_KWARGS = {
    "registered_model_name": "MLflow model registry",
    "model_package_group_name": "SageMaker model registry",
}
_REGISTRY_TEXT = re.compile(
    r"\bsteward\s+models\s+(register|promote)\b|\bgto\s+(register|assign)\b"
)


#: a module is parsed for registry and lineage calls only when its text names one
_TRAIL_CALLS = (*_LINEAGE_CALLS, *_REGISTRY_CALLS, *_REGISTRY_KWARGS)


def _trail(facts: Facts) -> dict[str, Evidence]:
    """The strongest evidence found for each part of an audit trail: run, data, registry."""
    found: dict[str, Evidence] = {}
    files = facts.files
    if files.exists("dvc.lock"):
        found["data"] = Evidence(
            "dvc.lock pins the data, code and outputs of every stage",
            Strength.PRESENT,
            "dvc.lock",
            1,
        )
    if files.named("openlineage.yml", "openlineage.yaml"):
        path = files.named("openlineage.yml", "openlineage.yaml")[0]
        found.setdefault("data", Evidence("OpenLineage configuration", Strength.PRESENT, path, 1))
    records = facts.records
    if records.readable and records.runs.total:
        found["run"] = Evidence(
            f"{records.runs.total} runs recorded by mlsteward with commit and environment",
            Strength.VERIFIED,
            ".steward/steward.db",
        )
    if records.readable and records.runs.consumed_data:
        found["data"] = Evidence(
            f"{records.runs.consumed_data} runs recorded the dataset versions they consumed",
            Strength.VERIFIED,
            ".steward/steward.db",
        )
    summary = registry_of(facts)
    traced = [h for h in summary.held if h.provenance]
    if traced:
        found["registry"] = verified(
            f"{summary.versions} model versions in mlsteward's registry; released "
            f"{refs(traced)} trace to their run, commit and training data"
        )
    elif summary.versions:
        forced = f" ({summary.forced} forced, without provenance)" if summary.forced else ""
        found["registry"] = verified(
            f"{summary.versions} model versions in mlsteward's registry{forced}"
        )
    for m in facts.python.source_modules:
        tracker = next((t for t in _TRACKERS if t in m.imports), None)
        if tracker and "run" not in found:
            found["run"] = Evidence(
                f"runs tracked with {tracker} ({m.path})", Strength.PRESENT, m.path, 1
            )
        lib = next((lib for lib in _LINEAGE_LIBS if lib in m.imports), None)
        if lib and "data" not in found:
            found["data"] = Evidence(
                f"{_LINEAGE_LIBS[lib]} ({m.path})", Strength.PRESENT, m.path, 1
            )
        parse = any(name in m.source for name in _TRAIL_CALLS)
        for call, qual in m.calls() if parse else ():
            last = qual.split(".")[-1]
            if last in _LINEAGE_CALLS and "data" not in found:
                found["data"] = Evidence(
                    f"{_LINEAGE_CALLS[last]} ({m.path})", Strength.PRESENT, m.path, call.lineno
                )
            registry = _REGISTRY_CALLS.get(last) or next(
                (_REGISTRY_KWARGS[kw.arg] for kw in call.keywords if kw.arg in _REGISTRY_KWARGS),
                None,
            )
            if registry and "registry" not in found:
                found["registry"] = Evidence(
                    f"{registry} (`{last}` in {m.path})", Strength.PRESENT, m.path, call.lineno
                )
    for rel in ("dvc.yaml", "artifacts.yaml"):
        text = files.read_text(rel) if files.exists(rel) else None
        if text and re.search(r"^artifacts:", text, re.M) and re.search(r"type:\s*model\b", text):
            what = "DVC model registry (artifacts of type model)"
            found.setdefault("registry", Evidence(what, Strength.PRESENT, rel, 1))
    if "registry" not in found:
        for job in facts.ci.jobs:
            for cmd in job.commands:
                if _REGISTRY_TEXT.search(cmd.text):
                    found["registry"] = Evidence(
                        f"CI registers models: `{cmd.text.strip()[:60]}`",
                        job.strength,
                        job.path,
                        cmd.line,
                    )
    return found


@rule(
    code="GOV007",
    name="no-audit-trail",
    title="Models trace back to their training run, data and code",
    severity="medium",
    practices=("seml-34",),
    applies_when=("deployed", "model"),
)
def no_audit_trail(facts: Facts) -> Outcome:
    """## What it finds
    The three links of an audit trail: training runs tracked (MLflow, W&B, Neptune,
    ClearML, DVCLive, mlsteward...), data-to-model lineage (a committed `dvc.lock`,
    MLflow dataset inputs, W&B artifacts, OpenLineage, ML Metadata, pipeline frameworks
    that record lineage), and a registry that versions the models served (MLflow, W&B,
    SageMaker, the Hugging Face Hub, `steward models register`). One third each.

    mlsteward's records are checked, not just found: a version at `production` (or at an
    alias a gate policy guards) that has no producing run, commit or training data, or
    was registered with `--force`, fails the rule.

    ## Why it matters
    SE-ML practice 34: when a prediction is questioned, the team must be able to say
    which model made it, which run trained that model, on which data and code, and who
    promoted it. Without the chain, an incident cannot be explained or reproduced.

    ## Example
    `model.pkl` copied to the server; nobody can say which notebook run produced it.

    ## Instead
    ```python
    with mlflow.start_run():
        mlflow.log_input(mlflow.data.from_pandas(train_df, source=DATA_URI), context="training")
        mlflow.sklearn.log_model(model, "model", registered_model_name="churn")
    ```
    """
    trail = _trail(facts)
    untraced = [h for h in registry_of(facts).held if not h.provenance]
    if untraced:
        hits = [
            finding(
                f"{h.ref} is released without provenance ({', '.join(h.missing_provenance())}); "
                "register a version from a tracked run on recorded data instead"
            )
            for h in untraced
        ]
        return Outcome.failed(*hits, evidence=list(trail.values()))
    parts = {"run": "training runs are not tracked", "data": "no lineage from data to model",
             "registry": "no registry versions the models served"}  # fmt: skip
    missing = [message for key, message in parts.items() if key not in trail]
    where = facts.files.anchor("dvc.yaml", "MLproject")
    hits = [Hit(f"audit trail incomplete: {'; '.join(missing)}", where)] if missing else []
    return Outcome.partial(len(trail) / 3, *hits, evidence=list(trail.values()))


_FAIRNESS_LIBS = {
    "fairlearn": "Fairlearn",
    "aif360": "AIF360",
    "fairness_indicators": "Fairness Indicators",
    "tensorflow_model_analysis": "TFMA slices",
    "aequitas": "Aequitas",
    "giskard": "Giskard",
}
_PRIVACY_LIBS = {
    "opacus": "Opacus (differential privacy)",
    "tensorflow_privacy": "TensorFlow Privacy",
    "diffprivlib": "diffprivlib",
    "presidio_analyzer": "Presidio PII detection",
    "presidio_anonymizer": "Presidio anonymisation",
    "scrubadub": "scrubadub PII removal",
    "syft": "PySyft",
    "flwr": "Flower federated learning",
}


@rule(
    code="GOV009",
    name="fairness-privacy-unchecked",
    title="Fairness and privacy are checked where personal data is used",
    severity="medium",
    practices=("seml-41",),
    applies_when=("personal_data", "model"),
)
def fairness_privacy_unchecked(facts: Facts) -> Outcome:
    """## What it finds
    For a project that handles personal data: fairness checks (Fairlearn, AIF360,
    Fairness Indicators, TFMA slices, Aequitas, Giskard; in tests run by CI they are
    enforced) and privacy controls (differential privacy with Opacus, TensorFlow Privacy
    or diffprivlib, PII removal with Presidio or scrubadub, federated learning, or a DPIA
    document). Half for each.

    ## Why it matters
    SE-ML practice 41: when a model affects people, fairness and privacy are
    requirements to check on every release, not intentions.

    ## Example
    A loan model trained on raw customer records, evaluated on overall accuracy only.

    ## Instead
    ```python
    frame = MetricFrame(metrics=recall_score, y_true=y, y_pred=p, sensitive_features=df.sex)
    assert frame.difference() < 0.05
    ```
    plus `docs/dpia.md` and PII scrubbing before data leaves the source system.
    """
    fairness: list[Evidence] = []
    privacy: list[Evidence] = [
        doc_evidence(d, f"DPIA {d.path}{dated(d)}") for d in facts.docs.of("dpia")[:1]
    ]
    for m in facts.python.modules:
        fair = next((lib for lib in _FAIRNESS_LIBS if lib in m.imports), None)
        if fair is not None:
            kind = "test" if m.is_test else "code"
            fairness.append(
                Evidence(f"{_FAIRNESS_LIBS[fair]} in {kind} {m.path}", Strength.PRESENT, m.path, 1)
            )
        priv = next((lib for lib in _PRIVACY_LIBS if lib in m.imports), None)
        if priv is not None:
            privacy.append(
                Evidence(f"{_PRIVACY_LIBS[priv]} in {m.path}", Strength.PRESENT, m.path, 1)
            )
    if any("test" in e.text for e in fairness) and (ci := facts.ci.evidence("test")) is not None:
        fairness.append(ci)
    hits = []
    where = facts.files.anchor()
    if not fairness:
        hits.append(Hit("no fairness check on model outcomes across groups", where))
    if not privacy:
        hits.append(Hit("no privacy control (DPIA, anonymisation, differential privacy)", where))
    score = (bool(fairness) + bool(privacy)) / 2
    return Outcome.partial(score, *hits, evidence=[*fairness[:2], *privacy[:2]])


_DISCLOSURE = re.compile(
    r"\b(ai|a\.i\.|machine[- ]learning|ml|artificial intelligence|model)[- ](generated|powered|"
    r"based|driven|prediction|predicted|estimate)|(generated|powered|produced|predicted|estimated)"
    r" (by|with|using) (an? )?(ai\b|machine[- ]learning|ml\b|artificial intelligence|"
    r"[\w ]{0,20}model)|automated decision",
    re.I,
)


#: words every disclosure contains: found with a plain substring search, then the text
#: around each is checked with `_DISCLOSURE` (a regex over a whole front end is slow)
_DISCLOSURE_WORDS = (
    *("generated", "powered", "based", "driven", "prediction", "predicted", "estimate"),
    *("produced", "automated decision"),
)


def _find_disclosure(text: str) -> tuple[int, str] | None:
    """(offset, matched text) of the first disclosure of ML use in ``text``."""
    low = text.lower()
    for word in _DISCLOSURE_WORDS:
        start, seen = 0, 0
        while (at := low.find(word, start)) >= 0 and seen < 200:
            window_start = max(0, at - 60)
            match = _DISCLOSURE.search(low, window_start, at + len(word) + 60)
            if match is not None:
                return match.start(), text[match.start() : match.end()]
            start, seen = at + 1, seen + 1
    return None


def _disclosure_in_templates(facts: Facts, paths: list[str]) -> Evidence | None:
    for rel in paths[:200]:
        text = facts.files.read_text(rel) or ""
        if (found := _find_disclosure(text)) is not None:
            line = text.count("\n", 0, found[0]) + 1
            return Evidence(
                f"UI discloses ML use: '{found[1]}' ({rel})", Strength.PRESENT, rel, line
            )
    return None


def _disclosure_in_apps(apps: list[Module]) -> Evidence | None:
    """UI text in Streamlit or Gradio code: string constants only, not comments or markdown."""
    for m in apps:
        for const in m.nodes(ast.Constant):
            if isinstance(const.value, str) and (found := _find_disclosure(const.value)):
                text = f"UI discloses ML use: '{found[1]}' ({m.path})"
                return Evidence(text, Strength.PRESENT, m.path, const.lineno)
    return None


_UI_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".jsx", ".tsx", ".vue", ".svelte")
_IDENTITY = re.compile(r"model|version|run_id|metadata|info")


@rule(
    code="GOV010",
    name="ml-use-not-disclosed",
    title="Users are told that a model makes the predictions",
    severity="low",
    practices=("seml-42",),
    applies_when=("users", "model"),
)
def ml_use_not_disclosed(facts: Facts) -> Outcome:
    """## What it finds
    Disclosure of machine-learning use where users meet it: UI text such as "generated
    by AI" or "predicted by a machine-learning model" in templates, front-end files or a
    Streamlit/Gradio app, or an API that tells clients which model answered (a model or
    version field in prediction responses, a model-metadata endpoint).

    ## Why it matters
    SE-ML practice 42: people should know when a decision about them comes from a model,
    so they can weigh it and ask for a human review. Telling API clients which model
    version answered is the machine-readable form of the same duty.

    ## Example
    A "recommended for you" list with nothing saying it is machine-generated.

    ## Instead
    Label ML output in the interface, and return the model identity with predictions:
    `{"score": 0.83, "model": "churn", "model_version": "7"}`.
    """
    deploy = facts.deploy
    evidence: list[Evidence] = []
    for h in deploy.handlers:
        if not h.predicts and _IDENTITY.search(h.label):
            evidence.append(
                Evidence(
                    f"endpoint {h.where()} tells clients which model serves",
                    Strength.PRESENT,
                    h.path,
                    h.line,
                )
            )
        elif h.predicts:
            for sub in ast.walk(h.node):
                if isinstance(sub, ast.Dict) and any(
                    isinstance(k, ast.Constant)
                    and isinstance(k.value, str)
                    and re.search(r"model|version", k.value)
                    for k in sub.keys
                ):
                    evidence.append(
                        Evidence(
                            f"{h.where()} returns the model identity",
                            Strength.PRESENT,
                            h.path,
                            sub.lineno,
                        )
                    )
                    break
    ui = list(facts.files.with_suffix(*_UI_SUFFIXES))
    apps = [m for m in facts.python.source_modules if m.imports_any("streamlit", "gradio")]
    shown = _disclosure_in_templates(facts, ui) or _disclosure_in_apps(apps)
    if shown is not None:
        evidence.append(shown)
    ui += [m.path for m in apps]
    if evidence:
        return Outcome.passed(*evidence[:3])
    if not deploy.handlers and not ui:
        return Outcome.unknown("no serving code or user interface in this repository")
    target = deploy.predict_handlers[0] if deploy.predict_handlers else None
    where = (target.path, target.line) if target else (ui[0] if ui else facts.files.anchor(), None)
    return Outcome.failed(
        Hit("nothing tells users or API clients that a model produced the answer", *where)
    )
