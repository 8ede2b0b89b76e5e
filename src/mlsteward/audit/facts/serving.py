"""Serving code in the AST: which modules answer prediction requests, and through what.

A part of the deployment facts (`mlsteward.audit.facts.deploy` merges it): handlers of
FastAPI, Flask, Starlette, BentoML, Ray Serve, KServe, Seldon, MLServer, TorchServe, Triton,
SageMaker inference scripts, AWS Lambda and Gradio; the *serving path* (those modules and
the project modules they import, two hops deep); the *inference code* (the serving path
plus modules named for inference, ``predict.py``, ``inference.py``); and what cloud SDK
calls configure (SageMaker auto-rollback and data capture, Vertex AI traffic splits and
explanations, Azure ML mirrored traffic), as raw signals.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts.python import Module, PythonFacts

__all__ = ["Handler", "RawSignal", "ServingCode", "scan"]

#: (signal kind, path, line, what it is), turned into `deploy.Signal` by the caller
RawSignal = tuple[str, str, int | None, str]


@dataclass(frozen=True, eq=False)
class Handler:
    """A function that answers requests in serving code (a route, a predict method...)."""

    path: str
    name: str
    line: int
    framework: str
    route: str | None
    methods: tuple[str, ...]
    node: ast.FunctionDef | ast.AsyncFunctionDef = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.name} {self.route or ''}".lower()

    @property
    def health(self) -> bool:
        doc = (ast.get_docstring(self.node) or "").lower()
        return bool(_HEALTH_NAME.search(self.label) or doc.startswith(("health", "liveness")))

    @property
    def predicts(self) -> bool:
        """Whether it serves predictions (not a health probe or a metadata page)."""
        if self.health:
            return False
        if self.framework in _WEB_FRAMEWORKS:
            return "POST" in self.methods or bool(_PREDICT_NAME.search(self.label))
        return True

    def where(self) -> str:
        route = f" ({', '.join(self.methods)} {self.route})" if self.route else ""
        return f"`{self.name}`{route}"


@dataclass
class ServingCode:
    handlers: list[Handler] = field(default_factory=list)
    serving_modules: frozenset[str] = frozenset()
    inference_modules: frozenset[str] = frozenset()
    #: modules that serve or are named for inference themselves (not only imported by them)
    inference_entries: frozenset[str] = frozenset()
    signals: list[RawSignal] = field(default_factory=list)


_WEB_FRAMEWORKS = frozenset({"fastapi", "flask", "starlette", "quart", "sanic", "litestar"})
_PREDICT_NAME = re.compile(r"predict|infer|score|classif|detect|generat|invocation|forward|embed")
_HEALTH_NAME = re.compile(r"health|readyz|livez|\bready\b|readiness|liveness|\bping\b|/ping")
_ROUTE_ATTRS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route"})
# fmt: off
#: imports that make a module serving code, in order of precedence -> framework name
_SERVING_IMPORTS = {
    "fastapi": "fastapi", "flask": "flask", "starlette": "starlette", "quart": "quart",
    "sanic": "sanic", "litestar": "litestar", "bentoml": "bentoml", "ray.serve": "ray-serve",
    "kserve": "kserve", "seldon_core": "seldon", "mlserver": "mlserver",
    "ts.torch_handler": "torchserve", "sagemaker_inference": "sagemaker",
    "triton_python_backend_utils": "triton", "gradio": "gradio", "streamlit": "streamlit",
    "litserve": "litserve",
}
_APP_CALLS = {
    "fastapi.FastAPI": "fastapi", "flask.Flask": "flask", "quart.Quart": "quart",
    "starlette.applications.Starlette": "starlette", "sanic.Sanic": "sanic",
    "litestar.Litestar": "litestar", "bentoml.Service": "bentoml", "ray.serve.run": "ray-serve",
    "gradio.Interface": "gradio", "gradio.Blocks": "gradio", "kserve.ModelServer": "kserve",
    "litserve.LitServer": "litserve",
}
_HANDLER_BASES = {
    "kserve.Model": "kserve", "kserve.model.Model": "kserve", "mlserver.MLModel": "mlserver",
    "ts.torch_handler.base_handler.BaseHandler": "torchserve", "litserve.LitAPI": "litserve",
}
_CLASS_DECORATORS = {"ray.serve.deployment": "ray-serve", "bentoml.service": "bentoml"}
#: dict keys and keyword arguments of cloud SDK calls -> (signal kind, meaning)
_SDK_NAMES = {
    "AutoRollbackConfiguration": ("rollback-auto", "SageMaker AutoRollbackConfiguration"),
    "auto_rollback_configuration": ("rollback-auto", "automatic rollback configuration"),
    "ShadowProductionVariants": ("shadow", "SageMaker shadow variants"),
    "ShadowModeConfig": ("shadow", "SageMaker shadow test"),
    "DataCaptureConfig": ("prediction-log", "SageMaker data capture"),
    "data_capture_config": ("prediction-log", "data capture on the endpoint"),
    "ExplainerConfig": ("explainer", "SageMaker Clarify online explainability"),
    "explainer_config": ("explainer", "SageMaker Clarify explainer"),
    "explanation_metadata": ("explainer", "Vertex AI explanations"),
    "explanation_spec": ("explainer", "Vertex AI explanations"),
}
# fmt: on
_HANDLER_METHODS = frozenset({"predict", "predict_raw", "explain", "__call__", "handle", "execute"})
_SAGEMAKER_FUNCS = frozenset({"model_fn", "predict_fn", "input_fn", "output_fn", "transform_fn"})
#: module names that hold inference code even when no serving framework is imported
#: (not "handler", "server", "app" or "api": checkpoint handlers, parameter servers and
#: library APIs are not inference code; apps that serve are found by their framework)
_INFERENCE_STEM = re.compile(
    r"(^|[_-])(predict\w*|prediction\w*|infer|inference\w*|serve|serving|endpoints?)"
    r"($|[_-])"
)
_ROLLBACK_COMMAND = re.compile(r"kubectl\s+(argo\s+rollouts\s+)?(rollout\s+)?undo|helm\s+rollback")
_CLOUD_SDKS = ("boto3", "sagemaker", "google.cloud.aiplatform", "azure.ai.ml")
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _route_of(m: Module, call: ast.Call) -> tuple[str | None, tuple[str, ...]]:
    attr = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    route: str | None = None
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant):
        route = str(first.value)
    elif isinstance(first, ast.Name) and m.tree is not None:
        for node in m.tree.body:  # a route held in a module constant
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(isinstance(t, ast.Name) and t.id == first.id for t in node.targets)
            ):
                route = str(node.value.value)
    methods: tuple[str, ...] = (attr.upper(),)
    if attr in ("route", "api_route"):
        methods = ("GET",)
        for kw in call.keywords:
            if kw.arg == "methods" and isinstance(kw.value, ast.List | ast.Tuple | ast.Set):
                elts = [e for e in kw.value.elts if isinstance(e, ast.Constant)]
                methods = tuple(str(e.value).upper() for e in elts)
    return route, methods


def _function_handlers(m: Module, web: str | None) -> Iterator[Handler]:
    """Functions decorated as routes (``@app.post``) or BentoML APIs."""
    fns: list[ast.FunctionDef | ast.AsyncFunctionDef] = [*m.nodes(ast.FunctionDef)]
    fns += m.nodes(ast.AsyncFunctionDef)
    for fn in fns:
        for dec in fn.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            is_route = isinstance(target, ast.Attribute) and target.attr in _ROUTE_ATTRS
            if web and isinstance(dec, ast.Call) and is_route:
                route, methods = _route_of(m, dec)
                yield Handler(m.path, fn.name, fn.lineno, web, route, methods, fn)
                break
            if (m.qualname(target) or "").endswith(".api") and m.imports_any("bentoml"):
                yield Handler(m.path, fn.name, fn.lineno, "bentoml", None, ("POST",), fn)
                break


def _class_handlers(m: Module, framework: str | None) -> Iterator[Handler]:
    """Predict methods of model-server classes (KServe, Ray Serve, TorchServe, Triton...)."""
    for cls in m.nodes(ast.ClassDef):
        kind: str | None = None
        for base in cls.bases:
            qual = m.qualname(base) or ""
            kind = kind or _HANDLER_BASES.get(qual)
            if qual.endswith("BaseHandler") and m.imports_any("ts"):
                kind = "torchserve"
        for dec in cls.decorator_list:
            qual = m.qualname(dec.func if isinstance(dec, ast.Call) else dec) or ""
            kind = kind or _CLASS_DECORATORS.get(qual)
        if cls.name == "TritonPythonModel":
            kind = "triton"
        kind = kind or ("seldon" if framework == "seldon" else None)
        if kind is None:
            continue
        for item in cls.body:
            if isinstance(item, _FUNCS) and item.name in _HANDLER_METHODS:
                yield Handler(m.path, item.name, item.lineno, kind, None, ("POST",), item)


def _module_handlers(m: Module, framework: str | None) -> Iterator[Handler]:
    """SageMaker inference scripts, Lambda handlers, Gradio interface functions."""
    body = m.tree.body if m.tree is not None else []
    top = {n.name: n for n in body if isinstance(n, _FUNCS)}
    if "model_fn" in top and len(_SAGEMAKER_FUNCS & set(top)) >= 2:
        for name in sorted(_SAGEMAKER_FUNCS & set(top) - {"model_fn"}):
            yield Handler(m.path, name, top[name].lineno, "sagemaker", None, ("POST",), top[name])
    stem = m.path.rsplit("/", 1)[-1].removesuffix(".py")
    if (
        "init" in top
        and "run" in top
        and (stem in ("score", "scoring") or m.imports_any("azureml"))
    ):
        yield Handler(m.path, "run", top["run"].lineno, "azureml", None, ("POST",), top["run"])
    for name in ("lambda_handler", "handler"):
        f = top.get(name)
        if f is not None and [a.arg for a in f.args.args] == ["event", "context"]:
            yield Handler(m.path, name, f.lineno, "lambda", None, ("POST",), f)
    if framework == "gradio":
        for call, qual in m.calls():
            if qual.split(".")[-1] not in ("Interface", "ChatInterface"):
                continue
            for kw in call.keywords:
                if kw.arg == "fn" and isinstance(kw.value, ast.Name) and kw.value.id in top:
                    f = top[kw.value.id]
                    yield Handler(m.path, f.name, f.lineno, "gradio", None, ("POST",), f)


def handlers_of(m: Module) -> tuple[str | None, list[Handler]]:
    """The serving framework a module imports (if any) and its request handlers."""
    framework = next((f for mod, f in _SERVING_IMPORTS.items() if mod in m.imports), None)
    web = framework if framework in _WEB_FRAMEWORKS else None
    if framework == "ray-serve" and m.imports_any("fastapi"):
        web = "fastapi"
    found: dict[int, Handler] = {}
    for h in (
        *_function_handlers(m, web),
        *_class_handlers(m, framework),
        *_module_handlers(m, framework),
    ):
        found.setdefault(h.line, h)
    return framework, sorted(found.values(), key=lambda h: h.line)


def _sdk_signals(m: Module) -> Iterator[RawSignal]:
    """Cloud SDK calls and dicts that configure rollouts, capture, explanations; mlsteward."""
    path = m.path
    cloud = m.imports_any(*_CLOUD_SDKS)
    for d in m.nodes(ast.Dict) if cloud else ():
        for k, v in zip(d.keys, d.values, strict=False):
            if not isinstance(k, ast.Constant) or not isinstance(k.value, str):
                continue
            if k.value in _SDK_NAMES:
                yield (_SDK_NAMES[k.value][0], path, k.lineno, _SDK_NAMES[k.value][1])
            elif (
                k.value == "Type"
                and isinstance(v, ast.Constant)
                and v.value in ("CANARY", "LINEAR")
            ):
                yield ("canary", path, k.lineno, f"SageMaker {v.value} traffic shifting")
    for call, qual in m.calls():
        if qual.startswith(("mlsteward.", "steward.")):
            for word, kind in (
                ("canary", "canary"),
                ("shadow", "shadow"),
                ("rollback", "rollback-script"),
            ):
                if word in qual.lower():
                    yield (kind, path, call.lineno, f"mlsteward `{qual}`")
        if cloud:
            yield from _sdk_call(path, call, qual)
    for a in m.nodes(ast.Assign) if cloud else ():
        for t in a.targets:
            if not (isinstance(t, ast.Attribute) and isinstance(a.value, ast.Dict)):
                continue
            if t.attr == "mirror_traffic" or (t.attr == "traffic" and len(a.value.keys) >= 2):
                kind = "shadow" if t.attr == "mirror_traffic" else "canary"
                yield (kind, path, a.lineno, f"Azure ML endpoint `{t.attr}` split")
    if "undo" in m.source or "rollback" in m.source:
        for const in m.nodes(ast.Constant):
            value = const.value
            if (
                not isinstance(value, str)
                or len(value) > 400
                or not _ROLLBACK_COMMAND.search(value)
            ):
                continue
            if not isinstance(m.parents.get(const), ast.Expr):  # a docstring says, it does not do
                yield ("rollback-script", path, const.lineno, f"scripted rollback `{value[:60]}`")


def _sdk_call(path: str, call: ast.Call, qual: str) -> Iterator[RawSignal]:
    last = qual.split(".")[-1]
    for kw in call.keywords:
        value = kw.value
        if kw.arg in _SDK_NAMES:
            yield (_SDK_NAMES[kw.arg][0], path, call.lineno, _SDK_NAMES[kw.arg][1])
        elif (
            kw.arg == "traffic_percentage"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, int)
            and 0 < value.value < 100
        ):
            yield ("canary", path, call.lineno, f"deploys with {value.value}% of traffic")
        elif kw.arg == "traffic_split" and isinstance(value, ast.Dict) and len(value.keys) >= 2:
            yield ("canary", path, call.lineno, "endpoint traffic split")
    if last in ("create_endpoint", "update_endpoint", "create_endpoint_config"):
        yield ("package", path, call.lineno, f"SageMaker endpoint (`{last}`)")
        yield ("health", path, call.lineno, "SageMaker pings the model container (/ping)")
    elif last in ("deploy", "ManagedOnlineDeployment", "KubernetesOnlineDeployment"):
        yield ("package", path, call.lineno, f"managed endpoint deployment (`{qual}`)")


def _absolute_imports(m: Module) -> set[str]:
    """The dotted names a module imports, relative ones resolved against its package.

    Read from `Module.imports` (a text scan), so resolving costs no parse.
    """
    package = m.dotted.split(".")
    if not m.path.endswith("__init__.py"):
        package = package[:-1]
    names: set[str] = set()
    for name in m.imports:
        if not name.startswith("."):
            names.add(name)
            continue
        rest = name.lstrip(".")
        level = len(name) - len(rest)
        base = package[: len(package) - (level - 1)] if level > 1 else package
        names.add(".".join([*base, *([rest] if rest else [])]))
        if base:
            names.add(".".join(base))  # `from . import x` runs the package's __init__ too
    return names


def imported_closure(
    py: PythonFacts, start: set[str], depth: int = 2, modules: list[Module] | None = None
) -> set[str]:
    """``start`` and the project modules it imports, ``depth`` hops deep."""
    sources = py.source_modules if modules is None else modules
    by_dotted = {m.dotted: m.path for m in sources if not m.is_notebook}
    seen, frontier = set(start), set(start)
    for _ in range(depth):
        nxt = {
            target
            for path in frontier
            if (m := py.by_path.get(path)) is not None
            for name in _absolute_imports(m)
            if (target := by_dotted.get(name)) is not None and target not in seen
        }
        seen |= nxt
        frontier = nxt
    return seen


_SERVING_HINTS = (
    *("model_fn", "lambda_handler", "def handler(", "TritonPythonModel", "def run("),
    *("undo", "rollback"),
)


def _may_serve(m: Module) -> bool:
    """Whether a module's imports or text leave any chance that it serves or deploys."""
    if m.imports_any(*_SERVING_IMPORTS, *_CLOUD_SDKS, "mlsteward", "azureml"):
        return True
    return any(hint in m.source for hint in _SERVING_HINTS)


