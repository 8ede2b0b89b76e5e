"""Task runners, and what CI really runs through them.

A *task* is a named recipe of a task runner: a Makefile target or justfile recipe, a tox
environment, a nox session, a Hatch, Poe, PDM or taskipy script. A CI job that calls
``make check``, ``tox -e lint``, ``nox -s tests``, ``pre-commit run``, a shell script of
the repository, a local composite action or a reusable workflow runs whatever those
define; `resolve` follows them and lists every `CIRun`: one kind of check (``facts.ci``
kinds) that CI runs, directly or through something.

`facts.tools` (`ToolFacts`) holds the result: ``facts.tools.tasks``,
``facts.tools.ci(kind)``, ``ci_runs``, ``ci_evidence``, ``ci_strength``.
"""

from __future__ import annotations

import ast
import configparser
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.ci import Command, Job, classify
from mlsteward.audit.facts.tools import ini_line, is_foreign, line_of
from mlsteward.audit.facts.yamlfile import load_yaml
from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.facts.tools import ToolFacts

__all__ = ["CIRun", "Task", "TaskFacts", "read", "resolve"]


@dataclass
class Task:
    """A named recipe of a task runner: a Makefile target, a tox env, a nox session, ..."""

    runner: str  # make | just | tox | nox | hatch | poe | pdm | taskipy
    name: str
    path: str
    line: int | None
    commands: list[Command] = field(default_factory=list)
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class CIRun:
    """CI running one kind of check, directly or through a task, hook or reusable workflow."""

    kind: str
    provider: str
    path: str
    job: str
    strength: Strength
    triggers: frozenset[str]
    text: str
    line: int | None = None
    via: str = ""

    def evidence(self) -> Evidence:
        when = ", ".join(sorted(self.triggers)) or "no trigger"
        # the line that does `kind` (else the first that is not a comment)
        cmd = Command(self.text)
        offset, shown = cmd.find(lambda ln: self.kind in classify(ln)) or cmd.find(bool) or (0, "")
        how = f" via {self.via}" if self.via else ""
        text = f"{self.provider} job '{self.job}' runs {self.kind}{how} ({when})"
        text += f": `{shown.strip()[:80]}`" if shown else ""
        line = self.line + offset if self.line is not None and not self.via else self.line
        return Evidence(text, self.strength, self.path, line)


@dataclass
class TaskFacts:
    """The tasks of the repository, and every check CI runs (`CIRun`)."""

    tasks: list[Task]
    runs: list[CIRun] = field(default_factory=list)

    def ci_runs(self, kind: str) -> list[CIRun]:
        return [r for r in self.runs if r.kind == kind]

    def ci(self, kind: str) -> CIRun | None:
        """The CI run of ``kind`` with the strongest trigger (direct runs win ties)."""
        runs = self.ci_runs(kind)
        # direct commands read better than a step through a task, or an action reference
        key = lambda r: (r.strength, not r.via, not r.text.startswith("uses:"))  # noqa: E731
        return max(runs, key=key) if runs else None

    def ci_evidence(self, kind: str) -> Evidence | None:
        run = self.ci(kind)
        return run.evidence() if run else None

    def ci_strength(self, kind: str) -> Strength | None:
        run = self.ci(kind)
        return run.strength if run else None


# -- reading tasks ---------------------------------------------------------------------------------


def read(facts: Facts, documents: list[tuple[str, Any, str]]) -> list[Task]:
    """Every task: from ``documents`` (parsed pyproject.toml tables and tox.ini files, as
    (path, ``[tool]`` table or INI parser, text)), Makefiles, justfiles and noxfiles."""
    files = facts.files
    tasks: list[Task] = []
    for rel, doc, text in documents:
        if isinstance(doc, configparser.ConfigParser):
            tasks += _tox(rel, doc, text)
        elif isinstance(doc, dict):
            tasks += _pyproject(doc, rel, text)
    for rel in files.named("Makefile", "GNUmakefile", "makefile", "justfile", ".justfile"):
        source = files.read_text(rel)
        if source is not None and not is_foreign(rel) and rel.count("/") <= 1:
            tasks += _makefile(rel, source, "just" if "justfile" in rel.lower() else "make")
    for rel in files.named("noxfile.py"):
        if not is_foreign(rel):
            tasks += _noxfile(facts, rel)
    return tasks


