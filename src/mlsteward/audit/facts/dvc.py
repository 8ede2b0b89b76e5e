"""DVC facts: pipelines (dvc.yaml), tracked data (*.dvc), remotes, params and metrics files.

Read from the files DVC commits (``.dvc/config``, ``dvc.yaml``, ``dvc.lock``, ``*.dvc``);
the ``dvc`` command is never run, so the facts do not depend on what is installed.
Every path is made relative to the repository root (DVC writes them relative to the file
that declares them, or to a stage's ``wdir``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.yamlfile import load_yaml

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["DvcFacts", "Stage", "gather"]

_SECTION = re.compile(r"^\s*\[\s*(?:'|\")?\s*(\w+)(?:\s+\"([^\"]+)\")?\s*(?:'|\")?\s*\]\s*$")
_OPTION = re.compile(r"^\s*([\w.-]+)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Stage:
    """One stage of a dvc.yaml pipeline.

    ``params`` holds ``key`` for keys of the default params.yaml, ``file:key`` for keys of
    another file, and ``file`` when the stage depends on a whole params file.
    """

    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    metrics: tuple[str, ...]
    path: str
    line: int | None = None
    plots: tuple[str, ...] = ()


@dataclass
class DvcFacts:
    """What the repository's DVC files say.

    Attributes:
        present: DVC is initialised (a ``.dvc/`` folder) or used (dvc.yaml, ``*.dvc``).
        stages: the stages of every dvc.yaml.
        dvc_files: ``*.dvc`` files (data tracked with ``dvc add`` / ``dvc import``).
        remotes: remote name -> URL from ``.dvc/config``.
        params_files: params files the stages read (that exist), plus a root params.yaml.
        metrics_files, plots_files: metrics and plots the pipelines declare.
        lock_present: a dvc.lock exists.
        config_path: ``.dvc/config`` when committed.
        default_remote: ``core.remote`` from the config.
        pipelines: the dvc.yaml files; lock_files: the dvc.lock files.
        imports: ``*.dvc`` files that import data from another repository or a URL.
        tracked: paths tracked by ``*.dvc`` files and stage outputs (relative to the root).
    """

    present: bool
    stages: list[Stage] = field(default_factory=list)
    dvc_files: list[str] = field(default_factory=list)
    remotes: dict[str, str] = field(default_factory=dict)
    params_files: list[str] = field(default_factory=list)
    metrics_files: list[str] = field(default_factory=list)
    plots_files: list[str] = field(default_factory=list)
    lock_present: bool = False
    config_path: str | None = None
    default_remote: str | None = None
    pipelines: list[str] = field(default_factory=list)
    lock_files: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    tracked: list[str] = field(default_factory=list)

    def tracks(self, rel: str) -> bool:
        """Whether DVC tracks this file (itself or a folder above it)."""
        return any(rel == t or rel.startswith(t.rstrip("/") + "/") for t in self.tracked)


def _join(base: PurePosixPath, rel: str) -> str:
    """``rel`` (relative to ``base``) as a root-relative posix path; URLs are kept."""
    if "://" in rel or rel.startswith(("remote://", "/")):
        return rel
    parts: list[str] = [] if str(base) == "." else list(base.parts)
    for part in PurePosixPath(rel.replace("\\", "/")).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _paths(items: Any) -> list[str]:
    """Paths from a DVC list: strings, or one-key mappings ``{path: {cache: false}}``."""
    out: list[str] = []
    if isinstance(items, str):
        return [items]
    if not isinstance(items, list):
        return out
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            if isinstance(item.get("path"), str):
                out.append(item["path"])
            else:
                out.extend(str(k) for k in item)
    return out


def _params(items: Any) -> list[tuple[str, str | None]]:
    """(file, key) pairs: a bare key reads params.yaml; ``{file: null}`` reads a whole file."""
    out: list[tuple[str, str | None]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            out.append(("params.yaml", item))
        elif isinstance(item, dict):
            for file, keys in item.items():
                if isinstance(keys, list) and keys:
                    out.extend((str(file), str(k)) for k in keys)
                else:
                    out.append((str(file), None))
    return out


def _param_text(file: str, key: str | None) -> str:
    if key is None:
        return file
    return key if file == "params.yaml" else f"{file}:{key}"


def _line_of_key(lines: list[str], key: str) -> int | None:
    rx = re.compile(r"^\s+['\"]?" + re.escape(key) + r"['\"]?\s*:")
    return next((i + 1 for i, line in enumerate(lines) if rx.match(line)), None)


def _config(text: str) -> tuple[dict[str, str], str | None]:
    """Remotes and the default remote from ``.dvc/config`` (git-config-like INI)."""
    remotes: dict[str, str] = {}
    default: str | None = None
    section: tuple[str, str | None] = ("", None)
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";")):
            continue
        head = _SECTION.match(line)
        if head:
            section = (head.group(1).lower(), head.group(2))
            continue
        opt = _OPTION.match(line)
        if not opt:
            continue
        key, value = opt.group(1).lower(), opt.group(2).strip("'\"")
        if section[0] == "remote" and section[1] and key == "url":
            remotes[section[1]] = value
        elif section[0] == "core" and key == "remote":
            default = value
    return remotes, default


def _pipeline(facts: Facts, rel: str, out: DvcFacts) -> None:
    text = facts.files.read_text(rel)
    data = load_yaml(facts, rel, text) if text is not None else None
    if not isinstance(data, dict) or text is None:
        return
    base = PurePosixPath(rel).parent
    lines = text.splitlines()
    stages = data.get("stages")
    params: set[str] = set()
    for name, body in (stages or {}).items() if isinstance(stages, dict) else ():
        if not isinstance(body, dict):
            continue
        if isinstance(body.get("do"), dict):  # foreach ... do: templated stages
            body = body["do"]
        wdir = _join(base, str(body.get("wdir", ".")))
        at = PurePosixPath(wdir or ".")
        cmd = body.get("cmd", "")
        stage_params = _params(body.get("params"))
        params.update(_join(at, file) for file, _ in stage_params)
        stage = Stage(
            name=str(name),
            cmd=" && ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd),
            deps=tuple(_join(at, p) for p in _paths(body.get("deps"))),
            outs=tuple(_join(at, p) for p in _paths(body.get("outs"))),
            params=tuple(_param_text(f, k) for f, k in stage_params),
            metrics=tuple(_join(at, p) for p in _paths(body.get("metrics"))),
            path=rel,
            line=_line_of_key(lines, str(name)),
            plots=tuple(_join(at, p) for p in _paths(body.get("plots"))),
        )
        out.stages.append(stage)
        out.tracked.extend(p for p in (*stage.outs, *stage.metrics, *stage.plots) if "://" not in p)
        out.metrics_files.extend(stage.metrics)
        out.plots_files.extend(stage.plots)
    # DVC 3 top-level sections
    # top-level params list whole files, not keys
    top: list[Any] = data["params"] if isinstance(data.get("params"), list) else []
    params.update(_join(base, str(next(iter(i)) if isinstance(i, dict) else i)) for i in top if i)
    out.metrics_files.extend(_join(base, p) for p in _paths(data.get("metrics")))
    out.plots_files.extend(
        _join(base, p) for p in _paths(data.get("plots")) if "." in p or "/" in p
    )
    out.params_files.extend(p for p in sorted(params) if facts.files.exists(p))


def _dvc_file(facts: Facts, rel: str, out: DvcFacts) -> None:
    text = facts.files.read_text(rel)
    data = load_yaml(facts, rel, text) if text is not None else None
    if not isinstance(data, dict):
        return
    base = PurePosixPath(rel).parent
    wdir = PurePosixPath(_join(base, str(data.get("wdir", "."))) or ".")
    out.tracked.extend(_join(wdir, p) for p in _paths(data.get("outs")))
    for dep in data.get("deps") or []:
        # `dvc import` records the source repository; `dvc import-url` a URL path
        if isinstance(dep, dict) and (
            isinstance(dep.get("repo"), dict) or "://" in str(dep.get("path", ""))
        ):
            out.imports.append(rel)
            break


def gather(facts: Facts) -> DvcFacts:
    """Read the repository's DVC configuration, pipelines and tracked-data files."""
    files = facts.files
    dvc_dir = files.is_dir(".dvc")
    pipelines = list(files.named("dvc.yaml", "dvc.yml"))
    dvc_files = [f for f in files.with_suffix(".dvc") if not f.startswith(".dvc/")]
    out = DvcFacts(present=bool(dvc_dir or pipelines or dvc_files))
    if not out.present:
        return out
    out.pipelines = pipelines
    out.dvc_files = dvc_files
    out.lock_files = files.named("dvc.lock")
    out.lock_present = bool(out.lock_files)
    config = files.find(".dvc/config")
    if config is not None:
        out.config_path = config
        out.remotes, out.default_remote = _config(files.read_text(config) or "")
    for rel in pipelines:
        _pipeline(facts, rel, out)
    for rel in dvc_files:
        _dvc_file(facts, rel, out)
    if files.exists("params.yaml") and "params.yaml" not in out.params_files:
        out.params_files.append("params.yaml")
    out.metrics_files = sorted(set(out.metrics_files))
    out.plots_files = sorted(set(out.plots_files))
    out.tracked = sorted(set(out.tracked))
    return out
