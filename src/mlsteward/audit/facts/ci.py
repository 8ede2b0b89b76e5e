"""CI definitions, parsed: which jobs run tests, linters, type checks, training..., and when.

Providers read: GitHub Actions, GitLab CI, Azure Pipelines, CircleCI, Jenkins
(declarative or scripted, by pattern), Travis CI and Bitbucket Pipelines (the readers are
in `mlsteward.audit.facts.ci_providers`). Each job becomes a `Job` with its triggers
(push, pull_request, schedule, manual, tag, release, call) and its commands;
`classify` tells what a command does (see `KINDS`).

How strong CI evidence is: a job that runs on pull (merge) requests, and whose command is
not allowed to fail, gates the merge: *enforced*. One that runs on push, on a schedule or
after another workflow is *automated*. Whether a check is marked "required" in the host's
branch protection is not in the repository, so *enforced* means "runs on every pull
request and can fail it". Allowed failures are per command (a GitHub step with
``continue-on-error``), so strength is too: `Job.strength_of`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = [
    "KINDS",
    "OTHER_CI_DIRS",
    "OTHER_CI_FILES",
    "TRIGGERS",
    "CIFacts",
    "Command",
    "Job",
    "classify",
    "code_lines",
    "executed",
    "gather",
]

#: a tox or nox call that selects environments (sessions, labels, factors)
_SELECT = r"(?:-e|--env|-s|--sessions?|-m|--labels?|-f|--factors?|-t|--tags)"
#: the runner's own arguments: up to the end of the command, or `--` (the rest is pytest's)
_ARGS = r"(?:(?!\s--\s)[^;&|])*"

#: what a command does -> patterns over one lower-cased line of it (see `classify`)
KINDS: dict[str, tuple[str, ...]] = {
    "test": (
        r"\bpytest\b",
        r"\bpy\.test\b",
        r"-m\s+unittest\b",
        # tox / nox run tests when no environment is selected, or when one of those
        # selected is a Python version (py311), has "test" in its name, or is a variable
        rf"\b[tn]ox\b(?!{_ARGS}\s{_SELECT}(?![\w-]))",
        rf"\b[tn]ox\b{_ARGS}\s{_SELECT}(?:=|\s+)?[\"']?(?:[^\s,]*,)*"
        r"(?:(?:py|pypy)(?:\d|\b)|[^\s,]*test|\$|\{\{)",
        r"\bmake\s+(test|check)\b",
        r"\bhatch\s+(test|run\s+test)",
        r"\bcoverage\s+run\b",
        r"\bnosetests\b",
        r"\bjust\s+test\b",
    ),
    "lint": (
        r"\bruff\b(?!\s+format)(?!-format)",
        r"\bflake8\b",
        r"\bpylint\b",
        r"\bpyflakes\b",
        r"\bpylama\b",
        r"\bpre-commit\s+run\b",
        r"pre-commit/action",
        r"\bpycodestyle\b",
        r"\bmake\s+lint\b",
        r"ruff-action",
        r"\bprospector\b",
    ),
    "format": (
        r"\bblack\b",
        r"\bruff\s+format\b",
        r"\bruff-format\b",
        r"\bisort\b",
        r"\byapf\b",
        r"\bautopep8\b",
    ),
    "typecheck": (
        r"\bmypy\b",
        r"\b(?:based)?pyright\b",
        r"\bpytype\b",
        r"\bpyre\s+check\b",
        r"\bty\s+check\b",
    ),
    "security": (
        r"\bbandit\b",
        r"\bpip-audit\b",
        r"gh-action-pip-audit",
        r"\bsafety\s+(check|scan)\b",
        r"codeql-action",
        r"\btrivy\b",
        r"\bsemgrep\b",
        r"\bgitleaks\b",
        r"\bdetect-secrets\b",
        r"\btrufflehog\b",
        r"\bsnyk\b",
        r"dependency-review-action",
        r"ossf/scorecard-action",
        r"\bosv-scanner\b",
        # GitLab's scanners, switched on by an include (templates or CI/CD components)
        r"\b(?:sast|dependency-scanning|secret-detection|container-scanning|dast)"
        r"(?:\.latest)?\.gitlab-ci\.yml",
        r"/components/(?:sast|dependency-scanning|secret-detection|container-scanning|dast)/",
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
        r"\bdvc\s+(exp|plots)\s+diff\b",
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
#: triggers that start a job without a person: a change, a clock or another pipeline
_AUTOMATIC = frozenset({"push", "schedule", "pull_request", "tag", "release", "call"})

#: CI systems this module does not parse (files at the root; folders): their presence is CI
OTHER_CI_FILES = (
    *("appveyor.yml", ".appveyor.yml", ".drone.yml", ".woodpecker.yml", "cloudbuild.yaml"),
    *("cloudbuild.yml", "buildspec.yml", "bitrise.yml", ".cirrus.yml", "codefresh.yml"),
    *("wercker.yml", ".buildkite/pipeline.yml", ".buildkite/pipeline.yaml"),
    ".semaphore/semaphore.yml",
)
OTHER_CI_DIRS = (".woodpecker", ".tekton")

# a package manager installing something: the tools it names are installed, not run
# (`pip install pytest tox` runs no tests; `helm install` deploys, so it is not listed)
_INSTALL = re.compile(
    r"\b(?:pip3?|pipx|conda|mamba|micromamba|uv(?:\s+pip|\s+tool)?|poetry|pdm|pixi|"
    r"apt(?:-get)?|yum|dnf|apk|brew|choco|npm|yarn|pnpm)\s+(?:-\S+\s+)*(?:install|add)\b"
)


def code_lines(text: str) -> list[tuple[int, str]]:
    """The lines of a script that run something, with their index in ``text``.

    Comment lines, blank lines and trailing shell comments go; a line continued with a
    backslash is joined to the next (under the first one's index).
    """
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for i, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if pending is not None:
            at, before = pending
            line, pending = f"{before} {line}", None
        elif line.startswith("#"):
            continue  # a comment ends at its line, backslash or not
        else:
            at = i
        if line.endswith("\\"):
            pending = (at, line[:-1].rstrip())
            continue
        if not line:
            continue
        out.append((at, _uncommented(line) if "#" in line else line))
    if pending is not None:
        out.append(pending)
    return out


def _uncommented(line: str) -> str:
    """``line`` without a trailing shell comment (a ``#`` after a blank, outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and i and line[i - 1] in " \t":
            return line[:i].rstrip()
    return line


def _without_installs(line: str) -> str:
    """``line`` without the commands that install packages (``pip install x && x``: ``x``)."""
    if "install" not in line and " add " not in line:
        return line
    return " ; ".join(p for p in re.split(r"&&|\|\||;", line) if not _INSTALL.search(p))


@lru_cache(maxsize=4096)
def executed(text: str) -> str:
    """What of a script runs something: its code lines (`code_lines`) without package
    installs, which name tools they do not run."""
    return "\n".join(_without_installs(line) for _, line in code_lines(text))


@lru_cache(maxsize=8192)
def _line_kinds(line: str) -> frozenset[str]:
    low = _without_installs(line.lower())
    return frozenset(kind for kind, rx in _COMPILED.items() if rx.search(low))


@lru_cache(maxsize=4096)
def classify(text: str) -> frozenset[str]:
    """What a command (or action reference) does, by pattern.

    Shell comments, and package installs (``pip install pytest``), do not count.
    """
    out: set[str] = set()
    for _, line in code_lines(text):
        out |= _line_kinds(line)
    return frozenset(out)


@dataclass(frozen=True)
class Command:
    """One step of a job: a script (maybe several lines), an action reference, a task.

    Attributes:
        text: the command as written (``uses: owner/action@v1`` for actions).
        line: the line of its first line in the job's file, when found.
        allow_failure: the step may fail without failing the job (``continue-on-error``).
    """

    text: str
    line: int | None = None
    allow_failure: bool = False

    @property
    def kinds(self) -> frozenset[str]:
        return classify(self.text)

    def find(self, match: Callable[[str], object]) -> tuple[int, str] | None:
        """The first code line (offset from the first line, text) that ``match``es."""
        first = next((i for i, ln in enumerate(self.text.splitlines()) if ln.strip()), 0)
        return next(((i - first, ln) for i, ln in code_lines(self.text) if match(ln)), None)


@dataclass
class Job:
    """A CI job: where it is defined, what starts it, what it runs.

    ``allow_failure`` is the job's own (``continue-on-error`` on the job, GitLab's
    ``allow_failure``); its commands then carry it too.
    """

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
            out |= c.kinds
        return frozenset(out)

    def command_for(self, kind: str) -> Command | None:
        """The command that runs ``kind``; one that can fail the job before one that cannot."""
        found = [c for c in self.commands if kind in c.kinds]
        return max(found, key=self.strength_of) if found else None

    def strength_of(self, command: Command | None = None) -> Strength:
        """How strong this job is as evidence for ``command`` (None: for the job as a whole,
        which can fail unless every command is allowed to fail)."""
        if command is not None:
            soft = command.allow_failure
        else:
            soft = bool(self.commands) and all(c.allow_failure for c in self.commands)
        if "pull_request" in self.triggers and not (soft or self.allow_failure):
            return Strength.ENFORCED
        if self.triggers & _AUTOMATIC:
            return Strength.AUTOMATED
        return Strength.PRESENT

    @property
    def strength(self) -> Strength:
        return self.strength_of()

    def strength_for(self, kind: str) -> Strength:
        """The strength of this job's evidence that it runs ``kind``."""
        cmd = self.command_for(kind)
        return self.strength_of(cmd) if cmd is not None else self.strength

    def evidence(self, kind: str) -> Evidence:
        return self.cite(self.command_for(kind), f"runs {kind}", lambda ln: kind in classify(ln))

    def cite(
        self, command: Command | None, does: str, match: Callable[[str], object] | None = None
    ) -> Evidence:
        """Evidence that this job ``does`` something, quoting the line of ``command`` that
        ``match``es (its first code line without ``match``)."""
        when = ", ".join(sorted(self.triggers)) or "no trigger"
        text = f"{self.provider} job '{self.name}' {does} ({when})"
        if command is None:
            return Evidence(text, self.strength, self.path, self.line)
        found = command.find(match or bool) or command.find(bool) or (0, command.text.strip())
        text += f": `{found[1].strip()[:80]}`"
        # script lines follow the first one in the file
        line = command.line + found[0] if command.line is not None else self.line
        return Evidence(text, self.strength_of(command), self.path, line)


@dataclass
class CIFacts:
    """Every CI job of the repository, and the files they come from."""

    jobs: list[Job]
    files: list[str]
    #: file -> provider, for files whose path does not say (Azure Pipelines anywhere)
    file_providers: dict[str, str] = field(default_factory=dict)
    #: files of CI systems mlsteward detects but does not read (AppVeyor, Drone, ...)
    other_files: list[str] = field(default_factory=list)

    @property
    def providers(self) -> frozenset[str]:
        return frozenset(j.provider for j in self.jobs) | frozenset(
            self.file_providers.get(f) or _provider_of(f) for f in self.files
        )

    def jobs_that(self, kind: str) -> list[Job]:
        """Jobs that run ``kind`` (cached: the jobs are fixed once read, rules ask often)."""
        cache: dict[str, list[Job]] = self.__dict__.setdefault("_jobs_by_kind", {})
        if kind not in cache:
            cache[kind] = [j for j in self.jobs if kind in j.kinds]
        return cache[kind]

    def ranked(self, kind: str) -> list[Job]:
        """Jobs that run ``kind``, strongest evidence first."""
        return sorted(self.jobs_that(kind), key=lambda j: -j.strength_for(kind))

    def best(self, kind: str) -> Job | None:
        """The job that runs ``kind`` with the strongest trigger (the first of equals)."""
        jobs = self.jobs_that(kind)
        return max(jobs, key=lambda j: j.strength_for(kind)) if jobs else None

    def strength(self, kind: str) -> Strength | None:
        job = self.best(kind)
        return job.strength_for(kind) if job else None

    def evidence(self, kind: str) -> Evidence | None:
        job = self.best(kind)
        return job.evidence(kind) if job else None

    def running(self, pattern: str | re.Pattern[str]) -> list[tuple[Job, Command]]:
        """Every command with a line (not a comment) that matches the regex ``pattern``."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [(j, c) for j in self.jobs for c in j.commands if c.find(rx.search) is not None]

    def evidence_running(self, pattern: str | re.Pattern[str], does: str) -> Evidence | None:
        """Evidence from the strongest command matching ``pattern``: "job 'x' {does} (...)"."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        found = self.running(rx)
        if not found:
            return None
        job, cmd = max(found, key=lambda jc: jc[0].strength_of(jc[1]))
        return job.cite(cmd, does, rx.search)

    @property
    def triggers(self) -> frozenset[str]:
        out: set[str] = set()
        for j in self.jobs:
            out |= j.triggers
        return frozenset(out)


def _provider_of(path: str) -> str:
    if path.startswith(".github/"):
        return "github"
    if "gitlab" in path:
        return "gitlab"
    if "azure" in path:
        return "azure"
    if path.startswith(".circleci/"):
        return "circleci"
    if "jenkins" in path.lower():
        return "jenkins"
    if "travis" in path:
        return "travis"
    return "bitbucket"


def gather(facts: Facts) -> CIFacts:
    """Read every CI definition the repository has."""
    from mlsteward.audit.facts.ci_providers import read_all

    jobs, files, providers = read_all(facts)
    other = [f for f in OTHER_CI_FILES if facts.files.exists(f)]
    other += [f for d in OTHER_CI_DIRS if facts.files.is_dir(d) for f in facts.files.under(d)]
    return CIFacts(jobs, sorted(files), providers, other)