def scan(py: PythonFacts) -> ServingCode:
    """Find the serving code among the parsed (non-test, non-notebook) modules."""
    out = ServingCode()
    serving: set[str] = set()
    sources = py.source_modules  # a fresh list on every access: taken once
    for m in sources:
        # the text decides which modules are worth parsing: most never are
        if m.is_notebook or not _may_serve(m) or m.tree is None:
            continue
        framework, found = handlers_of(m)
        out.handlers.extend(found)
        app = next(((call, q) for call, q in m.calls() if q in _APP_CALLS), None)
        if app is not None:
            out.signals.append(
                ("serving", m.path, app[0].lineno, f"{_APP_CALLS[app[1]]} app `{app[1]}`")
            )
        if found or app is not None or framework == "streamlit":
            serving.add(m.path)
            if m.imports_any("ray.serve"):
                line = found[0].line if found else 1
                out.signals.append(
                    ("health", m.path, line, "Ray Serve checks every replica's health")
                )
            label = found[0].framework if found else framework
            out.signals.append(
                ("serving", m.path, found[0].line if found else 1, f"{label} serving code")
            )
        out.signals.extend(_sdk_signals(m))
    for h in out.handlers:
        if h.health:
            out.signals.append(
                ("health", h.path, h.line, f"health endpoint {h.where()} ({h.framework})")
            )
    named = {
        m.path
        for m in sources
        if not m.is_notebook and _INFERENCE_STEM.search(PurePosixPath(m.path).stem.lower())
    }
    out.inference_entries = frozenset(serving | named)
    out.serving_modules = frozenset(imported_closure(py, serving, modules=sources))
    out.inference_modules = frozenset(imported_closure(py, serving | named, modules=sources))
    return out
