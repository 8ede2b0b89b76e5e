"""CI definitions, parsed: which jobs run tests, linters, type checks, training..., and when.

Providers read: GitHub Actions, GitLab CI, Azure Pipelines, CircleCI, Jenkins
(declarative or scripted, by pattern), Travis CI and Bitbucket Pipelines. Each job
becomes a `Job` with its triggers (push, pull_request, schedule, manual, tag, release) and
its commands; `Job.kinds` classifies what the commands do (see `KINDS`).

How strong CI evidence is: a job that runs on pull (merge) requests, and is not allowed
to fail, gates the merge: *enforced*. One that runs on push or on a schedule is
*automated*. Whether a check is marked "required" in the host's branch protection is not
in the repository, so *enforced* means "runs on every pull request and can fail it".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.yamlfile import load_yaml
from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["KINDS", "CIFacts", "Command", "Job", "classify", "gather"]

#: what a command does -> patterns over the lower-cased command text
KINDS: dict[str, tuple[str, ...]] = {
    "test": (
        r"\bpytest\b",
        r"\bpy\.test\b",
        r"-m\s+unittest\b",
        r"\btox\b",
        r"\bnox\b",
        r"\bmake\s+(test|check)\b",
        r"\bhatch\s+(test|run\s+test)",
        r"\bcoverage\s+run\b",
        r"\bnosetests\b",
        r"\bjust\s+test\b",
    ),
    "lint": (
        r"\bruff\b(?!\s+format)",
        r"\bflake8\b",
        r"\bpylint\b",
        r"\bpre-commit\s+run\b",
        r"pre-commit/action",
        r"\bpycodestyle\b",
        r"\bmake\s+lint\b",
        r"ruff-action",
        r"\bprospector\b",
    ),
    "format": (r"\bblack\b", r"\bruff\s+format\b", r"\bisort\b", r"\byapf\b"),
    "typecheck": (r"\bmypy\b", r"\bpyright\b", r"\bpytype\b", r"\bty\s+check\b"),
    "security": (
        r"\bbandit\b",
        r"\bpip-audit\b",
        r"gh-action-pip-audit",
        r"\bsafety\s+(check|scan)\b",
        r"codeql-action",
        r"\btrivy\b",
        r"\bsemgrep\b",
        r"\bgitleaks\b",
        r"\btrufflehog\b",
        r"\bsnyk\b",
    ),
    "train": (
        r"\btrain[a-z_]*\.py\b",
        r"\bdvc\s+(repro|exp\s+run)\b",
        r"\bmlflow\s+run\b",
        r"-m\s+[\w.]*train",
        r"\bmake\s+train\b",
        r"\bsteward\s+runs?\b",
    ),
    "evaluate": (
        r"\beval[a-z_]*\.py\b",
        r"\bevaluat",
        r"\bdvc\s+metrics\b",
        r"\bsteward\s+gate\b",
        r"\bvalidate_model\b",
        r"\bcml\b",
    ),
    "data-validation": (
        r"great_expectations|\bgx\s+checkpoint",
        r"\bsteward\s+data\s+validate\b",
        r"\bpandera\b",
        r"\btfdv\b",
        r"\bvalidate_data\b",
        r"data[_-]validat",
    ),
    "drift": (r"\bdrift\b", r"\bevidently\b", r"\bnannyml\b", r"\bsteward\s+data\s+drift\b"),
    "audit": (r"\bsteward\s+audit\b", r"\bmllint\b"),
    "docker": (r"\bdocker\s+(build|buildx)\b", r"build-push-action", r"\bkaniko\b", r"\bbuildah\b"),
    "deploy": (
        r"\bkubectl\s+(apply|rollout|set\s+image)\b",
        r"\bhelm\s+(upgrade|install)\b",
        r"\bdeploy\b",
        r"\bgcloud\s+run\b",
        r"\bsam\s+deploy\b",
        r"\bserverless\s+deploy\b",
        r"\bsagemaker\b",
        r"\baz\s+ml\b",
        r"\bsteward\s+models\s+promote\b",
    ),
    "benchmark": (r"pytest-benchmark|--benchmark", r"\basv\s+(run|continuous)\b", r"\bbenchmark"),
    "docs": (r"\bmkdocs\b", r"\bsphinx-build\b", r"\bmake\s+(html|docs)\b"),
}

_COMPILED = {kind: re.compile("|".join(pats)) for kind, pats in KINDS.items()}

TRIGGERS = ("push", "pull_request", "schedule", "manual", "tag", "release", "call")


def classify(text: str) -> frozenset[str]:
    """What a command (or action reference) does, by pattern."""
    low = text.lower()
    return frozenset(kind for kind, rx in _COMPILED.items() if rx.search(low))


@dataclass(frozen=True)
class Command:
    text: str
    line: int | None = None


@dataclass
class Job:
    provider: str
    path: str
    name: str
    triggers: frozenset[str]
    commands: list[Command] = field(default_factory=list)
    line: int | None = None
    allow_failure: bool = False

    @property
    def kinds(self) -> frozenset[str]:
        out: set[str] = set()
        for c in self.commands:
            out |= classify(c.text)
        return frozenset(out)

    def command_for(self, kind: str) -> Command | None:
        rx = _COMPILED[kind]
        return next((c for c in self.commands if rx.search(c.text.lower())), None)

    @property
    def strength(self) -> Strength:
        if "pull_request" in self.triggers and not self.allow_failure:
            return Strength.ENFORCED
        if self.triggers & {"push", "schedule", "pull_request", "tag", "release", "call"}:
            return Strength.AUTOMATED
        return Strength.PRESENT

    def evidence(self, kind: str) -> Evidence:
        cmd = self.command_for(kind)
        when = ", ".join(sorted(self.triggers)) or "no trigger"
        text = f"{self.provider} job '{self.name}' runs {kind} ({when})"
        line = (cmd.line if cmd else None) or self.line
        if cmd is not None:
            # quote the line of a multi-line script that matched, not its first line
            rx = _COMPILED[kind]
            lines = cmd.text.splitlines() or [cmd.text]
            at = next((i for i, ln in enumerate(lines) if rx.search(ln.lower())), 0)
            text += f": `{lines[at].strip()[:80]}`"
            if cmd.line is not None:  # script lines follow the first one in the file
                line = cmd.line + at
        return Evidence(text, self.strength, self.path, line)


@dataclass
class CIFacts:
    jobs: list[Job]
    files: list[str]

    @property
    def providers(self) -> frozenset[str]:
        return frozenset(j.provider for j in self.jobs) | frozenset(
            _provider_of(f) for f in self.files
        )

    def jobs_that(self, kind: str) -> list[Job]:
        return [j for j in self.jobs if kind in j.kinds]

    def best(self, kind: str) -> Job | None:
        """The job that runs ``kind`` with the strongest trigger."""
        jobs = self.jobs_that(kind)
        return max(jobs, key=lambda j: j.strength) if jobs else None

    def strength(self, kind: str) -> Strength | None:
        job = self.best(kind)
        return job.strength if job else None

    def evidence(self, kind: str) -> Evidence | None:
        job = self.best(kind)
        return job.evidence(kind) if job else None

    @property
    def triggers(self) -> frozenset[str]:
        out: set[str] = set()
        for j in self.jobs:
            out |= j.triggers
        return frozenset(out)


# -- helpers ---------------------------------------------------------------------------------


def _provider_of(path: str) -> str:
    if path.startswith(".github/"):
        return "github"
    if "gitlab" in path:
        return "gitlab"
    if "azure" in path:
        return "azure"
    if path.startswith(".circleci/"):
        return "circleci"
    if "jenkinsfile" in path.lower():
        return "jenkins"
    if "travis" in path:
        return "travis"
    return "bitbucket"


class _Lines:
    """Finds the line of a text in a file, for pointing evidence at it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, needle: str, start: int = 0) -> int | None:
        needle = needle.strip().splitlines()[0].strip() if needle.strip() else ""
        if not needle:
            return None
        for i in range(start, len(self.lines)):
            if needle in self.lines[i]:
                return i + 1
        return None

    def key(self, name: str) -> int | None:
        rx = re.compile(rf"^\s*['\"]?{re.escape(name)}['\"]?\s*:")
        for i, line in enumerate(self.lines):
            if rx.match(line):
                return i + 1
        return None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out.extend(_strings(v))
        return out
    if isinstance(value, dict):
        return [str(value)]
    return [str(value)]