def _makefile(rel: str, text: str, runner: str) -> list[Task]:
    """Makefile targets and justfile recipes: a header line, then indented commands."""
    tasks: list[Task] = []
    current: Task | None = None
    joined: list[tuple[int, str]] = []
    for i, raw in enumerate(text.splitlines(), 1):
        if joined and joined[-1][1].endswith("\\"):
            joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + raw.strip())
        else:
            joined.append((i, raw))
    for lineno, line in joined:
        if line.startswith(("\t", " ")) and line.strip():
            if current is not None and not line.strip().startswith("#"):
                current.commands.append(Command(line.strip().lstrip("@-+ "), lineno))
            continue
        match = re.match(r"^@?([A-Za-z0-9_.%/-]+)(?:\s+[^:=]*?)?\s*::?(?!=)([^=]*)$", line)
        if match is None or match.group(1).startswith("."):
            if line.strip() and not line.startswith("#"):
                current = None
            continue
        prereqs = match.group(2).split(";")[0].split("#")[0]
        deps = tuple(d for d in prereqs.split() if not d.startswith("$"))
        current = Task(runner, match.group(1), rel, lineno, deps=deps)
        inline = match.group(2).split(";", 1)
        if runner == "make" and len(inline) == 2 and inline[1].strip():
            current.commands.append(Command(inline[1].strip(), lineno))
        tasks.append(current)
    return tasks


def _tox(rel: str, parser: configparser.ConfigParser, text: str) -> list[Task]:
    tasks: list[Task] = []
    for section in parser.sections():
        if section != "testenv" and not section.startswith("testenv:"):
            continue
        name = section.partition(":")[2] or "testenv"
        raw = parser.get(section, "commands", fallback="")
        cmds = [
            Command(c.strip(), line_of(text, re.escape(c.strip()[:40])))
            for c in raw.splitlines()
            if c.strip()
        ]
        tasks.append(Task("tox", name, rel, ini_line(text, section), cmds))
    return tasks


def _pyproject(tool: dict[str, Any], rel: str, text: str) -> list[Task]:
    """Hatch, Poe, PDM and taskipy scripts, and tox environments, of pyproject's ``[tool]``."""
    tables: list[tuple[str, str, Any]] = []
    hatch = tool.get("hatch", {}).get("envs", {}) if isinstance(tool.get("hatch"), dict) else {}
    if isinstance(hatch, dict):
        for env, spec in hatch.items():
            if isinstance(spec, dict) and isinstance(spec.get("scripts"), dict):
                for name, value in spec["scripts"].items():
                    full = name if env == "default" else f"{env}:{name}"
                    tables.append(("hatch", full, value))
    for runner, key in (("poe", "poe"), ("pdm", "pdm"), ("taskipy", "taskipy")):
        section = tool.get(key)
        scripts = None
        if isinstance(section, dict):
            scripts = section.get("tasks") if runner != "pdm" else section.get("scripts")
        if isinstance(scripts, dict):
            tables.extend((runner, name, value) for name, value in scripts.items())
    tox = tool.get("tox")
    if isinstance(tox, dict) and not isinstance(tox.get("legacy_tox_ini"), str):
        envs = {"testenv": tox.get("env_run_base", {})}
        if isinstance(tox.get("env"), dict):
            envs.update(tox["env"])
        for name, spec in envs.items():
            if isinstance(spec, dict):
                cmds = [
                    " ".join(map(str, c)) if isinstance(c, list) else str(c)
                    for c in spec.get("commands") or []
                ]
                tables.append(("tox", name, cmds))
    tasks: list[Task] = []
    for runner, name, value in tables:
        cmds = _task_commands(value)
        line = line_of(text, rf"^\s*['\"]?{re.escape(name.split(':')[-1])}['\"]?\s*=")
        tasks.append(Task(runner, name, rel, line, [Command(c, line) for c in cmds]))
    return tasks


