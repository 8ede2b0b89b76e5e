"""DPL: deployment - packaging, automated release, canary, shadow, rollback, smoke tests.

SE-ML practices 28 (automate model deployment), 29 (shadow deployment) and 32 (automatic
roll backs), ML Test Score Infra 6 (canary before serving) and Infra 7 (roll back), and
one security practice that lives in serving code (27: no untrusted pickle loads).
Everything but the pickle rule applies only to deployed models
(``[tool.steward.context] deployed``), so a research repository is not faulted for
having no rollout strategy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.deploy import Signal
from mlsteward.audit.facts.python import Module
from mlsteward.audit.facts.records import finding, refs, registry_of, verified
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule

_MAX_EVIDENCE = 3


def evidence_of(signals: Sequence[Signal], limit: int = _MAX_EVIDENCE) -> list[Evidence]:
    """The strongest few signals as evidence (the list is sorted strongest first)."""
    return [s.evidence() for s in signals[:limit]]


def deploy_anchor(facts: Facts) -> str | None:
    """Where a repository-level deployment finding belongs: a deployment file, else README."""
    return facts.deploy.anchor or facts.files.anchor()


def served_here(facts: Facts) -> bool:
    """Whether anything in the repository packages, deploys or serves a model."""
    return facts.deploy.has("package", "serving", "deploy", "publish")


@rule(
    code="DPL001",
    name="model-not-packaged",
    title="The model is packaged in a container or a serving configuration",
    severity="medium",
    practices=("seml-28",),
    applies_when=("deployed",),
)
def model_not_packaged(facts: Facts) -> Outcome:
    """## What it finds
    A deployed project with no packaging as code: no Dockerfile, Compose file,
    Kubernetes or Helm manifest, KServe/Seldon resource, BentoML, Triton, Ray Serve,
    Serverless or SAM configuration, and no cloud endpoint created in code. Serving code
    with nothing that packages it is a partial verdict.

    ## Why it matters
    SE-ML practice 28, automate model deployment, starts with packaging as code: an image
    or a serving configuration that CI can build and deploy the same way every time. A
    model copied to a server by hand cannot be rebuilt, rolled back or audited.

    ## Example
    `app.py` (FastAPI) and `model.pkl`; the README says "scp the model and run uvicorn".

    ## Instead
    ```dockerfile
    FROM python:3.11-slim
    COPY requirements.lock app.py model/ /srv/
    RUN pip install --no-deps -r /srv/requirements.lock
    CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080"]
    ```
    """
    deploy = facts.deploy
    packaged = deploy.of("package")
    if packaged:
        return Outcome.passed(*evidence_of(packaged))
    serving = deploy.of("serving")
    if serving:
        first = serving[0]
        return Outcome.partial(
            0.5,
            Hit(
                "serving code but nothing packages it: add a Dockerfile or a serving config "
                "(BentoML, KServe, ...)",
                first.path,
                first.line,
            ),
            evidence=evidence_of(serving, 1),
        )
    return Outcome.failed(
        Hit(
            "no container, manifest or serving configuration packages the model; add a "
            "Dockerfile or a serving config",
            facts.files.anchor(),
        )
    )


@rule(
    code="DPL002",
    name="deployment-not-automated",
    title="Deployment runs from CI or a pipeline",
    severity="medium",
    practices=("seml-28",),
    applies_when=("deployed",),
)
def deployment_not_automated(facts: Facts) -> Outcome:
    """## What it finds
    Whether a CI job, a pipeline or GitOps deploys the model (kubectl/helm, cloud deploy
    commands, `anyscale service rollout`, `bentoml deploy`, an Argo CD or Flux resource)
    or publishes its image to a registry (`docker push`, build-push-action) on push, tag,
    release or schedule. Scripted but manual deployment, or an image only built in CI, is
    a partial verdict. Documentation sites (`mkdocs gh-deploy`, GitHub Pages) do not count.

    ## Why it matters
    SE-ML practice 28: deployment run by a pipeline identity is repeatable and leaves a
    record; one run from a laptop depends on that laptop.

    ## Example
    A `deploy.sh` with `kubectl apply -f k8s/` that someone runs by hand after training.

    ## Instead
    ```yaml
    on: {push: {tags: ["v*"]}}
    jobs:
      deploy:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: docker build -t $IMAGE . && docker push $IMAGE
          - run: helm upgrade --install model chart/ --set image=$IMAGE --atomic
    ```
    """
    deploy = facts.deploy
    done = deploy.of("deploy", "publish")
    automated = [s for s in done if s.strength >= Strength.AUTOMATED]
    if automated:
        return Outcome.passed(*evidence_of(automated))
    built = [s for s in deploy.of("image-build") if s.strength >= Strength.AUTOMATED]
    if done or built:
        manual = done[0] if done else built[0]
        message = (
            "deployment is scripted but run by hand; trigger it from CI on tag or release"
            if done
            else "CI builds the image but nothing publishes or deploys it"
        )
        return Outcome.partial(
            0.5, Hit(message, manual.path, manual.line), evidence=evidence_of(done or built)
        )
    return Outcome.failed(
        Hit(
            "nothing in CI or a pipeline deploys the model or publishes its image",
            deploy_anchor(facts),
        )
    )


@rule(
    code="DPL003",
    name="no-canary-release",
    title="A new model gets a small share of traffic before all of it (canary)",
    severity="medium",
    practices=("mts-infra-6",),
    applies_when=("deployed",),
)
def no_canary_release(facts: Facts) -> Outcome:
    """## What it finds
    Progressive delivery configured in the repository: Argo Rollouts canary steps, a
    Flagger Canary, weighted Istio routes or an SMI TrafficSplit, KServe
    `canaryTrafficPercent`, Seldon traffic splits, SageMaker canary or linear traffic
    shifting, Vertex AI or Azure ML traffic splits, CodeDeploy canary presets, Cloud Run
    revision traffic, an Anyscale service rollout (it shifts traffic gradually unless
    `IN_PLACE`), or an mlsteward canary alias. In mlsteward's records, a released version
    that held the canary alias first is verified; one that skipped the canary stage its
    policy requires (`canary_minutes`) fails the rule.

    ## Why it matters
    ML Test Score Infra 6: a model that loads fine can still misbehave on live traffic.
    Sending it a small share first limits the damage and shows the problem before every
    user sees it.

    ## Example
    A Deployment whose image tag is bumped in place: all traffic moves at once.

    ## Instead
    ```yaml
    apiVersion: serving.kserve.io/v1beta1
    kind: InferenceService
    metadata: {name: churn}
    spec:
      predictor:
        canaryTrafficPercent: 10
        model: {modelFormat: {name: sklearn}, storageUri: s3://models/churn/v7}
    ```
    """
    held = registry_of(facts).held
    skipped = [h for h in held if h.canary_minutes > 0 and not h.canaried]
    if skipped:
        return Outcome.failed(
            *(
                finding(
                    f"{h.ref} never held '{h.canary_alias}' although its policy asks for "
                    f"{h.canary_minutes:g} minutes at canary"
                )
                for h in skipped
            )
        )
    canaried = [h for h in held if h.canaried]
    recorded = [verified(f"held the canary alias before release: {refs(canaried)}")]
    recorded = recorded if canaried else []
    canary = facts.deploy.of("canary")
    if canary or recorded:
        return Outcome.passed(*recorded, *evidence_of(canary))
    return Outcome.failed(
        Hit(
            "nothing sends a new model version a small share of traffic first; configure a "
            "canary (Argo Rollouts, Flagger, KServe canaryTrafficPercent, ...)",
            deploy_anchor(facts),
        )
    )


@rule(
    code="DPL004",
    name="no-shadow-deployment",
    title="Challenger models run in shadow before promotion",
    severity="low",
    practices=("seml-29",),
    applies_when=("deployed",),
)
def no_shadow_deployment(facts: Facts) -> Outcome:
    """## What it finds
    Traffic mirroring to a challenger model: an Istio VirtualService `mirror`, Seldon
    `shadow: true` predictors or mirrored experiments, Flagger mirroring, SageMaker shadow
    variants, Azure ML mirrored traffic, ingress-nginx or Envoy mirroring, or an mlsteward
    shadow model.

    ## Why it matters
    SE-ML practice 29: a shadow model answers real requests without its answers being
    used, so its behaviour on production data is known before it is promoted.

    ## Example
    A new model version promoted straight after offline evaluation.

    ## Instead
    ```yaml
    apiVersion: networking.istio.io/v1beta1
    kind: VirtualService
    spec:
      http:
        - route: [{destination: {host: model-v1}}]
          mirror: {host: model-v2}
          mirrorPercentage: {value: 100}
    ```
    """
    shadow = facts.deploy.of("shadow")
    if shadow:
        return Outcome.passed(*evidence_of(shadow))
    return Outcome.failed(
        Hit(
            "no challenger receives mirrored traffic; run new models in shadow before "
            "promoting them",
            deploy_anchor(facts),
        )
    )


@rule(
    code="DPL005",
    name="no-automatic-rollback",
    title="A failing release rolls back automatically",
    severity="medium",
    practices=("seml-32", "mts-infra-7"),
    applies_when=("deployed",),
)
def no_automatic_rollback(facts: Facts) -> Outcome:
    """## What it finds
    Automatic rollback: Argo Rollouts analysis, a Flagger Canary, SageMaker
    `AutoRollbackConfiguration` alarms, `helm upgrade --atomic`, an ECS circuit breaker
    with rollback, Swarm `failure_action: rollback`, SAM deployment alarms, an Anyscale
    service rollout (an unhealthy new version is rolled back). A scripted
    rollback (`kubectl rollout undo`, `helm rollback`, `steward models rollback`) is a
    partial verdict: it can be done quickly, but someone has to notice and run it.
    mlsteward's records verify that the version a release alias held before is kept (so
    `steward models rollback` has somewhere to go); if it was deleted, the rule fails.

    ## Why it matters
    SE-ML practice 32 and ML Test Score Infra 7: a bad model must be replaced by the last
    good one fast and safely; a rollback that depends on a person being awake is slow.

    ## Example
    `kubectl set image deploy/model model=registry/model:v8` with no way back but editing
    the tag again.

    ## Instead
    ```yaml
    # Argo Rollouts: the analysis aborts the rollout and returns to the stable version
    strategy:
      canary:
        steps: [{setWeight: 10}, {pause: {duration: 10m}}, {setWeight: 50}]
        analysis: {templates: [{templateName: error-rate}]}
    ```
    """
    registry = registry_of(facts)
    gone = [h for h in registry.held if h.previous is None and h.previous_deleted is not None]
    if gone:
        return Outcome.failed(
            *(
                finding(
                    f"{h.ref}: the version it replaced ({h.model}@{h.previous_deleted}) was "
                    "deleted, so there is nothing to roll back to; keep the previous release"
                )
                for h in gone
            )
        )
    kept = [h for h in registry.held if h.previous is not None]
    recorded = []
    if kept:
        done = f"; {registry.rollbacks} rollbacks recorded" if registry.rollbacks else ""
        recorded.append(
            verified(
                "the previous version is kept for rollback: "
                + ", ".join(f"{h.ref} -> v{h.previous}" for h in kept[:3])
                + done
            )
        )
    deploy = facts.deploy
    auto = deploy.of("rollback-auto")
    if auto:
        return Outcome.passed(*evidence_of(auto), *recorded)
    scripted = deploy.of("rollback-script")
    if scripted or recorded:
        first = scripted[0] if scripted else None
        return Outcome.partial(
            0.5,
            Hit(
                "rollback is scripted but not automatic; let a failed analysis or alarm trigger it",
                first.path if first else recorded[0].path,
                first.line if first else None,
            ),
            evidence=[*recorded, *evidence_of(scripted)],
        )
    return Outcome.failed(
        Hit(
            "no automatic or scripted rollback; configure one (Argo Rollouts analysis, "
            "helm --atomic, SageMaker auto-rollback)",
            deploy_anchor(facts),
        )
    )


_TEST_CLIENTS = ("TestClient", "test_client", "AsyncClient", "ASGITransport", "WSGITransport")
_PREDICT_URL = re.compile(r"predict|infer|invocations|score|classif|detect|generate|:predict")
_CURL_PREDICT = re.compile(
    r"\b(curl|wget|http|httpie|requests\.post)\b.*(predict|invocations|/infer|:predict|/score)"
)


def _smoke_test(m: Module, served: dict[str, set[str]]) -> int | None:
    """The line where a test module calls the serving app, or None."""
    uses_client = False
    line: int | None = None
    for call, qual in m.calls():
        last = qual.split(".")[-1]
        if last in _TEST_CLIENTS:
            uses_client = True
            line = line or call.lineno
    if not uses_client and not any(name in m.imports for name in served):
        return None
    for const in m.nodes(ast.Constant):
        if isinstance(const.value, str) and _PREDICT_URL.search(const.value.lower()):
            return const.lineno
    for call, qual in m.calls():
        last = qual.split(".")[-1]
        if uses_client and last == "post":
            return call.lineno
        # calling a handler function of a serving module directly exercises it too
        if any(qual.startswith(f"{name}.") and last in names for name, names in served.items()):
            return call.lineno
    return None


_STAND_IN = re.compile(r"^(Dummy|Fake|Mock|Stub)\w*(Model|Predictor|Estimator|Classifier)?$")


def _stands_in(m: Module) -> bool:
    """Whether a test replaces the model with a mock, a dummy class or a monkeypatch."""
    if m.imports_any("unittest.mock", "mock", "pytest_mock"):
        return True
    if any(_STAND_IN.match(c.name) for c in m.nodes(ast.ClassDef)):
        return True
    return bool(re.search(r"monkeypatch\.setattr\([^)]*model", m.source, re.I))


@rule(
    code="DPL006",
    name="no-serving-smoke-test",
    title="A test loads the model in the serving app and gets a prediction",
    severity="medium",
    practices=("mts-infra-6",),
    applies_when=("deployed",),
)
def no_serving_smoke_test(facts: Facts) -> Outcome:
    """## What it finds
    A test that exercises the serving path end to end: it creates a test client for the
    app (FastAPI/Starlette `TestClient`, Flask `test_client()`, httpx with an ASGI
    transport) and posts a prediction request, or calls a handler of the serving module;
    or a CI step that sends a request to a predict endpoint (`curl .../predict`). A test
    run by CI is evidence at CI's strength.

    ## Why it matters
    ML Test Score Infra 6 asks that a model first be loaded in the serving binary and
    answer a request before it gets traffic. Models break in serving for reasons offline
    tests never see: a missing dependency in the image, a changed input format, a file
    path that only exists on the training machine.

    ## Example
    Unit tests for `train.py` and `features.py`, none for `app.py`.

    ## Instead
    ```python
    from fastapi.testclient import TestClient
    from app import app

    def test_predict_smoke():
        with TestClient(app) as client:          # runs startup: loads the model
            r = client.post("/predict", json={"age": 42, "plan": "pro"})
        assert r.status_code == 200 and 0.0 <= r.json()["score"] <= 1.0
    ```
    """
    deploy = facts.deploy
    predict = deploy.predict_handlers
    if not predict and not deploy.has("serving"):
        return Outcome.unknown("no serving code in this repository to smoke-test")
    py = facts.python
    served: dict[str, set[str]] = {}
    for h in deploy.handlers:
        module = py.by_path.get(h.path)
        if module is not None:
            served.setdefault(module.dotted, set()).add(h.name)
    real: list[Evidence] = []
    stand_in: list[Evidence] = []
    for m in py.test_modules:
        # only tests that could reach the app are parsed
        if not any(c in m.source for c in _TEST_CLIENTS) and not any(
            s in m.imports for s in served
        ):
            continue
        line = _smoke_test(m, served)
        if line is None:
            continue
        if _stands_in(m):
            text = f"test requests the serving app with a stand-in model ({m.path})"
            stand_in.append(Evidence(text, Strength.PRESENT, m.path, line))
        else:
            text = f"test sends a prediction request to the serving app ({m.path})"
            real.append(Evidence(text, Strength.PRESENT, m.path, line))
    ci = facts.ci.evidence("test")
    if real:
        return Outcome.passed(*real[:2], *([ci] if ci else []))
    if stand_in:
        first = stand_in[0]
        return Outcome.partial(
            0.5,
            Hit(
                "the serving app is only tested with a stand-in model; also load the real "
                "model once and request a prediction",
                first.path,
                first.line,
            ),
            evidence=[*stand_in[:2], *([ci] if ci else [])],
        )
    for rel in facts.ci.files:
        for n, text in enumerate((facts.files.read_text(rel) or "").splitlines(), 1):
            if _CURL_PREDICT.search(text.lower()) and not text.lstrip().startswith("#"):
                said = f"CI requests a prediction: `{text.strip()[:80]}`"
                return Outcome.passed(Evidence(said, Strength.AUTOMATED, rel, n))
    target = predict[0] if predict else None
    where = (target.path, target.line) if target else (deploy.of("serving")[0].path, None)
    name = f" {target.where()}" if target else ""
    return Outcome.failed(
        Hit(f"no test sends a prediction request to the serving app{name}", *where)
    )


_PICKLE_CALLS = {
    "pickle.load": "pickle.load",
    "pickle.loads": "pickle.loads",
    "_pickle.load": "pickle.load",
    "cPickle.load": "pickle.load",
    "dill.load": "dill.load",
    "dill.loads": "dill.loads",
    "cloudpickle.load": "cloudpickle.load",
    "cloudpickle.loads": "cloudpickle.loads",
    "joblib.load": "joblib.load",
    "sklearn.externals.joblib.load": "joblib.load",
    "pandas.read_pickle": "pandas.read_pickle",
}


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


#: in a module only imported by inference code, a load counts when it is about a model
_MODEL_WORDS = re.compile(
    r"model|weight|ckpt|checkpoint|state_dict|predictor|estimator|pipeline|artifact|classifier|"
    r"regressor|encoder|vectori[sz]er|scaler|tokenizer",
    re.I,
)


def _context(m: Module, call: ast.Call) -> str:
    """The call's text and the names of the functions and classes around it."""
    parts = [ast.unparse(call)]
    node: ast.AST = call
    while (parent := m.parents.get(node)) is not None:
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            parts.append(parent.name)
        node = parent
    return " ".join(parts)