def _commands(texts: Iterable[str], lines: _Lines) -> list[Command]:
    return [Command(t, lines.of(t)) for t in texts if t and t.strip()]


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
        elif n == "workflow_call":
            out.add("call")
    return frozenset(out)


def _github(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    # YAML 1.1 reads a bare `on:` key as the boolean True
    triggers = _gh_triggers(data.get("on", data.get(True)))
    lines = _Lines(text)
    jobs = []
    for name, job in (data.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        texts: list[str] = []
        if isinstance(job.get("uses"), str):
            texts.append(f"uses: {job['uses']}")
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            if isinstance(step.get("uses"), str):
                texts.append(f"uses: {step['uses']}")
            if step.get("run"):
                texts.append(str(step["run"]))
        jobs.append(
            Job(
                "github",
                path,
                str(name),
                triggers,
                _commands(texts, lines),
                lines.key(str(name)),
                bool(job.get("continue-on-error") is True),
            )
        )
    return jobs


# -- GitLab CI -----------------------------------------------------------------------------------

_GITLAB_RESERVED = {
    "stages",
    "variables",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "include",
    "default",
    "workflow",
    "pages:deploy",
}


def _gitlab_triggers(job: dict[str, Any], workflow: Any) -> frozenset[str]:
    text = str(job.get("rules", "")) + str(job.get("only", "")) + str(workflow)
    out = {"push"}
    if "merge_request" in text:
        out.add("pull_request")
    if "schedule" in text:
        out.add("schedule")
    if "tags" in text or "CI_COMMIT_TAG" in text:
        out.add("tag")
    if job.get("when") == "manual":
        return frozenset({"manual"})
    return frozenset(out)


def _gitlab(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    lines = _Lines(text)
    jobs = []
    default: dict[str, Any] = data["default"] if isinstance(data.get("default"), dict) else {}
    before = _strings(data.get("before_script") or default.get("before_script"))
    for name, job in data.items():
        if not isinstance(name, str) or name in _GITLAB_RESERVED or name.startswith("."):
            continue
        if not isinstance(job, dict):
            continue
        texts = [*before, *_strings(job.get("before_script")), *_strings(job.get("script"))]
        if job.get("trigger"):
            texts.append(f"trigger: {job['trigger']}")
        jobs.append(
            Job(
                "gitlab",
                path,
                name,
                _gitlab_triggers(job, data.get("workflow")),
                _commands(texts, lines),
                lines.key(name),
                bool(job.get("allow_failure") is True),
            )
        )
    return jobs


# -- Azure Pipelines -------------------------------------------------------------------------------


def _azure_steps(node: Any) -> list[str]:
    texts: list[str] = []
    if isinstance(node, dict):
        for key in ("script", "bash", "pwsh", "powershell"):
            if isinstance(node.get(key), str):
                texts.append(node[key])
        if isinstance(node.get("task"), str):
            texts.append(f"task: {node['task']} {node.get('inputs', '')}")
        for key in ("steps", "jobs", "stages"):
            texts.extend(_azure_steps(node.get(key)))
        if isinstance(node.get("strategy"), dict):
            texts.extend(_azure_steps(node["strategy"].get("runOnce", {}).get("deploy")))
    elif isinstance(node, list):
        for item in node:
            texts.extend(_azure_steps(item))
    return texts


def _azure(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    triggers = set()
    if data.get("trigger", "default") != "none":
        triggers.add("push")
    if data.get("pr", "default") != "none":
        triggers.add("pull_request")
    if data.get("schedules"):
        triggers.add("schedule")
    lines = _Lines(text)
    jobs: list[Job] = []
    for stage in data.get("stages") or [data]:
        if not isinstance(stage, dict):
            continue
        for job in stage.get("jobs") or [stage]:
            if not isinstance(job, dict):
                continue
            name = str(job.get("job") or job.get("deployment") or stage.get("stage") or path)
            jobs.append(
                Job(
                    "azure",
                    path,
                    name,
                    frozenset(triggers),
                    _commands(_azure_steps({"steps": job.get("steps"), "strategy": job.get("strategy")}), lines),
                    lines.key(name) if name != path else None,
                    bool(job.get("continueOnError") is True),
                )
            )
    return jobs


# -- CircleCI, Travis, Bitbucket -----------------------------------------------------------------


def _circleci(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    triggers = {"push", "pull_request"}
    if "schedule" in str(data.get("workflows", "")):
        triggers.add("schedule")
    lines = _Lines(text)
    jobs = []
    for name, job in (data.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        texts: list[str] = []
        for step in job.get("steps") or []:
            if isinstance(step, dict) and "run" in step:
                run = step["run"]
                texts.append(run.get("command", "") if isinstance(run, dict) else str(run))
            elif isinstance(step, str):
                texts.append(step)
        jobs.append(Job("circleci", path, str(name), frozenset(triggers), _commands(texts, lines), lines.key(str(name))))
    return jobs


def _travis(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    lines = _Lines(text)
    texts: list[str] = []
    for key in ("install", "before_script", "script", "after_success", "deploy"):
        texts.extend(_strings(data.get(key)))
    return [Job("travis", path, "build", frozenset({"push", "pull_request"}), _commands(texts, lines), 1)]


def _bitbucket(path: str, data: Any, text: str) -> list[Job]:
    if not isinstance(data, dict):
        return []
    lines = _Lines(text)
    jobs: list[Job] = []
    pipelines = data.get("pipelines") or {}
    if not isinstance(pipelines, dict):
        return []
    mapping = {"default": "push", "branches": "push", "pull-requests": "pull_request", "tags": "tag", "custom": "manual"}
    for key, trigger in mapping.items():
        texts: list[str] = []

        def collect(node: Any) -> None:
            if isinstance(node, dict):
                if "script" in node:
                    texts.extend(_strings(node["script"]))
                for v in node.values():
                    if isinstance(v, dict | list):
                        collect(v)
            elif isinstance(node, list):
                for v in node:
                    collect(v)

        collect(pipelines.get(key))
        if texts:
            jobs.append(Job("bitbucket", path, key, frozenset({trigger}), _commands(texts, lines), lines.key(key)))
    return jobs


# -- Jenkins ---------------------------------------------------------------------------------------

_JENKINS_SH = re.compile(r"""\b(?:sh|bat|powershell)\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|\")(.*?)\1""", re.S)


def _jenkins(path: str, text: str) -> list[Job]:
    lines = _Lines(text)
    triggers = {"push"}
    if re.search(r"\bcron\s*\(", text):
        triggers.add("schedule")
    if "changeRequest" in text or "CHANGE_ID" in text:
        triggers.add("pull_request")
    texts = [m.group(2) for m in _JENKINS_SH.finditer(text)]
    return [Job("jenkins", path, "pipeline", frozenset(triggers), _commands(texts, lines), 1)]


# -- gathering -------------------------------------------------------------------------------------


def gather(facts: Facts) -> CIFacts:
    files = facts.files
    jobs: list[Job] = []
    found: list[str] = []
    yaml_sources: list[tuple[str, Any]] = []
    for rel in files.glob(".github/workflows/*.yml", ".github/workflows/*.yaml"):
        yaml_sources.append((rel, _github))
    for rel in files.named(".gitlab-ci.yml", ".gitlab-ci.yaml"):
        yaml_sources.append((rel, _gitlab))
    for rel in files.glob("azure-pipelines*.yml", "azure-pipelines*.yaml", ".azure-pipelines/*.yml", ".azure-pipelines/*.yaml"):
        yaml_sources.append((rel, _azure))
    for rel in files.glob(".circleci/config.yml", ".circleci/config.yaml"):
        yaml_sources.append((rel, _circleci))
    for rel in files.glob(".travis.yml"):
        yaml_sources.append((rel, _travis))
    for rel in files.glob("bitbucket-pipelines.yml"):
        yaml_sources.append((rel, _bitbucket))
    for rel, parser in yaml_sources:
        text = files.read_text(rel)
        if text is None:
            continue
        found.append(rel)
        data = load_yaml(facts, rel, text)
        if data is not None:
            jobs.extend(parser(rel, data, text))
    for rel in files.glob("Jenkinsfile", "*.jenkinsfile", "jenkins/*.groovy"):
        text = files.read_text(rel)
        if text is not None:
            found.append(rel)
            jobs.extend(_jenkins(rel, text))
    return CIFacts(jobs, sorted(found))