def _task_commands(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [c for v in value for c in _task_commands(v)]
    if isinstance(value, dict):
        for key in ("cmd", "shell", "script", "sequence", "composite", "call"):
            if key in value:
                return _task_commands(value[key])
    return []


def _noxfile(facts: Facts, rel: str) -> list[Task]:
    module = facts.python.by_path.get(rel)
    if module is None or module.tree is None:
        return []
    tasks: list[Task] = []
    for node in module.tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        name = None
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            if (module.qualname(target) or "").endswith("session"):
                name = node.name
                if isinstance(dec, ast.Call):
                    for kw in dec.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            name = str(kw.value.value)
        if name is None:
            continue
        cmds: list[Command] = []
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in ("run", "run_always", "run_install")
            ):
                words = [str(a.value) for a in sub.args if isinstance(a, ast.Constant)]
                if words:
                    cmds.append(Command(" ".join(words), sub.lineno))
        tasks.append(Task("nox", name, rel, node.lineno, cmds))
    return tasks


# -- what CI runs, through tasks, hooks and reusable workflows ------------------------------------

#: a repository file a command names: a shell script, or a YAML job spec that may name one
_SCRIPT_REF = re.compile(r"(?<![\w/.-])(\.?/?[\w][\w./-]*\.(?:sh|bash|ya?ml))\b")

_INVOKE: dict[str, re.Pattern[str]] = {
    "make": re.compile(r"\bmake\b((?:[ \t]+[^\s;&|]+)*)"),
    "just": re.compile(r"\bjust\b((?:[ \t]+[^\s;&|]+)*)"),
    "tox": re.compile(r"\btox\b((?:[ \t]+[^\s;&|]+)*)"),
    "nox": re.compile(r"\bnox\b((?:[ \t]+[^\s;&|]+)*)"),
    "hatch": re.compile(r"\bhatch\b(?:[ \t]+-e[ \t]+\S+)?[ \t]+run[ \t]+(\S+)"),
    "poe": re.compile(r"\bpoe\b[ \t]+(\S+)"),
    "pdm": re.compile(r"\bpdm[ \t]+run[ \t]+(\S+)"),
    "taskipy": re.compile(r"(?:^|[\s;&|])task[ \t]+(\S+)"),
}
#: a runner whose name alone makes `classify` guess "test"
_RUNNER_ONLY = re.compile(r"\b(tox|nox|make\s+(test|check))\b")
_TEST_TOOL = re.compile(r"\b(py\.test|pytest|unittest|nosetests|coverage\s+run)\b")


def _invoked_names(runner: str, args: str, tasks: dict[str, Task]) -> list[str]:
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if runner in ("hatch", "poe", "pdm", "taskipy"):
        return words[:1]
    if runner == "tox":
        envs: list[str] = []
        for i, w in enumerate(words):
            if w in ("-e", "--env", "-f") and i + 1 < len(words):
                envs.extend(words[i + 1].split(","))
            elif w.startswith(("-e=", "--env=")):
                envs.extend(w.split("=", 1)[1].split(","))
            elif w.startswith("-e") and len(w) > 2 and not w.startswith("-e="):
                envs.extend(w[2:].split(","))
        if not envs:
            return list(tasks)  # every env (the envlist is at most all of them)
        return [e if e in tasks else "testenv" for e in envs]
    if runner == "nox":
        sessions: list[str] = []
        take = False
        for w in words:
            if w in ("-s", "--session", "--sessions", "-e"):
                take = True
            elif w.startswith("-"):
                take = False
            elif take:
                sessions.append(w)
        return sessions or list(tasks)
    # make / just: the targets named, else the first one (the default goal)
    names: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("-C", "-f", "--directory", "--file", "-j", "--justfile"):
            skip = True
            continue
        if w.startswith("-") or "=" in w:
            continue
        names.append(w)
    if not names:
        first = next((t for t in tasks.values() if "%" not in t.name), None)
        names = [first.name] if first else []
    return names