def _unsafe_loads(m: Module, entry: bool) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for call, qual in m.calls():
        if (
            not entry
            and qual.split(".")[-1] in ("load", "loads", "read_pickle")
            and not _MODEL_WORDS.search(_context(m, call))
        ):
            continue
        kwargs = {kw.arg: kw.value for kw in call.keywords}
        if qual in _PICKLE_CALLS:
            out.append((call.lineno, f"`{_PICKLE_CALLS[qual]}` runs any code the file holds"))
        elif qual == "torch.load" and not _is_true(kwargs.get("weights_only")):
            out.append((call.lineno, "`torch.load` without weights_only=True unpickles the file"))
        elif qual == "numpy.load" and _is_true(kwargs.get("allow_pickle")):
            out.append((call.lineno, "`numpy.load(allow_pickle=True)` unpickles the file"))
        elif qual.endswith("load_model") and _is_false(kwargs.get("safe_mode")):
            out.append((call.lineno, "Keras `load_model(safe_mode=False)` runs embedded code"))
    return out


@rule(
    code="DPL007",
    name="unsafe-model-deserialisation",
    title="Serving and inference code load models without unpickling untrusted data",
    severity="medium",
    practices=("seml-27",),
    scope="code",
)
def unsafe_model_deserialisation(facts: Facts) -> Outcome:
    """## What it finds
    Pickle-based loads in serving and inference code (the modules of a serving app, the
    project modules they import, and modules named `predict*`, `inference*`, `serve*`,
    `app`, `api`, `handler`...): `pickle.load(s)`, `joblib.load`, `dill`/`cloudpickle`,
    `pandas.read_pickle`, `torch.load` without `weights_only=True`,
    `numpy.load(allow_pickle=True)`, Keras `load_model(safe_mode=False)`.

    ## Why it matters
    Unpickling runs whatever code the file contains. A model file swapped in a bucket, a
    registry or a download cache then executes on the serving host with its credentials.
    SE-ML practice 27 (assure application security) lists safe model formats among its
    controls.

    ## Example
    ```python
    model = joblib.load("model.joblib")                 # in app.py
    state = torch.load(path, map_location="cpu")        # in predict.py
    ```

    ## Instead
    ```python
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = skops.io.load("model.skops", trusted=["sklearn.linear_model.LogisticRegression"])
    weights = safetensors.torch.load_file("model.safetensors")
    ```
    If the file can only come from your own pipeline, say so:
    `# steward: ignore[DPL007] loaded from our signed registry`.
    """
    paths = sorted(facts.deploy.inference_modules)
    if not paths:
        return Outcome.not_applicable("no serving or inference code found")
    hits: list[Hit] = []
    py = facts.python
    for path in paths:
        m = py.by_path.get(path)
        if m is None or m.tree is None:
            continue
        for line, message in _unsafe_loads(m, path in facts.deploy.inference_entries):
            hits.append(Hit(f"{message}; load weights only (safetensors, skops, ONNX)", path, line))
    return Outcome.from_hits(
        hits,
        evidence=[
            Evidence(
                f"{len(paths)} serving/inference module(s) checked, e.g. {paths[0]}",
                Strength.PRESENT,
                paths[0],
                None,
            )
        ],
        note="" if hits else "no pickle-based loads in serving or inference code",
    )


