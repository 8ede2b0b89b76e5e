"""Readers of CI definitions, one a provider: files in, `facts.ci.Job`s out.

GitHub Actions workflows, GitLab CI (with ``extends``, local includes and GitLab's own
scanning templates), Azure Pipelines (anywhere in the repository, with their templates),
CircleCI, Travis CI (with ``jobs: include``), Bitbucket Pipelines and Jenkinsfiles.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.ci import Command, Job
from mlsteward.audit.facts.tools import is_foreign
from mlsteward.audit.facts.yamlfile import load_yaml

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["read_all"]

#: how deep templates, includes and ``extends`` chains are followed (GitLab allows 11)
_MAX_DEPTH = 10


# -- where things are in a file --------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """A command before its line is known.

    ``needle`` is what to look for to find that line, when it is not the text itself (a
    step from an Azure template points at the ``template:`` line that brings it).
    """

    text: str
    allow_failure: bool = False
    needle: str | None = None


class _Lines:
    """Finds the line of a text or a key in a file, for pointing evidence at it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, needle: str, start: int = 0) -> int | None:
        """The first line at or after index ``start`` that holds ``needle``'s first line
        (anywhere in the file when none after ``start`` does)."""
        needle = next((ln.strip() for ln in needle.splitlines() if ln.strip()), "")
        if not needle:
            return None
        for begin in (start, 0) if start else (0,):
            for i in range(begin, len(self.lines)):
                if needle in self.lines[i]:
                    return i + 1
        return None

    def key(self, name: str, start: int = 0, indent: int | None = None) -> int | None:
        """The line of the mapping key ``name`` (at exactly ``indent`` spaces, if given)."""
        pad = r"\s*" if indent is None else " " * indent
        rx = re.compile(rf"^{pad}['\"]?{re.escape(name)}['\"]?\s*:")
        return next((i + 1 for i in range(start, len(self.lines)) if rx.match(self.lines[i])), None)

    def child(self, parent: str, name: str) -> int | None:
        """The line of key ``name`` directly under the top-level key ``parent``."""
        top = self.key(parent, indent=0)
        if top is None:
            return self.key(name)
        for line in self.lines[top:]:
            if line.strip() and not line.lstrip().startswith("#"):
                indent = len(line) - len(line.lstrip())
                return self.key(name, top, indent) if indent else None
        return None

    def item(self, keys: str, value: str) -> int | None:
        """The line of a list item ``- key: value`` (Azure's ``- job: unit``)."""
        rx = re.compile(rf"^\s*-?\s*(?:{keys})\s*:\s*['\"]?{re.escape(value)}['\"]?\s*(#.*)?$")
        return next((i + 1 for i, ln in enumerate(self.lines) if rx.match(ln)), None)

    def commands(self, steps: list[_Step], start: int | None = 0) -> list[Command]:
        """Commands for ``steps`` in order, each looked for after the one before."""
        out: list[Command] = []
        cursor = start or 0
        last: tuple[str | None, int | None] = (None, None)
        for step in steps:
            if not step.text.strip():
                continue
            if step.needle is not None and step.needle == last[0]:
                line = last[1]  # more steps from the same template
            else:
                line = self.of(step.needle or step.text, cursor)
            cursor = line if line is not None else cursor
            last = (step.needle, line)
            out.append(Command(step.text, line, step.allow_failure))
        return out


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value if isinstance(value, str) else str(value)]