class _Resolver:
    """Expands a CI command into the kinds it runs (``make check`` -> lint, test)."""

    def __init__(self, facts: Facts, tasks: list[Task], tools: ToolFacts) -> None:
        self.facts = facts
        self.by_runner: dict[str, dict[str, Task]] = {}
        for t in tasks:
            self.by_runner.setdefault(t.runner, {}).setdefault(t.name, t)
        self.tools = tools
        self._task_cache: dict[str, list[tuple[str, Task]]] = {}

    def kinds(self, text: str, depth: int = 0) -> Iterator[tuple[str, str, str]]:
        """(kind, via, command) for everything ``text`` runs; ``via`` is "" when direct."""
        for kind in self._tool_kinds(text):
            yield kind, "", text
        yield from self._hooks(text)
        if depth > 3:
            return
        for via, task in self._tasks(text):
            for cmd in self._expand(task, set()):
                for kind, inner, cmd_text in self.kinds(cmd.text, depth + 1):
                    yield kind, inner or via, cmd_text
        for rel, script in self._scripts(text):
            for kind, inner, cmd_text in self.kinds(script, depth + 2):
                yield kind, inner or f"script {rel}", cmd_text

    def _scripts(self, text: str, hop: bool = True) -> list[tuple[str, str]]:
        """Shell scripts of the repository a command runs, also through a job spec it submits
        (``anyscale job submit jobs/x.yaml`` whose entrypoint is ``bash jobs/x.sh``)."""
        out: list[tuple[str, str]] = []
        files = self.facts.files
        for ref in _SCRIPT_REF.findall(text):
            rel = ref.removeprefix("./")
            if not files.exists(rel) or files.size(rel) > 100_000:
                continue
            body = files.read_text(rel) or ""
            if rel.endswith((".sh", ".bash")):
                out.append((rel, body))
            elif hop and not rel.startswith(".github/"):
                out.extend(self._scripts(body, hop=False))
        return out

    def _expand(self, task: Task, seen: set[int]) -> list[Command]:
        """A task's commands, its prerequisites' first (make ``check: lint test``)."""
        if id(task) in seen:
            return []
        seen.add(id(task))
        out: list[Command] = []
        for dep in task.deps:
            sub = self.by_runner.get(task.runner, {}).get(dep)
            if sub is not None:
                out.extend(self._expand(sub, seen))
        return out + task.commands

    def _tool_kinds(self, text: str) -> set[str]:
        """Kinds by pattern, plus what the tools' configuration adds (ruff with bandit rules
        is a security scan), minus the tests `classify` guesses from a runner whose tasks
        tell what really runs. Memoised: the same command text recurs across jobs."""
        memo: dict[str, frozenset[str]] = self.__dict__.setdefault("_tool_kinds_memo", {})
        if text not in memo:
            memo[text] = frozenset(self._tool_kinds_of(text))
        return set(memo[text])

    def _tool_kinds_of(self, text: str) -> set[str]:
        kinds = set(classify(text)) | self.tools.config_kinds(text)
        low = text.lower()
        if _RUNNER_ONLY.search(low) and not _TEST_TOOL.search(low) and self._tasks(text):
            kinds.discard("test")
        return kinds

    def _tasks(self, text: str) -> list[tuple[str, Task]]:
        if text in self._task_cache:
            return self._task_cache[text]
        out: list[tuple[str, Task]] = []
        for line in text.splitlines():
            for runner, rx in _INVOKE.items():
                tasks = self.by_runner.get(runner)
                if not tasks:
                    continue
                for match in rx.finditer(line):
                    for name in _invoked_names(runner, match.group(1) or "", tasks):
                        if name in tasks:
                            out.append((f"{runner} {name}", tasks[name]))
        self._task_cache[text] = out
        return out

    def _hooks(self, text: str) -> Iterator[tuple[str, str, str]]:
        low = text.lower()
        match = re.search(r"\b(?:pre-commit|prek)\s+run\b([^;&|\n]*)", low)
        if match is None and not re.search(r"pre-commit/action|pre-commit-ci/lite-action", low):
            return
        hooks = self.tools.hooks
        args = [a for a in (match.group(1).split() if match else []) if not a.startswith("-")]
        wanted = {a for a in args if any(h.id == a for h in hooks)}
        for hook in hooks:
            if wanted and hook.id not in wanted:
                continue
            if not wanted and hook.stages and set(hook.stages) <= {"manual"}:
                continue
            for kind, via in self.tools.hook_kinds(hook):
                yield kind, via, text