@rule(
    code="DPL008",
    name="no-health-check",
    title="Served models declare health checks",
    severity="low",
    practices=("seml-30",),
    applies_when=("deployed",),
)
def no_health_check(facts: Facts) -> Outcome:
    """## What it finds
    Health checks for what serves the model: readiness, liveness or startup probes on
    every Kubernetes workload container, a `HEALTHCHECK` in serving images or a
    `healthcheck` in Compose, or a platform that probes the model server itself (KServe,
    Seldon, SageMaker, Ray Serve, BentoML). An app that only exposes a `/health` route
    nothing calls is a partial verdict.

    ## Why it matters
    A model server that started but failed to load its model should get no traffic and
    be restarted. Health checks are the first, cheapest part of monitoring a deployed
    model (SE-ML practice 30), and what rolling updates wait on.

    ## Example
    ```yaml
    containers:
      - name: model
        image: registry/model:v3      # no readinessProbe: traffic arrives during loading
    ```

    ## Instead
    ```yaml
        readinessProbe: {httpGet: {path: /health/ready, port: 8080}, periodSeconds: 5}
        livenessProbe:  {httpGet: {path: /health/live, port: 8080}, periodSeconds: 15}
    ```
    """
    deploy = facts.deploy
    workloads = [m for m in deploy.workloads if m.kind not in ("Job", "CronJob")]
    checks = [s for s in deploy.of("health") if "health endpoint" not in s.text]
    routes = [s for s in deploy.of("health") if "health endpoint" in s.text]
    if workloads:
        missing = [
            (m, c)
            for m in workloads
            for c in m.containers
            if not any(p in c for p in ("readinessProbe", "livenessProbe", "startupProbe"))
        ]
        total = sum(len(m.containers) for m in workloads) or 1
        hits = [
            Hit(
                f"{m.where()} container '{c.get('name', '?')}' has no readiness or liveness probe",
                m.path,
                m.line,
            )
            for m, c in missing
        ]
        return Outcome.partial(1 - len(missing) / total, *hits, evidence=evidence_of(checks))
    if checks:
        return Outcome.passed(*evidence_of(checks))
    serving_images = deploy.serving_dockerfiles
    if not serving_images and not deploy.has("serving"):
        return Outcome.unknown("no serving container or serving code to health-check")
    target = serving_images[0].path if serving_images else deploy.of("serving")[0].path
    if routes:
        return Outcome.partial(
            0.5,
            Hit("the app has a health endpoint but no HEALTHCHECK or probe calls it", target),
            evidence=evidence_of(routes),
        )
    return Outcome.failed(
        Hit("no health endpoint, HEALTHCHECK or probe for the model server", target)
    )
