"""Deployment facts: containers, manifests, serving code, and how releases are rolled out.

Read, never run: Dockerfiles (every instruction with its line), Compose services,
Kubernetes manifests (one `Manifest` per document; KServe, Seldon, Argo Rollouts, Flagger,
Istio and Prometheus-operator kinds understood), Helm charts (templates are Go templates,
not YAML, so they are scanned as text and never reported as broken), serving configs
(BentoML, Triton, Ray Serve, Serverless, SAM, Cog, ...), CI files and scripts, and the
serving code itself: FastAPI/Flask/BentoML/Ray Serve/KServe/Seldon/TorchServe/SageMaker
handlers found in the AST.

What the rules ask about is collected as `Signal`s, each with its file and line:

- ``package``: a container or serving config packages the model; ``serving``: serving code;
- ``deploy``, ``publish``, ``image-build``: CI, a script or GitOps deploys / pushes an image
  / only builds one;
- ``canary``, ``shadow``, ``rollback-auto``, ``rollback-script``: how releases roll out;
- ``health``, ``metrics``, ``alerts``, ``prediction-log``, ``explainer``: what the running
  service offers.

A signal found in a CI file carries the strength of the job it belongs to (capped at
*automated*: a deployment that runs on pull requests gates nothing).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts import serving
from mlsteward.audit.facts.serving import Handler
from mlsteward.audit.facts.yamlfile import load_yaml
from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.facts.ci import Job

__all__ = [
    "SIGNAL_KINDS",
    "ComposeService",
    "DeployFacts",
    "Dockerfile",
    "Handler",
    "Instruction",
    "Manifest",
    "Signal",
    "gather",
    "parse_dockerfile",
]

SIGNAL_KINDS = (
    *("package", "serving", "deploy", "publish", "image-build", "canary", "shadow"),
    *("rollback-auto", "rollback-script", "health", "metrics", "alerts", "prediction-log"),
    "explainer",
)


@dataclass(frozen=True)
class Signal:
    """One deployment-related thing seen in the repository."""

    kind: str
    path: str
    line: int | None
    text: str
    strength: Strength = Strength.PRESENT

    def evidence(self) -> Evidence:
        return Evidence(self.text, self.strength, self.path, self.line)


# -- Dockerfiles ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, CMD, ...
    args: str
    line: int


#: a container that runs one of these answers requests (as opposed to a dev or training image)
_SERVING_COMMAND = re.compile(
    r"uvicorn|gunicorn|hypercorn|flask\s+run|\bserve\b|bentoml|torchserve|tritonserver|"
    r"tensorflow_model_server|mlserver|seldon|kserve|streamlit|gradio|fastapi|waitress|"
    r"mlflow\s+models\s+serve|litserve|\b(app|server|api|serve|main)\.py\b",
    re.I,
)
_SERVING_IMAGE = re.compile(
    r"tensorflow/serving|tritonserver|torchserve|seldonio/|kserve/|bentoml/|mlserver|"
    r"tiangolo/uvicorn|public\.ecr\.aws/lambda|sagemaker",
    re.I,
)


@dataclass(frozen=True)
class Dockerfile:
    path: str
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    @property
    def base_images(self) -> list[str]:
        words = ([w for w in i.args.split() if not w.startswith("--")] for i in self.all("FROM"))
        return [w[0] for w in words if w]

    @property
    def healthcheck(self) -> Instruction | None:
        """The HEALTHCHECK in force (the last one), unless it is ``HEALTHCHECK NONE``."""
        checks = self.all("HEALTHCHECK")
        if not checks or checks[-1].args.strip().upper() == "NONE":
            return None
        return checks[-1]

    @property
    def entry(self) -> str:
        return " ".join(i.args for i in self.instructions if i.keyword in ("CMD", "ENTRYPOINT"))

    @property
    def serving(self) -> bool:
        """Whether the image serves requests: a server command, a serving base, an EXPOSE."""
        return bool(
            _SERVING_COMMAND.search(self.entry)
            or any(_SERVING_IMAGE.search(b) for b in self.base_images)
            or self.all("EXPOSE")
        )


def parse_dockerfile(path: str, text: str) -> Dockerfile:
    """Instructions with the line each starts on; continuation lines are joined."""
    out: list[Instruction] = []
    buf: list[str] = []
    start = 0

    def flush() -> None:
        keyword, _, args = " ".join(b for b in buf if b).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        buf.clear()

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if (not buf and not line) or line.startswith("#"):
            continue  # docker drops comments, even inside a continued instruction
        if not buf:
            start = n
        buf.append(line[:-1].strip() if line.endswith("\\") else line)
        if not line.endswith("\\"):
            flush()
    if buf:
        flush()
    return Dockerfile(path, tuple(out))


# -- Kubernetes -------------------------------------------------------------------------------

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "Pod", "ReplicaSet", "Job", "CronJob", "Rollout"}
)
#: kinds that run a model server, in API groups of KServe, Kubeflow and Seldon
SERVING_KINDS = frozenset(
    {"InferenceService", "SeldonDeployment", "ServingRuntime", "InferenceGraph", "Model"}
)
_SERVING_GROUPS = re.compile(r"kserve|kubeflow|seldon")
GITOPS_KINDS = frozenset({"Application", "ApplicationSet", "HelmRelease", "Kustomization"})
_MANIFEST_KINDS = (
    WORKLOAD_KINDS
    | SERVING_KINDS
    | GITOPS_KINDS
    | {
        *("Service", "Experiment", "Canary", "VirtualService", "TrafficSplit", "Ingress", "List"),
        *("ServiceMonitor", "PodMonitor", "PrometheusRule", "CronWorkflow", "ScheduledWorkflow"),
    }
)
_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")


@dataclass(frozen=True, eq=False)
class Manifest:
    """One Kubernetes document (apiVersion + kind)."""

    path: str
    line: int | None
    api_version: str
    kind: str
    name: str
    data: dict[str, Any] = field(repr=False)

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0]

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def containers(self) -> list[dict[str, Any]]:
        """The containers of a workload's pod template ([] for other kinds)."""
        spec: Any = self.spec
        if self.kind == "CronJob":
            spec = _get(spec, "jobTemplate", "spec")
        pod = spec if self.kind == "Pod" else _get(spec, "template", "spec")
        items = pod.get("containers") if isinstance(pod, dict) else None
        return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []

    @property
    def serves_model(self) -> bool:
        return self.kind in SERVING_KINDS and bool(_SERVING_GROUPS.search(self.group))

    def where(self) -> str:
        return f"{self.kind} '{self.name}'" if self.name else self.kind


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _dicts(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [d for d in node if isinstance(d, dict)]
    return []


def _walk_dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk_dicts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_dicts(v)


@dataclass(frozen=True)
class ComposeService:
    path: str
    name: str
    line: int | None
    healthcheck: bool
    image: str
    command: str


# -- text patterns ----------------------------------------------------------------------------

#: kind :: pattern over one lower-cased line :: guard over the whole lower-cased file (- for
#: none) :: what it means. A guard keeps a generic key (``mirror:``) to the files where it
#: has this meaning (an Istio VirtualService).
_TEXT_TABLE = r"""
canary :: canarytrafficpercent :: - :: KServe canaryTrafficPercent
canary :: ^\s*-?\s*setweight\s*: :: - :: Argo Rollouts canary steps
canary :: ^kind:\s*canary\b :: flagger :: Flagger Canary
canary :: ^kind:\s*trafficsplit\b :: - :: SMI TrafficSplit
canary :: nginx\.ingress\.kubernetes\.io/canary :: - :: ingress-nginx canary
canary :: \b(canary|linear)\d+percent(every)?\d+minutes?\b :: - :: CodeDeploy traffic shifting
canary :: \bcanary_?percent\s*[:=] :: - :: canary percentage
canary :: gcloud\s+run\s+services\s+update-traffic\b.*--to-(revisions|tags) :: - :: Cloud Run split
canary :: --traffic-split\b :: - :: Vertex AI traffic split
canary :: \baz\s+ml\s+online-endpoint\s+update\b.*--traffic\b :: - :: Azure ML traffic split
canary :: \bsteward\b.*\bcanary\b :: - :: mlsteward canary alias
canary :: \banyscale\s+service\s+(rollout|deploy)\b(?!.*in.place) :: - :: Anyscale canary rollout
canary :: ^\s*rollout_strategy\s*:\s*['"]?rollout\b :: - :: Anyscale canary rollout
shadow :: ^\s*mirror\s*: :: virtualservice :: Istio traffic mirroring
shadow :: ^\s*mirror\s*:\s*true\b :: flagger :: Flagger traffic mirroring
shadow :: \bmirrorpercentage\b :: - :: Istio mirrorPercentage
shadow :: ^\s*shadow\s*:\s*true\b :: - :: shadow predictor
shadow :: request_mirror_polic :: - :: Envoy request mirroring
shadow :: nginx\.ingress\.kubernetes\.io/mirror-(target|uri) :: - :: ingress-nginx mirroring
shadow :: ^\s*mirror\s+/\S*\s*; :: - :: nginx mirror
shadow :: shadowproductionvariants|shadowmodeconfig :: - :: SageMaker shadow variants
shadow :: --mirror-traffic\b :: - :: Azure ML mirrored traffic
shadow :: \bsteward\b.*\bshadow\b :: - :: mlsteward shadow model
rollback-auto :: autorollbackconfiguration|auto_rollback_configuration :: - :: rollback on alarms
rollback-auto :: --auto-rollback-(configuration|enabled) :: - :: CodeDeploy automatic rollback
rollback-auto :: \bhelm\s+(upgrade|install)\b.*--(atomic|rollback-on-failure)\b :: - :: helm
rollback-auto :: deployment_?circuit_?breaker :: rollback\s*[:=]\s*true :: ECS circuit breaker
rollback-auto :: failure_action\s*:\s*rollback\b :: - :: Swarm update rolls back on failure
rollback-auto :: \banyscale\s+service\s+(rollout|deploy)\b(?!.*in.place) :: - :: Anyscale rollback
rollback-auto :: ^\s*rollout_strategy\s*:\s*['"]?rollout\b :: - :: Anyscale rolls back if unhealthy
rollback-auto :: ^\s*-?\s*analysis\s*: :: ^kind:\s*rollout\b :: Argo Rollouts analysis
rollback-auto :: ^\s*-?\s*(pre|post)promotionanalysis\s*: :: - :: Argo Rollouts promotion analysis
rollback-auto :: ^kind:\s*canary\b :: flagger :: Flagger rolls back a failing canary
rollback-auto :: ^\s*alarms\s*: :: deploymentpreference :: SAM deployment alarms roll back
rollback-script :: \bkubectl\s+(argo\s+rollouts\s+(undo|abort)|rollout\s+undo)\b :: - :: kubectl
rollback-script :: \bhelm\s+rollback\b :: - :: scripted helm rollback
rollback-script :: \bargocd\s+app\s+rollback\b :: - :: scripted Argo CD rollback
rollback-script :: \bgcloud\s+deploy\s+targets\s+rollback\b :: - :: Cloud Deploy rollback
rollback-script :: \bsteward\s+(models\s+)?rollback\b :: - :: mlsteward rollback
health :: ^\s*-?\s*(readiness|liveness|startup)probe\s*: :: - :: Kubernetes probe
health :: ^\s*healthcheck\s*: :: - :: Compose healthcheck
health :: health_?check_?(path|url|period|timeout|interval|grace) :: - :: platform health check
metrics :: ^kind:\s*(servicemonitor|podmonitor)\b :: - :: Prometheus operator monitor
metrics :: prometheus\.io/scrape :: - :: Prometheus scrape annotation
metrics :: ^\s*scrape_configs\s*: :: - :: Prometheus scrape configuration
alerts :: ^kind:\s*prometheusrule\b :: - :: Prometheus alert rules
alerts :: ^\s*-?\s*alert\s*:\s*\S :: ^\s*-?\s*expr\s*: :: Prometheus alert rule
alerts :: ^\s*receivers\s*: :: ^\s*route\s*: :: Alertmanager receivers
alerts :: aws_cloudwatch_metric_alarm|aws::cloudwatch::alarm :: - :: CloudWatch alarm
alerts :: google_monitoring_alert_policy|azurerm_monitor_metric_alert :: - :: cloud alert policy
alerts :: datadog_monitor\b|newrelic_alert|grafana_rule_group :: - :: alerting resource
prediction-log :: ^\s*logger\s*: :: inferenceservice|seldondeployment :: KServe/Seldon logger
prediction-log :: datacaptureconfig|data_capture_config|enablecapture :: - :: SageMaker data capture
prediction-log :: request-response-logging|request_response_logging :: - :: Vertex AI request log
prediction-log :: \bsteward\s+serve\b :: - :: mlsteward server logs predictions
explainer :: ^\s*explainer\s*: :: inferenceservice|seldondeployment :: KServe/Seldon explainer
explainer :: clarifyexplainerconfig :: - :: SageMaker Clarify explanations
explainer :: --explanation-(metadata-file|method) :: - :: Vertex AI explanations
package :: \bmlflow\s+models\s+(serve|build-docker)\b :: - :: MLflow model server
package :: \bbentoml\s+(serve|build|containerize)\b :: - :: BentoML
package :: \btorch-model-archiver\b|\btorchserve\s+--start\b :: - :: TorchServe
package :: \btritonserver\b|\btensorflow_model_server\b :: - :: model server
package :: \bserve\s+(run|deploy)\s+\S+\.ya?ml\b :: - :: Ray Serve application
package :: ^\s*(ray_serve_config|applications)\s*: :: import_path :: Ray Serve application
package :: \bsteward\s+serve\b :: - :: mlsteward model server
"""


@dataclass(frozen=True)
class _Pattern:
    """One row of the table, compiled."""

    kind: str
    rx: re.Pattern[str]
    guard: re.Pattern[str] | None
    what: str
    #: words one of which a matching file must contain (None: no such word)
    needles: tuple[str, ...] | None
    #: the pattern without its leading anchors: it finds candidate lines fast, because a
    #: pattern that starts with a literal is searched for with a fast prefix scan
    fast: re.Pattern[str]


_LEADING_ANCHORS = re.compile(r"^(?:\\b|\^|\\s\*|-\?)+")


def _table(text: str) -> tuple[_Pattern, ...]:
    rows: list[_Pattern] = []
    for row in text.strip().splitlines():
        kind, rx, guard, what = (part.strip() for part in row.split(" :: "))
        compiled = None if guard == "-" else re.compile(guard, re.M)
        fast = _LEADING_ANCHORS.sub("", rx) if "|" not in rx else rx
        rows.append(
            _Pattern(
                kind, re.compile(rx, re.M), compiled, what, _needles(rx), re.compile(fast, re.M)
            )
        )
    return tuple(rows)


def _top_level(pattern: str) -> list[str]:
    """The alternatives of a pattern, split on ``|`` outside groups and classes."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*parts, pattern[start:]]


def _needles(pattern: str) -> tuple[str, ...] | None:
    """Plain words one of which every match must contain (a fast substring prefilter).

    Groups, classes, escapes and optional characters are dropped; the longest word left in
    each alternative is required. None when some alternative has no such word.
    """
    out = []
    for alt in _top_level(pattern):
        before = None
        while before != alt:
            before = alt
            alt = re.sub(r"\([^()]*\)|\[[^\]]*\]|\{[^}]*\}", " ", alt)
        alt = re.sub(r"\\.|.[?*]", " ", alt)
        words = re.findall(r"[a-z][a-z_-]{3,}", alt)
        if not words:
            return None
        out.append(max(words, key=len))
    return tuple(out)


_PATTERNS = _table(_TEXT_TABLE)
_NEEDLES = frozenset(n for p in _PATTERNS for n in p.needles or ())
#: shortest needles -> every needle that contains them: a text without ``canary`` has no
#: ``canarytrafficpercent`` either, so most texts are ruled out by a few searches
_NEEDLE_ROOTS = {
    root: frozenset(n for n in _NEEDLES if root in n)
    for root in _NEEDLES
    if not any(other != root and other in root for other in _NEEDLES)
}
#: kinds worth looking for in CI commands and scripts (the rest describe running services)
_COMMAND_KINDS = frozenset(
    {"rollback-auto", "rollback-script", "canary", "shadow", "package", "prediction-log"}
)

#: commands that deploy (looked for in CI and scripts only); a docs site is not a deployment
_DEPLOY_RX = re.compile(
    r"\bkubectl\s+(apply|create|replace|set\s+image|rollout\s+restart)\b|"
    r"\bhelm\s+(upgrade|install)\b|\bhelmfile\s+(apply|sync)\b|\bskaffold\s+(run|deploy)\b|"
    r"\bgcloud\s+(run\s+deploy|app\s+deploy|functions\s+deploy|ai\s+endpoints\s+deploy-model|"
    r"deploy\s+releases\s+create)\b|\bsam\s+deploy\b|\b(serverless|sls|cdk)\s+deploy\b|"
    r"\bterraform\s+apply\b|\bpulumi\s+up\b|\baws\s+(ecs\s+update-service|"
    r"lambda\s+update-function-code|sagemaker\s+(create|update)-endpoint|"
    r"deploy\s+create-deployment|cloudformation\s+deploy)\b|"
    r"\baz\s+(ml\s+online-(deployment|endpoint)\s+(create|update)|webapp\s+(deploy|up)|"
    r"containerapp\s+(update|up))\b|\banyscale\s+service\s+(deploy|rollout)\b|"
    r"\bbentoml\s+deploy(ment)?\b|\bmlflow\s+(deployments\s+(create|update)|sagemaker\s+deploy)\b|"
    r"\bfly(ctl)?\s+deploy\b|\bheroku\s+container:release\b|\bmodal\s+deploy\b|\bcog\s+push\b|"
    r"\bargocd\s+app\s+sync\b|\bflux\s+reconcile\b|\bsteward\s+(models\s+promote|deploy)\b|"
    r"(\bmake\s+|\./|\bbash\s+|\bsh\s+|\bpython3?\s+(-m\s+)?)[\w./-]*deploy[\w./-]*|"
    r"uses:\s*(?!\S*setup-)\S*deploy\S*"
)
_DOCS_DEPLOY_RX = re.compile(r"gh-deploy|gh-pages|deploy-pages|pages|mkdocs|sphinx|\bdocs?\b")
_PUBLISH_RX = re.compile(
    r"\bdocker\s+(image\s+)?push\b|build-push-action|\bdocker\s+buildx\s+build\b.*--push\b|"
    r"\bkaniko\b|\bgcloud\s+builds\s+submit\b|\b(podman|buildah)\s+push\b|"
    r"\bdocker[ -]compose\s+push\b|\bjib(:build)?\b|\bbentoml\s+push\b"
)
_BUILD_RX = re.compile(
    r"\bdocker\s+(buildx\s+)?build\b|\bdocker[ -]compose\s+build\b|\bpodman\s+build\b|"
    r"\bbentoml\s+(build|containerize)\b|\bmlflow\s+models\s+build-docker\b|\bcog\s+build\b"
)

#: a line without one of these words holds no command worth a closer look (a fast prefilter
#: that every pattern used on commands implies)
_COMMAND_WORDS = (
    *("kubectl", "helm", "skaffold", "gcloud", "deploy", "terraform", "pulumi", "aws", "az"),
    *("anyscale", "bentoml", "mlflow", "fly", "heroku", "cog", "argocd", "flux", "steward"),
    *("docker", "push", "kaniko", "podman", "buildah", "jib"),
    *sorted(
        {
            n
            for p in _PATTERNS
            if p.kind in _COMMAND_KINDS and p.guard is None
            for n in p.needles or ()
        }
    ),
)

_TEST_JOB = re.compile(r"test|e2e|integration|check|lint|smoke|verify", re.I)
_MAX_SCAN_BYTES = 256_000
_FIXTURES = re.compile(r"(^|/)(tests?|testdata|test_data|testing|fixtures|__fixtures__)/")
_TEXT_SUFFIXES = (".yml", ".yaml", ".sh", ".bash", ".tf", ".conf", ".mk")
_SCRIPTS = frozenset({"makefile", "justfile", "procfile", "taskfile"})
_TEXT_NAMES = _SCRIPTS | {"fly.toml", "config.pbtxt"}
_K8S_HINT = re.compile(r"^\s*apiVersion\s*:", re.M)
_PREDICT_NAME = re.compile(r"predict|infer|score|classif|detect|generat|invocation")
_KIND_LINE = re.compile(r"^kind\s*:\s*['\"]?([\w.-]+)", re.M)


@dataclass
class DeployFacts:
    """Everything deployment-related the repository declares."""

    dockerfiles: list[Dockerfile] = field(default_factory=list)
    compose: list[ComposeService] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    #: modules that define a serving app or handler, and the project modules they import
    serving_modules: frozenset[str] = frozenset()
    #: serving modules plus modules named for inference (predict.py, inference.py, ...)
    inference_modules: frozenset[str] = frozenset()
    #: the inference modules themselves, without the project modules they import
    inference_entries: frozenset[str] = frozenset()
    signals: list[Signal] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Signal]:
        """Signals of these kinds, strongest first, then by path and line."""
        found = [s for s in self.signals if s.kind in kinds]
        return sorted(found, key=lambda s: (-s.strength, s.path, s.line or 0))

    def has(self, *kinds: str) -> bool:
        return any(s.kind in kinds for s in self.signals)

    @property
    def workloads(self) -> list[Manifest]:
        return [m for m in self.manifests if m.kind in WORKLOAD_KINDS]

    @property
    def serving_dockerfiles(self) -> list[Dockerfile]:
        return [d for d in self.dockerfiles if d.serving]

    @property
    def predict_handlers(self) -> list[Handler]:
        """Handlers that serve predictions, the ones named for it first."""
        found = [h for h in self.handlers if h.predicts]
        return sorted(found, key=lambda h: (not _PREDICT_NAME.search(h.label), h.path, h.line))

    @property
    def anchor(self) -> str | None:
        """The most relevant deployment file to pin a repository-level finding on."""
        for group in (
            [d.path for d in self.serving_dockerfiles],
            [m.path for m in self.manifests],
            [d.path for d in self.dockerfiles],
            [c.path for c in self.compose],
            self.charts,
            [s.path for s in self.signals if s.kind == "package"],
            [s.path for s in self.signals if s.kind == "serving"],
        ):
            if group:
                return sorted(group, key=lambda p: (p.count("/"), p))[0]
        return None


# -- gathering --------------------------------------------------------------------------------


def _clip(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class _Collector:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.out = DeployFacts()
        self._seen: set[tuple[str, str, int | None]] = set()

    def signal(
        self, kind: str, path: str, line: int | None, text: str, strength: Strength | None = None
    ) -> None:
        if (kind, path, line) not in self._seen:
            self._seen.add((kind, path, line))
            self.out.signals.append(Signal(kind, path, line, text, strength or Strength.PRESENT))

    def scan_text(self, path: str, text: str, low: str) -> None:
        """Every pattern of the table over the whole text (comment lines skipped)."""
        present = {n for root, longer in _NEEDLE_ROOTS.items() if root in low for n in longer}
        present = {n for n in present if n in low}
        active = [
            p
            for p in _PATTERNS
            if (p.needles is None or not present.isdisjoint(p.needles))
            and (p.guard is None or p.guard.search(low))
        ]
        if not active:
            return
        lines = _Lines(low)
        originals = text.split("\n")
        for p in active:
            for n in lines.matches(p.rx, p.fast):
                self.signal(p.kind, path, n, f"{p.what}: `{_clip(originals[n - 1])}`")

    def scan_commands(
        self, path: str, text: str, job_at: Callable[[int], Job | None] | None = None
    ) -> None:
        """Deploy, publish and build commands in a CI file or a script, line by line."""
        lowered = text.lower()
        words = [w for w in _COMMAND_WORDS if w in lowered]
        if not words:
            return
        for n, raw in enumerate(text.split("\n"), 1):
            line = raw.strip()
            low = line.lower()
            if not any(w in low for w in words):
                continue
            if low.startswith(("#", "//", "name:", "- name:")):
                continue
            job = job_at(n) if job_at is not None else None
            if job is not None and "pull_request" in job.triggers and _TEST_JOB.search(job.name):
                continue  # deploying to a throw-away cluster to run tests is not a release
            strength = None if job is None else min(job.strength, Strength.AUTOMATED)
            where = ""
            if job is not None:
                when = ", ".join(sorted(job.triggers)) or "no trigger"
                where = f" in {job.provider} job '{job.name}' ({when})"
            said = f"{where}: `{_clip(line)}`"
            if _DEPLOY_RX.search(low) and not _DOCS_DEPLOY_RX.search(low):
                self.signal("deploy", path, n, "deploys" + said, strength)
            if _PUBLISH_RX.search(low):
                self.signal("publish", path, n, "publishes an image" + said, strength)
            elif _BUILD_RX.search(low):
                self.signal("image-build", path, n, "builds an image" + said, strength)
            for p in _PATTERNS:
                if p.kind in _COMMAND_KINDS and p.guard is None and p.rx.search(low):
                    self.signal(p.kind, path, n, p.what + said, strength)


class _Lines:
    """Line numbers of regex matches in a whole text: one C-level search per pattern."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        if self._starts is None:  # most texts have no match: count lines only when needed
            self._starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        return self._starts

    def matches(self, rx: re.Pattern[str], fast: re.Pattern[str] | None = None) -> Iterator[int]:
        """1-based numbers of the non-comment lines where ``rx`` matches, each once.

        ``fast``, a looser form of ``rx``, finds candidate lines; ``rx`` confirms each.
        """
        last = 0
        text = self.text
        for m in (fast or rx).finditer(text):
            pos = m.start()
            while pos < m.end() and text[pos] in " \t\r\n":  # a `^\s*` may start a line early
                pos += 1
            n = bisect_right(self.starts, pos)
            if n == last:
                continue
            last = n
            start = self.starts[n - 1]
            end = self.starts[n] if n < len(self.starts) else len(text)
            line = text[start:end].rstrip("\n")
            if line.lstrip().startswith(("#", "//")):
                continue
            if fast is None or rx.search(line):
                yield n


def _is_dockerfile(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return (
        name in ("dockerfile", "containerfile")
        or name.startswith(("dockerfile.", "dockerfile-", "dockerfile_"))
        or name.endswith(".dockerfile")
    )


def _is_compose(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return bool(re.fullmatch(r"(docker-)?compose([.-][\w.-]+)?\.ya?ml", name))


def _dockerfiles(c: _Collector) -> None:
    files = c.facts.files
    for rel in files.files:
        if not _is_dockerfile(rel) or (text := files.read_text(rel)) is None:
            continue
        df = parse_dockerfile(rel, text)
        c.out.dockerfiles.append(df)
        first = df.all("FROM")
        base = ", ".join(df.base_images[:2]) or "no FROM"
        c.signal("package", rel, first[0].line if first else 1, f"container image ({base})")
        if (hc := df.healthcheck) is not None:
            c.signal("health", rel, hc.line, f"HEALTHCHECK `{_clip(hc.args)}`")
        for i in df.instructions:
            if i.keyword in ("RUN", "CMD", "ENTRYPOINT"):
                for p in _PATTERNS:
                    if p.kind in ("package", "prediction-log") and p.rx.search(i.args.lower()):
                        c.signal(p.kind, rel, i.line, f"{p.what}: `{_clip(i.args)}`")


def _compose(c: _Collector, rel: str, text: str) -> None:
    data = load_yaml(c.facts, rel, text)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return
    lines = text.splitlines()
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        key = re.compile(rf"\s+['\"]?{re.escape(str(name))}['\"]?\s*:")
        line = next((n for n, s in enumerate(lines, 1) if key.match(s)), None)
        hc = svc.get("healthcheck")
        healthy = isinstance(hc, dict) and not hc.get("disable")
        image, command = str(svc.get("image") or ""), str(svc.get("command") or "")
        c.out.compose.append(ComposeService(rel, str(name), line, healthy, image, command))
    c.signal("package", rel, 1, f"Compose file with {len(services)} service(s)")


def _manifest_docs(c: _Collector, rel: str, text: str) -> list[Manifest]:
    docs = load_yaml(c.facts, rel, text, multi=True)
    if not isinstance(docs, list):
        return []
    # load_all forgets lines: the n-th top-level `kind:` of a kind is the n-th such document
    kind_lines = [
        (m.group(1), text.count("\n", 0, m.start()) + 1) for m in _KIND_LINE.finditer(text)
    ]
    out: list[Manifest] = []
    pos = 0
    items = [d for d in docs if isinstance(d, dict)]
    items += [i for d in items if d.get("kind") == "List" for i in _dicts(d.get("items"))]
    for doc in items:
        kind, api = doc.get("kind"), doc.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api, str):
            continue
        line = None
        for i in range(pos, len(kind_lines)):
            if kind_lines[i][0] == kind:
                line, pos = kind_lines[i][1], i + 1
                break
        name = _get(doc, "metadata", "name")
        out.append(Manifest(rel, line, api, kind, str(name) if name else "", doc))
    return out


def _manifest_signals(c: _Collector, m: Manifest) -> None:
    spec, group, kind = m.spec, m.group, m.kind

    def say(what: str, text: str, strength: Strength | None = None) -> None:
        c.signal(what, m.path, m.line, f"{m.where()}: {text}", strength)

    if kind in WORKLOAD_KINDS or m.serves_model or (kind == "Service" and "knative" in group):
        say("package", f"Kubernetes manifest ({group})")
    if m.serves_model:
        say("serving", f"a model server ({group})")
        say("health", "the serving platform probes the model server's readiness")
    for container in m.containers:
        if probes := [p for p in _PROBES if p in container]:
            say("health", f"container '{container.get('name', '?')}' has {', '.join(probes)}")
    if kind == "InferenceService":
        if isinstance(spec.get("explainer"), dict):
            say("explainer", "an explainer component")
        for comp in ("predictor", "transformer"):
            part = spec.get(comp)
            if not isinstance(part, dict):
                continue
            pct = part.get("canaryTrafficPercent")
            if isinstance(pct, int) and 0 < pct < 100:
                say("canary", f"canaryTrafficPercent {pct}")
            if isinstance(part.get("logger"), dict):
                say("prediction-log", f"payload logger (mode {part['logger'].get('mode', 'all')})")
    elif kind == "SeldonDeployment":
        preds = _dicts(spec.get("predictors"))
        weighted = [
            p for p in preds if isinstance(p.get("traffic"), int) and 0 < p["traffic"] < 100
        ]
        if len(weighted) >= 2:
            say("canary", f"traffic split over {len(weighted)} predictors")
        for p in preds:
            label = f"predictor '{p.get('name', '?')}'"
            if p.get("shadow") is True:
                say("shadow", f"shadow {label}")
            if isinstance(p.get("explainer"), dict):
                say("explainer", f"explainer on {label}")
            if any(isinstance(d.get("logger"), dict) for d in _walk_dicts(p.get("graph"))):
                say("prediction-log", f"request logger on {label}")
    elif kind == "Experiment" and "seldon" in group:
        if spec.get("mirror"):
            say("shadow", "mirrored candidate")
        if len(_dicts(spec.get("candidates"))) >= 2:
            say("canary", "weighted candidates")
    elif kind == "Rollout":
        canary, blue_green = _get(spec, "strategy", "canary"), _get(spec, "strategy", "blueGreen")
        if isinstance(canary, dict):
            steps = _dicts(canary.get("steps"))
            weights = [s["setWeight"] for s in steps if isinstance(s.get("setWeight"), int)]
            say("canary", f"canary steps {weights or '(by replicas)'}")
            if canary.get("analysis") or any("analysis" in s for s in steps):
                say("rollback-auto", "analysis aborts a failing canary and returns to stable")
        if isinstance(blue_green, dict) and (
            blue_green.get("prePromotionAnalysis") or blue_green.get("postPromotionAnalysis")
        ):
            say("rollback-auto", "blue-green promotion analysis")
    elif kind == "Canary" and "flagger" in group:
        say("canary", "Flagger shifts traffic progressively")
        say("rollback-auto", "Flagger rolls back when the analysis fails")
        if _get(spec, "analysis", "mirror") is True:
            say("shadow", "Flagger mirrors traffic")
    elif kind == "VirtualService":
        for route in _dicts(spec.get("http")):
            if route.get("mirror"):
                say(
                    "shadow",
                    f"mirrors traffic to {_get(route, 'mirror', 'host') or 'a challenger'}",
                )
            weights = [d.get("weight") for d in _dicts(route.get("route"))]
            weights = [w for w in weights if isinstance(w, int)]
            if len(weights) >= 2 and all(0 <= w < 100 for w in weights):
                say("canary", f"weighted routes {weights}")
    elif kind == "TrafficSplit":
        say("canary", "weighted backends")
    elif kind in ("ServiceMonitor", "PodMonitor"):
        say("metrics", "Prometheus scrapes the service")
    elif kind == "PrometheusRule":
        say("alerts", "Prometheus alert rules")
    elif kind in GITOPS_KINDS and ("argoproj" in group or "fluxcd" in group):
        say("deploy", "the cluster syncs the release from git (GitOps)", Strength.AUTOMATED)
    elif kind == "Ingress":
        ann = _get(m.data, "metadata", "annotations")
        if isinstance(ann, dict) and str(ann.get("nginx.ingress.kubernetes.io/canary")) == "true":
            say("canary", "ingress-nginx canary")


def _config_files(c: _Collector) -> None:
    """YAML, scripts, Terraform, Helm charts: scanned as text; manifests parsed."""
    files = c.facts.files
    skip = set(c.facts.ci.files)
    chart_dirs = [str(PurePosixPath(p).parent) for p in files.named("Chart.yaml")]
    c.out.charts = sorted(files.named("Chart.yaml"))
    for chart in c.out.charts:
        c.signal("package", chart, 1, "Helm chart")
    for rel in files.files:
        low = rel.lower()
        name = low.rsplit("/", 1)[-1]
        if not (low.endswith(_TEXT_SUFFIXES) or name in _TEXT_NAMES):
            continue
        if rel in skip or low.startswith(".github/") or _is_dockerfile(rel):
            continue
        if _FIXTURES.search(low):
            continue  # a manifest under tests/ is a fixture, not how the model is deployed
        if files.size(rel) > _MAX_SCAN_BYTES or (text := files.read_text(rel)) is None:
            continue  # a YAML file this large is generated (a compiled pipeline), not written
        if low.endswith((".sh", ".bash", ".mk")) or name in _SCRIPTS:
            c.scan_commands(rel, text)
        lowered = text.lower()
        c.scan_text(rel, text, lowered)
        shown = rel.rsplit("/", 1)[-1]
        if name in ("config.pbtxt", "fly.toml", "procfile"):
            c.signal("package", rel, 1, f"{shown} configures a served app")
        if not low.endswith((".yml", ".yaml")):
            continue
        if name.startswith(("bentofile", "cog.", "serverless.")):
            c.signal("package", rel, 1, f"{shown} packages the service")
        elif "aws::serverless" in lowered:
            c.signal("package", rel, 1, "AWS SAM template")
        if _is_compose(rel):
            _compose(c, rel, text)
            continue
        # Helm and Jinja templates are not YAML: they were scanned as text, never parsed
        in_templates = any(
            rel.startswith(f"{d}/templates/" if d != "." else "templates/") for d in chart_dirs
        )
        if in_templates or "{{" in text or "{%" in text:
            continue
        # only kinds a rule asks about are parsed (not Argo Workflows, CRDs, ConfigMaps...);
        # a kustomize Kustomization is build input, only Flux's deploys
        kinds = _MANIFEST_KINDS.intersection(_KIND_LINE.findall(text))
        if kinds == {"Kustomization"} and "fluxcd" not in lowered:
            continue
        if kinds and _K8S_HINT.search(text):
            for m in _manifest_docs(c, rel, text):
                c.out.manifests.append(m)
                _manifest_signals(c, m)


def _ci(c: _Collector) -> None:
    """CI files as text (``with: run:`` of an action holds commands too), each line's job."""
    ci = c.facts.ci
    for rel in ci.files:
        if (text := c.facts.files.read_text(rel)) is None:
            continue
        jobs = sorted((j for j in ci.jobs if j.path == rel), key=lambda j: j.line or 0)

        def job_at(n: int, jobs: list[Job] = jobs) -> Job | None:
            before = [j for j in jobs if (j.line or 0) <= n]
            return before[-1] if before else (jobs[0] if len(jobs) == 1 else None)

        c.scan_commands(rel, text, job_at)


def gather(facts: Facts) -> DeployFacts:
    """Read every deployment file and the serving code of the repository."""
    c = _Collector(facts)
    _dockerfiles(c)
    _config_files(c)
    _ci(c)
    code = serving.scan(facts.python)
    c.out.handlers = code.handlers
    c.out.serving_modules = code.serving_modules
    c.out.inference_modules = code.inference_modules
    c.out.inference_entries = code.inference_entries
    for kind, path, line, text in code.signals:
        c.signal(kind, path, line, text)
    return c.out