def _listed(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [x for x in items if isinstance(x, str) and x]


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


# -- GitHub Actions ----------------------------------------------------------------------------


def _gh_triggers(on: Any) -> frozenset[str]:
    names: list[str] = []
    if isinstance(on, str):
        names = [on]
    elif isinstance(on, list):
        names = [str(x) for x in on]
    elif isinstance(on, dict):
        names = [str(k) for k in on]
    out: set[str] = set()
    for n in names:
        if n in ("pull_request", "pull_request_target", "merge_group"):
            out.add("pull_request")
        elif n == "push":
            out.add("push")
            tags = on.get("push") if isinstance(on, dict) else None
            if isinstance(tags, dict) and "tags" in tags and "branches" not in tags:
                out.discard("push")
                out.add("tag")
        elif n == "schedule":
            out.add("schedule")
        elif n in ("workflow_dispatch", "repository_dispatch"):
            out.add("manual")
        elif n == "release":
            out.add("release")
        elif n in ("workflow_call", "workflow_run"):
            # run by another workflow (or after one): automatic, as that one is
            out.add("call")
    return frozenset(out)


def _github(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return []
    # YAML 1.1 reads a bare `on:` key as the boolean True
    triggers = _gh_triggers(data.get("on", data.get(True)))
    lines = _Lines(text)
    jobs = []
    for name, job in data["jobs"].items():
        if not isinstance(job, dict):
            continue
        soft = _true(job.get("continue-on-error"))
        steps: list[_Step] = []
        if isinstance(job.get("uses"), str):
            steps.append(_Step(f"uses: {job['uses']}", soft))
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            step_soft = soft or _true(step.get("continue-on-error"))
            if isinstance(step.get("uses"), str):
                steps.append(_Step(f"uses: {step['uses']}", step_soft))
            if step.get("run"):
                steps.append(_Step(str(step["run"]), step_soft))
        line = lines.child("jobs", str(name))
        commands = lines.commands(steps, line)
        jobs.append(Job("github", path, str(name), triggers, commands, line, soft))
    return jobs


# -- GitLab CI -----------------------------------------------------------------------------------

_GITLAB_RESERVED = frozenset(
    {
        *("stages", "variables", "image", "services", "before_script", "after_script"),
        *("cache", "include", "default", "workflow", "spec"),
    }
)
#: GitLab pipeline sources (``$CI_PIPELINE_SOURCE``) and ``only:`` refs -> triggers
_GITLAB_SOURCES = {
    "push": "push",
    "merge_request_event": "pull_request",
    "external_pull_request_event": "pull_request",
    "schedule": "schedule",
    "web": "manual",
    "chat": "manual",
    "api": "call",
    "trigger": "call",
    "pipeline": "call",
    "parent_pipeline": "call",
}
_GITLAB_REFS = {
    "branches": "push",
    "pushes": "push",
    "tags": "tag",
    "merge_requests": "pull_request",
    "external_pull_requests": "pull_request",
    "schedules": "schedule",
    "web": "manual",
    "chat": "manual",
    "api": "call",
    "triggers": "call",
    "pipelines": "call",
}
#: GitLab's scanning templates and components -> the job each defines
_GITLAB_SCAN = re.compile(
    r"(?:^|/)(SAST|Dependency-Scanning|Secret-Detection|Container-Scanning|DAST)"
    r"(?:\.latest)?\.gitlab-ci\.yml$|/components/"
    r"(sast|dependency-scanning|secret-detection|container-scanning|dast)/",
    re.I,
)


def _rule_triggers(expr: Any) -> set[str] | None:
    """What a ``rules: - if:`` expression runs on; None when it does not say."""
    if not isinstance(expr, str):
        return None
    if re.search(r"CI_PIPELINE_SOURCE\s*!=", expr):
        return None
    sources = re.findall(r"CI_PIPELINE_SOURCE\s*==\s*['\"]?(\w+)", expr)
    for pattern in re.findall(r"CI_PIPELINE_SOURCE\s*=~\s*/([^/]*)/", expr):
        sources += [s for s in _GITLAB_SOURCES if s in pattern]
    if sources:
        return {_GITLAB_SOURCES.get(s, "push") for s in sources}
    if re.search(r"\$CI_MERGE_REQUEST_\w+|\$CI_EXTERNAL_PULL_REQUEST", expr):
        return {"pull_request"}
    if re.search(r"\$CI_COMMIT_TAG\b(?!\s*==\s*null)", expr) and "!$CI_COMMIT_TAG" not in expr:
        return {"tag"}
    if re.search(r"\$CI_COMMIT_(BRANCH|REF_NAME)\b|\$CI_DEFAULT_BRANCH\b", expr):
        return {"push"}
    return None


def _rules_triggers(rules: list[Any], default: set[str]) -> set[str]:
    out: set[str] = set()
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("when") == "never":
            continue
        if rule.get("when") == "manual":
            out.add("manual")
        else:
            out |= _rule_triggers(rule.get("if")) or default
    return out


def _gitlab_default_triggers(workflow: Any) -> set[str]:
    """What starts a job with no rules: the pipelines the workflow lets run."""
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if isinstance(rules, list):
        allowed = _rules_triggers(rules, {"push"}) - {"manual"}
        if allowed:
            return allowed
    return {"push"}


def _gitlab_triggers(job: dict[str, Any], workflow: Any) -> frozenset[str]:
    if job.get("when") == "manual":
        return frozenset({"manual"})
    default = _gitlab_default_triggers(workflow)
    if isinstance(job.get("rules"), list):
        return frozenset(_rules_triggers(job["rules"], default))
    out = set(default)
    only, skip = job.get("only"), job.get("except")
    refs = only.get("refs") if isinstance(only, dict) else only
    if refs is not None:
        out = {_GITLAB_REFS.get(r, "push") for r in _listed(refs)}
    refs = skip.get("refs") if isinstance(skip, dict) else skip
    out -= {_GITLAB_REFS[r] for r in _listed(refs) if r in _GITLAB_REFS}
    return frozenset(out)


def _merge(base: Any, over: Any) -> Any:
    """GitLab's ``extends`` merge: mappings deeply, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v)
        return out
    return over


@dataclass(frozen=True)
class _Def:
    """A top-level key of a GitLab configuration and the file that defines it."""

    name: str
    value: Any
    path: str
    lines: _Lines

    @property
    def line(self) -> int | None:
        return self.lines.key(self.name, indent=0)


class _GitLab:
    """One GitLab CI configuration: its file, the local files it includes, its jobs."""

    def __init__(self, reader: _Reader, path: str, data: dict[Any, Any], text: str) -> None:
        self.reader = reader
        self.path = path
        self.defs: dict[str, _Def] = {}
        #: local files included (read as part of this configuration)
        self.files: list[str] = []
        #: templates and components included: (reference, the _Def of the include)
        self.includes: list[tuple[str, _Def]] = []
        self._add(path, data, _Lines(text), 0)

    def _add(self, path: str, data: dict[Any, Any], lines: _Lines, depth: int) -> None:
        include = data.get("include")
        # included files first: the including file's keys override theirs
        for inc in include if isinstance(include, list) else [include]:
            self._include(_Def("include", inc, path, lines), depth)
        for key, value in data.items():
            if isinstance(key, str):
                self.defs[key] = _Def(key, value, path, lines)

    def _include(self, inc: _Def, depth: int) -> None:
        spec = inc.value
        if isinstance(spec, str):
            spec = {"remote": spec} if "://" in spec else {"local": spec}
        if not isinstance(spec, dict):
            return
        for key in ("template", "component"):
            if isinstance(spec.get(key), str):
                self.includes.append((spec[key], inc))
        local = spec.get("local")
        if not isinstance(local, str) or depth >= _MAX_DEPTH:
            return
        pattern = local.lstrip("/")
        for rel in self.reader.facts.files.glob(pattern) if "*" in pattern else [pattern]:
            loaded = self.reader.yaml(rel)
            if loaded is not None and isinstance(loaded[0], dict) and rel not in self.files:
                self.files.append(rel)
                self._add(rel, loaded[0], _Lines(loaded[1]), depth + 1)

    def resolve(self, name: str, depth: int = 0) -> tuple[dict[str, Any], dict[str, _Def]]:
        """A job with what it ``extends`` merged in, and where each of its keys comes from
        (the job that set it)."""
        found = self.defs.get(name)
        if found is None or not isinstance(found.value, dict):
            return {}, {}
        merged: dict[str, Any] = {}
        origin: dict[str, _Def] = {}
        if depth < _MAX_DEPTH:
            for parent in _listed(found.value.get("extends")):
                if parent != name:
                    inherited, where = self.resolve(parent, depth + 1)
                    merged = _merge(merged, inherited)
                    origin.update(where)
        for key, value in found.value.items():
            if key != "extends":
                merged[key] = _merge(merged.get(key), value)
                origin[key] = found
        return merged, origin

    @staticmethod
    def _commands(texts: list[str], origin: _Def, job: _Def) -> list[Command]:
        if origin.path != job.path:
            return [Command(t) for t in texts]  # lines of another file would mislead
        return origin.lines.commands([_Step(t) for t in texts], origin.line)

    def jobs(self) -> list[Job]:
        workflow = self.defs["workflow"].value if "workflow" in self.defs else None
        default = self.defs.get("default")
        before = self.defs.get("before_script")
        if (
            default is not None
            and isinstance(default.value, dict)
            and "before_script" in default.value
        ):
            before = _Def("default", default.value["before_script"], default.path, default.lines)
        scans: dict[str, tuple[str, _Def]] = {}
        for ref, inc in self.includes:
            match = _GITLAB_SCAN.search(ref)
            if match is not None:
                scans[(match.group(1) or match.group(2)).lower().replace("-", "_")] = (ref, inc)
        jobs: list[Job] = []
        for name, found in self.defs.items():
            if (
                name in _GITLAB_RESERVED
                or name.startswith(".")
                or not isinstance(found.value, dict)
            ):
                continue
            job, origin = self.resolve(name)
            commands: list[Command] = []
            if "before_script" in job:
                commands += self._commands(
                    _strings(job["before_script"]), origin["before_script"], found
                )
            elif before is not None:
                commands += self._commands(_strings(before.value), before, found)
            if job.get("script"):
                commands += self._commands(_strings(job["script"]), origin["script"], found)
            if job.get("trigger"):
                commands += self._commands([f"trigger: {job['trigger']}"], origin["trigger"], found)
            soft = job.get("allow_failure") is True
            if name in scans:  # a job of a scanning template, tuned here
                soft = job.get("allow_failure", True) is True
                commands.append(self._scan_command(*scans.pop(name), found.path))
            if soft:
                commands = [Command(c.text, c.line, True) for c in commands]
            triggers = _gitlab_triggers(job, workflow)
            jobs.append(Job("gitlab", found.path, name, triggers, commands, found.line, soft))
        for name, (ref, inc) in scans.items():
            # the template's jobs run in every pipeline and may fail (allow_failure: true)
            cmd = self._scan_command(ref, inc, inc.path)
            cmd = Command(cmd.text, cmd.line, True)
            triggers = frozenset(_gitlab_default_triggers(workflow))
            jobs.append(Job("gitlab", inc.path, name, triggers, [cmd], cmd.line, True))
        return jobs

    @staticmethod
    def _scan_command(ref: str, inc: _Def, path: str) -> Command:
        return Command(f"include: {ref}", inc.lines.of(ref) if inc.path == path else None)


# -- Azure Pipelines -------------------------------------------------------------------------------

#: a file shaped like Azure Pipelines: a top-level key they use, and a key only they use
_AZURE_TOP = re.compile(r"^(?:trigger|pr|stages|jobs|steps|schedules|extends|pool)\s*:", re.M)
_AZURE_KEYS = re.compile(
    r"^\s*(?:pool|vmImage)\s*:|^\s*-\s+(?:task|script|bash|pwsh|powershell|checkout|job|"
    r"deployment|stage)\s*:|^extends\s*:\s*\n\s+template\s*:",
    re.M,
)
#: what a pipeline has and a template does not
_AZURE_PIPELINE = re.compile(r"^(?:trigger|pr|schedules|pool|extends|resources)\s*:", re.M)
_AZURE_TEMPLATE_REF = re.compile(r"^\s*(?:-\s+)?template\s*:\s*['\"]?([^\s'\"#]+)", re.M)


class _Azure:
    """One Azure Pipelines file: its stages, jobs and steps, templates expanded."""

    def __init__(self, reader: _Reader, path: str, data: dict[Any, Any], text: str) -> None:
        self.reader = reader
        self.path = path
        self.data = data
        self.lines = _Lines(text)

    def triggers(self) -> frozenset[str]:
        out = set()
        if self.data.get("trigger", "default") != "none":
            out.add("push")
        if self.data.get("pr", "default") != "none":
            out.add("pull_request")
        if self.data.get("schedules"):
            out.add("schedule")
        return frozenset(out)

    def _items(
        self, items: Any, key: str, rel: str, ref: str | None = None, depth: int = 0
    ) -> Iterator[tuple[dict[str, Any], str | None]]:
        """The dicts of a stages/jobs/steps list, a template's own in its place; with the
        outermost template reference that brought each (None for the pipeline's own)."""
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            if not isinstance(item.get("template"), str):
                yield item, ref
                continue
            target = _template_path(rel, item["template"])
            loaded = self.reader.yaml(target) if target and depth < _MAX_DEPTH else None
            if loaded is not None and isinstance(loaded[0], dict):
                yield from self._items(
                    loaded[0].get(key), key, target or rel, ref or item["template"], depth + 1
                )

    def _steps(self, job: dict[str, Any], soft: bool, outer: str | None) -> list[_Step]:
        """The job's steps; ``outer`` is the template reference that brought the job, if any
        (its steps are in that template, so they point at the reference)."""
        lists = [job.get("steps")]
        strategy = job.get("strategy")
        todo = [strategy]
        while todo:  # deployment jobs: runOnce/rolling/canary -> deploy/on.success... -> steps
            node = todo.pop(0)
            if isinstance(node, dict):
                lists += [v for k, v in node.items() if k == "steps"]
                todo += [v for k, v in node.items() if k != "steps"]
        out: list[_Step] = []
        for steps in lists:
            for step, ref in self._items(steps, "steps", self.path):
                step_soft = soft or _true(step.get("continueOnError"))
                needle = f"template: {ref or outer}" if ref or outer else None
                for key in ("script", "bash", "pwsh", "powershell"):
                    if isinstance(step.get(key), str):
                        out.append(_Step(step[key], step_soft, needle))
                if isinstance(step.get("task"), str):
                    task = f"task: {step['task']} {step.get('inputs', '')}"
                    out.append(_Step(task, step_soft, needle or f"task: {step['task']}"))
        return out

    def jobs(self) -> list[Job]:
        body = self.data
        base: str | None = None  # the template a pipeline `extends`, which holds its body
        extends = body.get("extends")
        if isinstance(extends, dict) and isinstance(extends.get("template"), str):
            target = _template_path(self.path, extends["template"])
            loaded = self.reader.yaml(target) if target else None
            if loaded is not None and isinstance(loaded[0], dict):
                body, base = loaded[0], extends["template"]
        triggers = self.triggers()
        jobs: list[Job] = []
        stages = list(self._items(body.get("stages"), "stages", self.path)) or [(body, None)]
        for stage, stage_ref in stages:
            found = list(self._items(stage.get("jobs"), "jobs", self.path)) or [(stage, None)]
            for job, job_ref in found:
                name = str(job.get("job") or job.get("deployment") or stage.get("stage") or "")
                soft = _true(job.get("continueOnError"))
                ref = job_ref or stage_ref or base
                line = None if ref else self.lines.item("job|deployment|stage", name)
                line = line or (self.lines.of(f"template: {ref}") if ref else None)
                commands = self.lines.commands(self._steps(job, soft, ref), line)
                jobs.append(
                    Job("azure", self.path, name or self.path, triggers, commands, line, soft)
                )
        return jobs


def _template_path(rel: str, ref: str) -> str | None:
    """The repository file a template reference names (None for another repository's)."""
    if "@" in ref or "$" in ref:
        return None
    if ref.startswith("/"):
        return posixpath.normpath(ref.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref))


# -- CircleCI, Travis, Bitbucket -----------------------------------------------------------------


def _circleci(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return []
    triggers = {"push", "pull_request"}
    if "schedule" in str(data.get("workflows", "")):
        triggers.add("schedule")
    lines = _Lines(text)
    jobs = []
    for name, job in data["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps: list[_Step] = []
        for step in job.get("steps") or []:
            if isinstance(step, dict) and "run" in step:
                run = step["run"]
                steps.append(_Step(run.get("command", "") if isinstance(run, dict) else str(run)))
            elif isinstance(step, str):
                steps.append(_Step(step))
        line = lines.child("jobs", str(name))
        commands = lines.commands(steps, line)
        jobs.append(Job("circleci", path, str(name), frozenset(triggers), commands, line))
    return jobs


_TRAVIS_PHASES = ("before_install", "install", "before_script", "script", "after_success", "deploy")


def _travis(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    lines = _Lines(text)
    triggers = frozenset({"push", "pull_request"})
    jobs: list[Job] = []
    steps = [_Step(t) for key in _TRAVIS_PHASES for t in _strings(data.get(key))]
    included = any(
        isinstance(data.get(k), dict) and data[k].get("include") for k in ("jobs", "matrix")
    )
    if steps or not included:
        jobs.append(Job("travis", path, "build", triggers, lines.commands(steps), 1))
    # build stages and matrix entries: each its own job, the top-level phases as defaults
    for key in ("jobs", "matrix"):
        section = data.get(key)
        if not isinstance(section, dict):
            continue
        start = lines.key(key, indent=0) or 1
        allowed = [a for a in section.get("allow_failures") or [] if isinstance(a, dict)]
        for i, entry in enumerate(section.get("include") or []):
            if not isinstance(entry, dict):
                continue
            soft = any(a and all(entry.get(k) == v for k, v in a.items()) for a in allowed)
            commands: list[Command] = []
            for phase in _TRAVIS_PHASES:
                own = phase in entry  # else the top-level phase, a default for every entry
                steps = [_Step(t, soft) for t in _strings(entry[phase] if own else data.get(phase))]
                commands += lines.commands(steps, start if own else 0)
            name = str(entry.get("name") or entry.get("stage") or f"{key} include {i + 1}")
            line = lines.item("name|stage", name) or start
            jobs.append(Job("travis", path, name, triggers, commands, line, soft))
    return jobs


def _bitbucket(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict) or not isinstance(data.get("pipelines"), dict):
        return []
    pipelines = data["pipelines"]
    lines = _Lines(text)
    jobs: list[Job] = []
    mapping = {
        "default": "push",
        "branches": "push",
        "pull-requests": "pull_request",
        "tags": "tag",
        "custom": "manual",
    }
    for key, trigger in mapping.items():
        texts: list[str] = []
        todo = [pipelines.get(key)]
        while todo:
            node = todo.pop(0)
            if isinstance(node, dict):
                texts.extend(_strings(node.get("script")))
                todo += [v for k, v in node.items() if k != "script" and isinstance(v, dict | list)]
            elif isinstance(node, list):
                todo += node
        if texts:
            line = lines.child("pipelines", key)
            commands = lines.commands([_Step(t) for t in texts], line)
            jobs.append(Job("bitbucket", path, key, frozenset({trigger}), commands, line))
    return jobs


# -- Jenkins ---------------------------------------------------------------------------------------

_JENKINS_SH = re.compile(
    r"""\b(?:sh|bat|powershell)\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|\")(.*?)\1""", re.S
)


def _jenkins(path: str, text: str) -> list[Job]:
    triggers = {"push"}
    if re.search(r"\bcron\s*\(", text):
        triggers.add("schedule")
    if "changeRequest" in text or "CHANGE_ID" in text:
        triggers.add("pull_request")
    commands = []
    for match in _JENKINS_SH.finditer(text):
        body = match.group(2)
        if body.strip():
            # the line of the script's first non-blank character
            at = match.start(2) + len(body) - len(body.lstrip())
            commands.append(Command(body, text.count("\n", 0, at) + 1))
    return [Job("jenkins", path, "pipeline", frozenset(triggers), commands, 1)]


# -- gathering -------------------------------------------------------------------------------------


class _Reader:
    """Reads and parses each CI file once (templates and includes are shared)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._yaml: dict[str, tuple[Any, str] | None] = {}

    def yaml(self, rel: str | None) -> tuple[Any, str] | None:
        """(parsed data, text) of a YAML file of the repository; None if it cannot be read."""
        if rel is None or not self.facts.files.exists(rel):
            return None
        if rel not in self._yaml:
            text = self.facts.files.read_text(rel)
            data = load_yaml(self.facts, rel, text) if text is not None else None
            self._yaml[rel] = None if text is None else (data, text)
        return self._yaml[rel]


def _azure_files(facts: Facts, taken: set[str]) -> list[str]:
    """Azure Pipelines files: at the conventional places, and any YAML file shaped like a
    pipeline (not a template: templates run only where a pipeline brings them in)."""
    files = facts.files
    conventional = set(
        files.glob(
            *("azure-pipelines*.yml", "azure-pipelines*.yaml"),
            *(".azure-pipelines/*.yml", ".azure-pipelines/*.yaml"),
        )
    )
    candidates: list[str] = []
    templates: set[str] = set()
    for rel in files.with_suffix(".yml", ".yaml"):
        if rel in taken or rel.startswith(".github/") or is_foreign(rel):
            continue
        if rel not in conventional and files.size(rel) > 256_000:
            continue  # generated data, not a pipeline someone writes
        text = files.read_text(rel)
        if text is None or not (rel in conventional or _AZURE_KEYS.search(text)):
            continue
        for ref in _AZURE_TEMPLATE_REF.findall(text):
            target = _template_path(rel, ref)
            if target is not None:
                templates.add(target)
        if rel in conventional or (_AZURE_TOP.search(text) and _AZURE_PIPELINE.search(text)):
            candidates.append(rel)
    return [rel for rel in candidates if rel not in templates]


def read_all(facts: Facts) -> tuple[list[Job], list[str], dict[str, str]]:
    """Every CI job, the files read, and the provider of each file."""
    files = facts.files
    reader = _Reader(facts)
    sources: list[tuple[str, str]] = []
    workflows = files.glob(".github/workflows/*.yml", ".github/workflows/*.yaml")
    sources += [(rel, "github") for rel in workflows]
    sources += [(rel, "gitlab") for rel in files.named(".gitlab-ci.yml", ".gitlab-ci.yaml")]
    taken = {rel for rel, _ in sources}
    circle = files.glob(".circleci/config.yml", ".circleci/config.yaml")
    travis = files.glob(".travis.yml")
    bitbucket = files.glob("bitbucket-pipelines.yml")
    taken |= {*circle, *travis, *bitbucket}
    sources += [(rel, "azure") for rel in _azure_files(facts, taken)]
    sources += [(rel, "circleci") for rel in circle]
    sources += [(rel, "travis") for rel in travis]
    sources += [(rel, "bitbucket") for rel in bitbucket]

    jobs: list[Job] = []
    found: list[str] = []
    providers: dict[str, str] = {}
    for rel, provider in sources:
        loaded = reader.yaml(rel)
        if loaded is None:
            continue
        found.append(rel)
        providers[rel] = provider
        data, text = loaded
        if provider == "github":
            jobs += _github(rel, data, text)
        elif provider == "gitlab" and isinstance(data, dict):
            gitlab = _GitLab(reader, rel, data, text)
            jobs += gitlab.jobs()
            found += gitlab.files
            providers.update(dict.fromkeys(gitlab.files, "gitlab"))
        elif provider == "azure" and isinstance(data, dict):
            jobs += _Azure(reader, rel, data, text).jobs()
        elif provider == "circleci":
            jobs += _circleci(rel, data, text)
        elif provider == "travis":
            jobs += _travis(rel, data, text)
        elif provider == "bitbucket":
            jobs += _bitbucket(rel, data, text)
    for rel in files.glob("Jenkinsfile", "*.jenkinsfile", "jenkins/*.groovy"):
        source = files.read_text(rel)
        if source is not None:
            found.append(rel)
            providers[rel] = "jenkins"
            jobs += _jenkins(rel, source)
    return jobs, list(dict.fromkeys(found)), providers