def resolve(facts: Facts, tasks: list[Task], tools: ToolFacts) -> list[CIRun]:
    """Every kind of check CI runs, and how (see the module docstring)."""
    resolver = _Resolver(facts, tasks, tools)
    jobs = facts.ci.jobs
    called = _called_strength(jobs)
    actions: dict[str, list[str]] = {}
    runs: list[CIRun] = []
    for job in jobs:
        caller = called.get(job.path) if "call" in job.triggers else None
        texts = [(c, c.text, "") for c in job.commands]
        for c in job.commands:
            steps = _composite_steps(facts, c.text, actions)
            texts += [(c, step, c.text.removeprefix("uses: ")) for step in steps]
        seen: set[tuple[str, str, str]] = set()
        for cmd, text, outer in texts:
            strength, triggers = job.strength_of(cmd), job.triggers
            if caller is not None:
                # a reusable workflow runs when, and as strongly as, its callers do
                strength, triggers = max(strength, caller[0]), triggers | caller[1]
                if cmd.allow_failure or job.allow_failure:
                    strength = min(strength, Strength.AUTOMATED)
            for kind, via, cmd_text in resolver.kinds(text):
                via = via or outer
                if (kind, via, cmd_text) in seen:
                    continue
                seen.add((kind, via, cmd_text))
                runs.append(
                    CIRun(
                        kind,
                        job.provider,
                        job.path,
                        job.name,
                        strength,
                        triggers,
                        cmd_text if via else cmd.text,
                        cmd.line or job.line,
                        via,
                    )
                )
    if tools.precommit_ci and tools.precommit_path:
        seen_kinds: set[str] = set()
        hooks = [h for h in tools.hooks if h.id not in tools.precommit_ci_skip]
        for kind, via in [pair for h in hooks for pair in tools.hook_kinds(h)]:
            if kind not in seen_kinds:
                seen_kinds.add(kind)
                runs.append(
                    CIRun(
                        kind,
                        "pre-commit.ci",
                        tools.precommit_path,
                        "pre-commit.ci",
                        Strength.AUTOMATED,
                        frozenset({"pull_request"}),
                        "",
                        1,
                        via,
                    )
                )
    return runs


def _called_strength(jobs: list[Job]) -> dict[str, tuple[Strength, frozenset[str]]]:
    """Reusable workflow path -> the strongest trigger among the jobs that call it."""
    out: dict[str, tuple[Strength, frozenset[str]]] = {}
    for job in jobs:
        for cmd in job.commands:
            match = re.match(r"uses:\s*\./(\.github/workflows/[\w.-]+\.ya?ml)", cmd.text)
            if match:
                old = out.get(match.group(1), (Strength.PRESENT, frozenset()))
                strength = max(old[0], job.strength_of(cmd))
                out[match.group(1)] = (strength, old[1] | job.triggers)
    return out


def _composite_steps(facts: Facts, text: str, cache: dict[str, list[str]]) -> list[str]:
    """The ``run:`` steps of a local composite action (``uses: ./.github/actions/x``)."""
    match = re.match(r"uses:\s*\./([\w./-]+?)/?$", text.strip())
    if match is None:
        return []
    if match.group(1) not in cache:
        cache[match.group(1)] = _read_action(facts, match.group(1))
    return cache[match.group(1)]


def _read_action(facts: Facts, folder: str) -> list[str]:
    for name in ("action.yml", "action.yaml"):
        rel = f"{folder}/{name}"
        if facts.files.exists(rel):
            source = facts.files.read_text(rel)
            data = load_yaml(facts, rel, source) if source else None
            runs = data.get("runs") if isinstance(data, dict) else None
            steps = runs.get("steps") if isinstance(runs, dict) else None
            return [str(s["run"]) for s in steps or [] if isinstance(s, dict) and s.get("run")]
    return []
