"""Developer tools, configured: linters, formatters, type checkers, security linters, test runners.

A tool counts as *configured* when a file says how to run it, wherever that file is:

- its own config (``ruff.toml``, ``.flake8``, ``mypy.ini``, ``.pylintrc``, ``.bandit``, ...) or
  a section of a shared one (``[tool.ruff]`` in pyproject.toml, ``[flake8]`` in setup.cfg or
  tox.ini, ``[mypy]`` in setup.cfg, ``[tool:pytest]``, ``[coverage:run]``, ...);
- a pre-commit hook (``.pre-commit-config.yaml``), including local hooks by their entry;
- a task that runs it: a Makefile or justfile recipe, a tox or nox environment, a Hatch, Poe,
  PDM or taskipy script;
- a CI job that runs it with its defaults.

A tool that is only listed as a (dev) dependency is *declared*, not configured.

The module also answers "what does CI really run?": a CI job that calls ``make check``,
``tox -e lint``, ``nox -s tests``, ``pre-commit run`` or a reusable workflow runs whatever
those define, and `ToolFacts.ci` follows them (`CIRun`). ruff with the ``S`` (bandit) rules
selected, and flake8 with flake8-bandit, count as security linters.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.ci import Command, Job, classify
from mlsteward.audit.facts.yamlfile import load_json, load_toml, load_yaml
from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = [
    "FORMATTERS",
    "LINTERS",
    "OTHER_CI_DIRS",
    "OTHER_CI_FILES",
    "SECURITY",
    "TOOL_KIND",
    "TYPECHECKERS",
    "CIRun",
    "Hook",
    "PytestConfig",
    "Task",
    "ToolFacts",
    "ToolUse",
    "gather",
]

#: canonical tool -> (the CI kind its runs count as, the pattern that finds it in a command)
_TOOLS: dict[str, tuple[str, str]] = {
    "ruff": ("lint", r"\bruff\b(?!\s+format)(?!-format)"),
    "flake8": ("lint", r"\bflake8\b"),
    "pylint": ("lint", r"\bpylint\b"),
    "pycodestyle": ("lint", r"\bpycodestyle\b"),
    "pyflakes": ("lint", r"\bpyflakes\b"),
    "prospector": ("lint", r"\bprospector\b"),
    "pylama": ("lint", r"\bpylama\b"),
    "mypy": ("typecheck", r"\bmypy\b"),
    "pyright": ("typecheck", r"\b(?:based)?pyright\b"),
    "pytype": ("typecheck", r"\bpytype\b"),
    "pyre": ("typecheck", r"\bpyre\s+check\b"),
    "ty": ("typecheck", r"\bty\s+check\b"),
    "black": ("format", r"\bblack\b"),
    "ruff-format": ("format", r"\bruff\s+format\b"),
    "isort": ("format", r"\bisort\b"),
    "yapf": ("format", r"\byapf\b"),
    "autopep8": ("format", r"\bautopep8\b"),
    "bandit": ("security", r"\bbandit\b"),
    "semgrep": ("security", r"\bsemgrep\b"),
    "pip-audit": ("security", r"\bpip-audit\b"),
    "safety": ("security", r"\bsafety\s+(?:check|scan)\b"),
    "detect-secrets": ("security", r"\bdetect-secrets\b"),
    "gitleaks": ("security", r"\bgitleaks\b"),
    "trufflehog": ("security", r"\btrufflehog\b"),
    "pytest": ("test", r"\b(?:py\.test|pytest)\b"),
    "coverage": ("test", r"\bcoverage\s+run\b"),
    "steward": ("audit", r"\bsteward\s+audit\b"),
    "mllint": ("audit", r"\bmllint\b"),
}
#: canonical tool -> the CI kind (facts.ci.KINDS) its runs count as
TOOL_KIND: dict[str, str] = {t: k for t, (k, _) in _TOOLS.items()}
#: one pass finds every tool a command names (a group per tool)
_TOOL_RX = re.compile("|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(_TOOLS.values())))
_TOOL_GROUPS = {f"t{i}": t for i, t in enumerate(_TOOLS)}
LINTERS = tuple(t for t, k in TOOL_KIND.items() if k == "lint")
TYPECHECKERS = tuple(t for t, k in TOOL_KIND.items() if k == "typecheck")
FORMATTERS = tuple(t for t, k in TOOL_KIND.items() if k == "format")
SECURITY = tuple(t for t, k in TOOL_KIND.items() if k == "security")

#: pre-commit hook ids that run a tool (nbQA hooks run it over notebooks)
_HOOK_TOOLS: dict[str, str] = {
    "ruff": "ruff",
    "ruff-check": "ruff",
    "ruff-format": "ruff-format",
    "black-jupyter": "black",
    "basedpyright": "pyright",
    "pyright-python": "pyright",
    "flake8-bandit": "bandit",
    **{t: t for t in TOOL_KIND},
    **{f"nbqa-{t}": t for t in ("ruff", "flake8", "pylint", "mypy", "black", "isort")},
}

#: names a dependency manifest may list, and the tool each one stands for
_DEP_TOOLS: dict[str, str] = {
    **{t: t for t in TOOL_KIND if t not in ("ruff-format", "ty")},
    "basedpyright": "pyright",
    "pyre-check": "pyre",
    "flake8-bandit": "bandit",
    "pytest-cov": "coverage",
    "pytest-benchmark": "pytest-benchmark",
    "pytest-codspeed": "pytest-benchmark",
    "asv": "asv",
    "pre-commit": "pre-commit",
    "tox": "tox",
    "nox": "nox",
}

#: directories whose config files are test data or someone else's project
_FOREIGN = frozenset(
    {"fixtures", "testdata", "test_data", "third_party", "vendor", "site-packages"}
)
_TEST_DIRS = frozenset({"tests", "test", "testing"})

#: where each tool keeps its own config file (basenames; any depth outside foreign dirs)
_RC_FILES: dict[str, tuple[str, ...]] = {
    "ruff": ("ruff.toml", ".ruff.toml"),
    "flake8": (".flake8",),
    "pylint": (".pylintrc", "pylintrc", "pylintrc.toml", ".pylintrc.toml"),
    "mypy": ("mypy.ini", ".mypy.ini"),
    "pyright": ("pyrightconfig.json",),
    "isort": (".isort.cfg",),
    "bandit": (".bandit", "bandit.yaml", "bandit.yml", ".bandit.yml", ".bandit.yaml"),
    "yapf": (".style.yapf",),
    "pytest": ("pytest.ini",),
    "coverage": (".coveragerc",),
    "semgrep": (".semgrep.yml", ".semgrep.yaml"),
    "pycodestyle": (".pycodestyle",),
}

#: ``[tool.X]`` tables of pyproject.toml and the tool each configures
_PYPROJECT_TABLES: dict[str, str] = {
    **{t: t for t in ("ruff", "pylint", "mypy", "pyright", "black", "isort", "bandit", "yapf")},
    **{t: t for t in ("coverage", "pytype", "pyre")},
    "basedpyright": "pyright",
}

#: INI sections of setup.cfg and tox.ini (exact, or prefix ending in ".") -> tool
_INI_SECTIONS: dict[str, str] = {
    "flake8": "flake8",
    "pycodestyle": "pycodestyle",
    "pep8": "pycodestyle",
    "mypy": "mypy",
    "mypy-": "mypy",
    "isort": "isort",
    "pylint.": "pylint",
    "pylint": "pylint",
    "yapf": "yapf",
    "bandit": "bandit",
    "tool:pytest": "pytest",
    "pytest": "pytest",
    "coverage:": "coverage",
}

#: CI systems facts.ci does not parse (files at the root; folders): their presence is CI
OTHER_CI_FILES = (
    *("appveyor.yml", ".appveyor.yml", ".drone.yml", ".woodpecker.yml", "cloudbuild.yaml"),
    *("cloudbuild.yml", "buildspec.yml", "bitrise.yml", ".cirrus.yml", "codefresh.yml"),
    *("wercker.yml", ".buildkite/pipeline.yml", ".buildkite/pipeline.yaml"),
    ".semaphore/semaphore.yml",
)
OTHER_CI_DIRS = (".woodpecker", ".tekton")

_PINNED_REV = re.compile(r"^v?\d+(\.\d+)*([.-]?\w+)*$|^[0-9a-f]{7,40}$")
_MOVING_REVS = frozenset({"main", "master", "head", "stable", "develop", "dev", "latest", "trunk"})


@lru_cache(maxsize=4096)
def tools_in(text: str) -> list[str]:
    """The tools a command line runs, by name."""
    found: dict[str, None] = {}
    for match in _TOOL_RX.finditer(text.lower()):
        found.setdefault(_TOOL_GROUPS[match.lastgroup or ""], None)
    return list(found)


#: what ci.KINDS does not know yet (reported to the lead): kind -> pattern
_MORE_KINDS: dict[str, re.Pattern[str]] = {
    "evaluate": re.compile(r"\bdvc\s+(exp|plots|params)\s+diff\b"),
    "security": re.compile(r"dependency-review-action|ossf/scorecard-action|\bosv-scanner\b"),
}


@lru_cache(maxsize=4096)
def _classify(text: str) -> frozenset[str]:
    """ci.classify over the lines that are not shell comments, remembered (CI files repeat
    the same commands across jobs)."""
    if "#" in text:
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    low = text.lower()
    return classify(text) | {k for k, rx in _MORE_KINDS.items() if rx.search(low)}


# -- what was found -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolUse:
    """One place that says a tool is used.

    Attributes:
        tool: canonical name (``ruff``, ``ruff-format``, ``mypy``, ``pytest``, ...).
        path: the file that says so.
        line: where in it, when known.
        via: config | pre-commit | task | ci | dependency (strongest first).
        detail: what exactly, for evidence text (``[tool.ruff.lint]``, ``hook mypy``).
    """

    tool: str
    path: str
    line: int | None = None
    via: str = "config"
    detail: str = ""

    def evidence(self, strength: Strength = Strength.PRESENT) -> Evidence:
        what = {
            "config": "configured in",
            "pre-commit": "run by a pre-commit hook in",
            "task": "run by a task in",
            "ci": "run by CI in",
            "dependency": "declared as a dependency in",
        }.get(self.via, "in")
        text = f"{self.tool} {what} {self.path}" + (f" ({self.detail})" if self.detail else "")
        return Evidence(text, strength, self.path, self.line)


_VIA_ORDER = {"config": 0, "pre-commit": 1, "task": 2, "ci": 3, "dependency": 4}


@dataclass(frozen=True)
class Hook:
    """One pre-commit hook."""

    id: str
    repo: str
    rev: str | None
    line: int | None = None
    rev_line: int | None = None
    entry: str = ""
    args: tuple[str, ...] = ()
    additional_dependencies: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    @property
    def remote(self) -> bool:
        return self.repo not in ("local", "meta")

    @property
    def pinned(self) -> bool:
        """A remote hook at a tag or commit, not a moving branch."""
        if not self.remote:
            return True
        rev = (self.rev or "").strip()
        return bool(rev) and rev.lower() not in _MOVING_REVS and bool(_PINNED_REV.match(rev))

    @property
    def tools(self) -> frozenset[str]:
        out: set[str] = set()
        if self.id in _HOOK_TOOLS:
            out.add(_HOOK_TOOLS[self.id])
        elif self.id.startswith("nbqa-"):
            out.update(tools_in(self.id.removeprefix("nbqa-")))
        if not self.remote or not out:
            out.update(tools_in(f"{self.entry} {self.id}"))
        if "flake8" in out and any("bandit" in d for d in self.additional_dependencies):
            out.add("bandit")
        return frozenset(out)


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
class PytestConfig:
    """Where pytest is configured and what it collects."""

    path: str
    line: int | None
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ()
    addopts: str = ""


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
        offset, first = self._shown()
        how = f" via {self.via}" if self.via else ""
        text = f"{self.provider} job '{self.job}' runs {self.kind}{how} ({when})"
        text += f": `{first[:80]}`" if first else ""
        line = self.line + offset if self.line is not None and not self.via else self.line
        return Evidence(text, self.strength, self.path, line)

    def _shown(self) -> tuple[int, str]:
        """The line of the command that does ``kind`` (else the first that is not a comment)."""
        lines = self.text.splitlines()
        code = [(i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()[:1] not in ("", "#")]
        for i, ln in code:
            if self.kind in _classify(ln) or any(
                TOOL_KIND.get(t) == self.kind for t in tools_in(ln)
            ):
                return i, ln
        return code[0] if code else (0, "")


@dataclass
class ToolFacts:
    """Which developer tools the repository configures, and what its CI actually runs."""

    uses: list[ToolUse]
    hooks: list[Hook]
    precommit_path: str | None
    tasks: list[Task]
    pytest: PytestConfig | None
    #: rule codes ruff selects (select + extend-select); empty means ruff's defaults
    ruff_select: tuple[str, ...] = ()
    ruff_ignore: tuple[str, ...] = ()
    #: where mypy (or pyright) is set to strict mode, if anywhere
    strict_typing: str | None = None
    #: the pre-commit config has a ``ci:`` section (pre-commit.ci runs the hooks on PRs)
    precommit_ci: bool = False
    #: hooks pre-commit.ci skips (``ci: skip: [...]``)
    precommit_ci_skip: tuple[str, ...] = ()
    runs: list[CIRun] = field(default_factory=list)
    #: CI files found here that facts.ci does not read (Azure Pipelines in other folders)
    extra_ci_files: list[str] = field(default_factory=list)
    extra_ci_jobs: list[Job] = field(default_factory=list)
    #: files of CI systems mlsteward detects but does not read (AppVeyor, Drone, Buildkite, ...)
    other_ci_files: list[str] = field(default_factory=list)

    @property
    def ci_jobs(self) -> list[Job]:
        """Every CI job: those facts.ci parsed and those in `extra_ci_files`."""
        return [*self._ci_jobs, *self.extra_ci_jobs]

    _ci_jobs: list[Job] = field(default_factory=list, repr=False)

    def use(self, *tools: str, declared: bool = False) -> ToolUse | None:
        """The strongest place that configures any of ``tools`` (dependencies if ``declared``)."""
        found = [u for u in self.uses if u.tool in tools and (declared or u.via != "dependency")]
        if not found:
            return None
        return min(found, key=lambda u: (_VIA_ORDER.get(u.via, 9), u.path.count("/"), u.path))

    def configured(self, name: str) -> str | None:
        """The path of the file that configures ``name`` (config, pre-commit, task or CI)."""
        use = self.use(name)
        return use.path if use else None

    def declared(self, name: str) -> str | None:
        """The manifest that lists ``name`` as a dependency, if any."""
        use = next((u for u in self.uses if u.tool == name and u.via == "dependency"), None)
        return use.path if use else None

    @property
    def precommit_hooks(self) -> list[str]:
        return [h.id for h in self.hooks]

    @property
    def flake8_bandit(self) -> bool:
        """flake8 runs with the flake8-bandit plugin (a hook dependency or a declared one)."""
        return any("flake8" in h.tools and "bandit" in h.tools for h in self.hooks) or any(
            u.via == "dependency" and u.detail == "flake8-bandit" for u in self.uses
        )

    @property
    def ruff_security(self) -> bool:
        """ruff selects flake8-bandit (``S``) rules, so running ruff is security linting."""
        return _selects_security(self.ruff_select, self.ruff_ignore) or any(
            "ruff" in h.tools and _selects_security(_select_args(h.args), ()) for h in self.hooks
        )

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


# -- small readers --------------------------------------------------------------------------------


def _foreign(rel: str) -> bool:
    """Config that belongs to test data or vendored code: under a fixtures or vendor folder,
    or deeper than a tests folder itself (``tests/pytest.ini`` is the suite's own)."""
    dirs = rel.split("/")[:-1]
    if any(part in _FOREIGN for part in dirs):
        return True
    return any(part in _TEST_DIRS for part in dirs[:-1])


def _line_of(text: str, pattern: str, start: int = 0) -> int | None:
    rx = re.compile(pattern, re.M)
    lines = text.splitlines()
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i + 1
    return None


def _toml_table_line(text: str, dotted: str) -> int | None:
    return _line_of(text, rf"^\s*\[\[?\s*{re.escape(dotted)}(\s*\]|\.)")


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v for v in re.split(r"[\s,]+", value) if v)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _selects_security(select: Iterable[str], ignore: Iterable[str]) -> bool:
    sel = [s.strip().upper() for s in select]
    if any(s in ("S", "ALL") for s in [i.strip().upper() for i in ignore]) and "S" not in sel:
        return False
    return any(s == "ALL" or re.fullmatch(r"S\d*", s) for s in sel)


def _select_args(args: Iterable[str]) -> list[str]:
    out: list[str] = []
    items = list(args)
    for i, a in enumerate(items):
        for flag in ("--select", "--extend-select"):
            if a.startswith(flag + "="):
                out.extend(a.split("=", 1)[1].split(","))
            elif a == flag and i + 1 < len(items):
                out.extend(items[i + 1].split(","))
    return out


def _ini(facts: Facts, rel: str, text: str) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=rel)
    except configparser.Error as exc:
        # the deps area may have reported this file already, in its own words
        if not any(p.kind == "config" and p.path == rel for p in facts.problems):
            facts.problem("config", rel, f"invalid INI: {str(exc).splitlines()[0]}")
        return None
    return parser


def _ini_line(text: str, section: str) -> int | None:
    return _line_of(text, rf"^\s*\[{re.escape(section)}\]")


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


# -- config files ----------------------------------------------------------------------------------


class _Reader:
    """Gathers tool uses from config files; one instance per audit."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.files = facts.files
        self.uses: list[ToolUse] = []
        self.tasks: list[Task] = []
        self.pytest: PytestConfig | None = None
        self.ruff_select: list[str] = []
        self.ruff_ignore: list[str] = []
        self.strict: str | None = None

    def add(self, tool: str, path: str, line: int | None, via: str, detail: str = "") -> None:
        self.uses.append(ToolUse(tool, path, line, via, detail))

    def text(self, rel: str) -> str | None:
        return self.files.read_text(rel)

    def set_pytest(self, cfg: PytestConfig) -> None:
        if self.pytest is None or cfg.path.count("/") < self.pytest.path.count("/"):
            self.pytest = cfg

    def rc_files(self) -> None:
        for tool, names in _RC_FILES.items():
            for rel in self.files.named(*names):
                if _foreign(rel):
                    continue
                self.add(tool, rel, 1, "config")
                text = self.text(rel)
                if text is None:
                    continue
                if tool == "ruff":
                    self.ruff_file(rel, text)
                elif rel.endswith(".ini") or tool in ("flake8", "isort"):
                    self.ini_file(rel, text)
                elif tool == "pyright":
                    data = load_json(self.facts, rel, text)
                    if isinstance(data, dict) and data.get("typeCheckingMode") == "strict":
                        self.strict = self.strict or rel

    def ruff_file(self, rel: str, text: str) -> None:
        data = load_toml(self.facts, rel, text)
        if data is not None:
            self.ruff_table(data, rel, text, "")

    def ruff_table(self, table: dict[str, Any], rel: str, text: str, prefix: str) -> None:
        found = table.get("lint")
        lint: dict[str, Any] = found if isinstance(found, dict) else {}
        for src in (table, lint):
            self.ruff_select += [*_strs(src.get("select")), *_strs(src.get("extend-select"))]
            self.ruff_ignore += list(_strs(src.get("ignore")))
        if isinstance(table.get("format"), dict):
            self.add(
                "ruff-format",
                rel,
                _toml_table_line(text, f"{prefix}format"),
                "config",
                f"[{prefix}format]",
            )

    def pyproject(self, rel: str, text: str) -> None:
        data = load_toml(self.facts, rel, text)
        if data is None:
            return
        found = data.get("tool")
        tool: dict[str, Any] = found if isinstance(found, dict) else {}
        if rel.endswith("hatch.toml"):
            tool = {"hatch": data}
        for key, name in _PYPROJECT_TABLES.items():
            table = tool.get(key)
            if not isinstance(table, dict):
                continue
            self.add(name, rel, _toml_table_line(text, f"tool.{key}"), "config", f"[tool.{key}]")
            if key == "ruff":
                self.ruff_table(table, rel, text, "tool.ruff.")
            elif _truthy(table.get("strict")) or table.get("typeCheckingMode") == "strict":
                self.strict = self.strict or rel  # mypy's strict, pyright's strict mode
        pytest = tool.get("pytest")
        if isinstance(pytest, dict):
            ini = pytest.get("ini_options")
            opts = ini if isinstance(ini, dict) else pytest
            header = "tool.pytest.ini_options" if "ini_options" in pytest else "tool.pytest"
            line = _toml_table_line(text, header)
            self.add("pytest", rel, line, "config", f"[{header}]")
            self.set_pytest(
                PytestConfig(
                    rel,
                    line,
                    _strs(opts.get("testpaths")),
                    _strs(opts.get("python_files")),
                    " ".join(_strs(opts.get("addopts"))),
                )
            )
        self.pyproject_tasks(tool, rel, text)

    def ini_file(self, rel: str, text: str) -> None:
        """setup.cfg, tox.ini, mypy.ini, pytest.ini, .flake8, .isort.cfg: sections by tool."""
        parser = _ini(self.facts, rel, text)
        if parser is None:
            return
        base = rel.rpartition("/")[2]
        for section in parser.sections():
            tool = _INI_SECTIONS.get(section)
            if tool is None:
                tool = next(
                    (
                        t
                        for s, t in _INI_SECTIONS.items()
                        if s.endswith((".", ":", "-")) and section.startswith(s)
                    ),
                    None,
                )
            if tool == "pytest" and section == "pytest" and base not in ("pytest.ini", "tox.ini"):
                tool = None  # [pytest] configures pytest only in pytest.ini and tox.ini
            if tool is None:
                continue
            line = _ini_line(text, section)
            if base not in ("mypy.ini", ".mypy.ini", "pytest.ini", ".flake8", ".isort.cfg"):
                self.add(tool, rel, line, "config", f"[{section}]")
            if tool == "mypy" and _truthy(parser.get(section, "strict", fallback="")):
                self.strict = self.strict or rel
            if tool == "pytest":
                get = parser[section].get
                self.set_pytest(
                    PytestConfig(
                        rel,
                        line,
                        _strs(get("testpaths", "")),
                        _strs(get("python_files", "")),
                        get("addopts", "") or "",
                    )
                )
        if base == "tox.ini":
            self.tox(rel, parser, text)

    # -- tasks ---------------------------------------------------------------------------------

    def task(self, task: Task) -> None:
        self.tasks.append(task)
        for cmd in task.commands:
            for tool in tools_in(cmd.text):
                self.add(
                    tool, task.path, cmd.line or task.line, "task", f"{task.runner} {task.name}"
                )

    def makefile(self, rel: str, text: str, runner: str) -> None:
        """Makefile targets and justfile recipes: a header line, then indented commands."""
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
            self.tasks.append(current)
        for t in [t for t in self.tasks if t.path == rel]:
            for cmd in t.commands:
                for tool in tools_in(cmd.text):
                    self.add(tool, rel, cmd.line, "task", f"{runner} {t.name}")

    def tox(self, rel: str, parser: configparser.ConfigParser, text: str) -> None:
        for section in parser.sections():
            if section != "testenv" and not section.startswith("testenv:"):
                continue
            name = section.partition(":")[2] or "testenv"
            raw = parser.get(section, "commands", fallback="")
            cmds = [
                Command(c.strip(), _line_of(text, re.escape(c.strip()[:40])))
                for c in raw.splitlines()
                if c.strip()
            ]
            self.task(Task("tox", name, rel, _ini_line(text, section), cmds))

    def pyproject_tasks(self, tool: dict[str, Any], rel: str, text: str) -> None:
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
        if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
            parser = _ini(self.facts, rel, tox["legacy_tox_ini"])
            if parser is not None:
                self.tox(rel, parser, text)
        elif isinstance(tox, dict):
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
        for runner, name, value in tables:
            cmds = _task_commands(value)
            line = _line_of(text, rf"^\s*['\"]?{re.escape(name.split(':')[-1])}['\"]?\s*=")
            self.task(Task(runner, name, rel, line, [Command(c, line) for c in cmds]))

    def noxfile(self, rel: str) -> None:
        module = self.facts.python.by_path.get(rel)
        if module is None or module.tree is None:
            return
        for node in module.tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            name = None
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                qual = module.qualname(target) or ""
                if qual.endswith("session"):
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
            self.task(Task("nox", name, rel, node.lineno, cmds))


def _task_commands(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out.extend(_task_commands(v))
        return out
    if isinstance(value, dict):
        for key in ("cmd", "shell", "script", "sequence", "composite", "call"):
            if key in value:
                return _task_commands(value[key])
    return []


# -- pre-commit ------------------------------------------------------------------------------------


def _precommit(facts: Facts, rel: str, text: str) -> tuple[list[Hook], list[str] | None]:
    """The hooks, and the hooks pre-commit.ci skips (None when there is no ``ci:`` section)."""
    data = load_yaml(facts, rel, text)
    if not isinstance(data, dict):
        return [], None
    hooks: list[Hook] = []
    pos = 0
    for repo in data.get("repos") or []:
        if not isinstance(repo, dict):
            continue
        url = str(repo.get("repo", ""))
        repo_line = _line_of(text, rf"repo:\s*['\"]?{re.escape(url)}", pos)
        pos = repo_line or pos
        rev = repo.get("rev")
        rev_line = _line_of(text, r"^\s*-?\s*rev\s*:", pos) if rev is not None else repo_line
        for hook in repo.get("hooks") or []:
            if not isinstance(hook, dict) or not hook.get("id"):
                continue
            hid = str(hook["id"])
            line = _line_of(text, rf"id:\s*['\"]?{re.escape(hid)}\b", pos)
            pos = line or pos
            hooks.append(
                Hook(
                    hid,
                    url,
                    None if rev is None else str(rev),
                    line,
                    rev_line,
                    str(hook.get("entry", "")),
                    tuple(str(a) for a in hook.get("args") or [] if isinstance(a, str | int)),
                    tuple(str(d) for d in hook.get("additional_dependencies") or []),
                    tuple(str(s) for s in hook.get("stages") or []),
                )
            )
    ci = data.get("ci")
    return hooks, [str(x) for x in ci.get("skip") or []] if isinstance(ci, dict) else None


# -- what CI runs, through tasks, hooks and reusable workflows ------------------------------------


class _Resolver:
    """Expands a CI command into the kinds it runs (``make check`` -> lint, test)."""

    def __init__(
        self, facts: Facts, tasks: list[Task], hooks: list[Hook], tools: ToolFacts
    ) -> None:
        self.facts = facts
        self.by_runner: dict[str, dict[str, Task]] = {}
        for t in tasks:
            self.by_runner.setdefault(t.runner, {}).setdefault(t.name, t)
        self.hooks = hooks
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
        """Kinds by pattern, minus what ci.py guesses from a runner name it cannot see into."""
        kinds = set(_classify(text))
        low = text.lower()
        runner_only = re.search(r"\b(tox|nox|make\s+(test|check))\b", low) and not re.search(
            r"\b(py\.test|pytest|unittest|nosetests|coverage\s+run)\b", low
        )
        if runner_only and self._tasks(text):
            kinds.discard("test")  # the tasks tell what really runs
        tools = tools_in(text)
        if ("ruff" in tools or "ruff-action" in low) and self.tools.ruff_security:
            kinds.add("security")
        if "flake8" in tools and self.tools.flake8_bandit:
            kinds.add("security")
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
        args = [a for a in (match.group(1).split() if match else []) if not a.startswith("-")]
        wanted = {a for a in args if any(h.id == a for h in self.hooks)}
        for hook in self.hooks:
            if wanted and hook.id not in wanted:
                continue
            if not wanted and hook.stages and set(hook.stages) <= {"manual"}:
                continue
            for kind, via in self.hook_kinds(hook):
                yield kind, via, text

    def hook_kinds(self, hook: Hook) -> Iterator[tuple[str, str]]:
        for tool in sorted(hook.tools):
            kind = TOOL_KIND.get(tool)
            if kind:
                yield kind, f"pre-commit hook {hook.id}"
            if tool == "ruff" and self.tools.ruff_security:
                yield "security", f"pre-commit hook {hook.id} (ruff S rules)"


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


def _resolve_ci(facts: Facts, tools: ToolFacts) -> list[CIRun]:
    resolver = _Resolver(facts, tools.tasks, tools.hooks, tools)
    tools.extra_ci_jobs, tools.extra_ci_files = _azure_elsewhere(facts)
    tools._ci_jobs = facts.ci.jobs
    jobs = tools.ci_jobs
    called = _called_strength(jobs)
    inherited = _gitlab_extends(facts)
    actions: dict[str, list[str]] = {}
    runs: list[CIRun] = []
    for job in jobs:
        strength = job.strength
        triggers = job.triggers
        if "call" in job.triggers and job.path in called:
            strength, triggers = max(strength, called[job.path][0]), triggers | called[job.path][1]
        texts = [(c, c.text, "") for c in job.commands]
        for c in job.commands:
            steps = _composite_steps(facts, c.text, actions)
            texts += [(c, step, c.text.removeprefix("uses: ")) for step in steps]
        for text in inherited.get((job.path, job.name), []):
            texts.append((Command(text, job.line), text, ""))
        seen: set[tuple[str, str, str]] = set()
        for cmd, text, outer in texts:
            for kind, via, cmd_text in resolver.kinds(text):
                via = via or outer
                if (kind, via, cmd_text) in seen:
                    continue
                seen.add((kind, via, cmd_text))
                line = cmd.line or job.line
                runs.append(
                    CIRun(
                        kind,
                        job.provider,
                        job.path,
                        job.name,
                        strength,
                        triggers,
                        cmd_text if via else cmd.text,
                        line,
                        via,
                    )
                )
    runs += _gitlab_templates(facts)
    if tools.precommit_ci and tools.precommit_path:
        seen_kinds: set[str] = set()
        hooks = [h for h in tools.hooks if h.id not in tools.precommit_ci_skip]
        for kind, via in [pair for h in hooks for pair in resolver.hook_kinds(h)]:
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
                out[match.group(1)] = (max(old[0], job.strength), old[1] | job.triggers)
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


# -- until facts/ci.py reads these itself (reported to the lead) -----------------------------------

#: folders where teams keep Azure Pipelines files that ci.py does not look in
_AZURE_DIRS = frozenset(
    {"pipelines", ".pipelines", "azure", ".azure", ".azuredevops", ".ado", "ci", ".ci", "devops"}
)
#: GitLab's own scanning templates (``include: template: Security/SAST.gitlab-ci.yml``)
_GITLAB_SCANS = re.compile(
    r"(SAST|Dependency-Scanning|Secret-Detection|Container-Scanning|DAST)(\.latest)?\.gitlab-ci\.yml"
)


def _azure_elsewhere(facts: Facts) -> tuple[list[Job], list[str]]:
    """Azure Pipelines files outside the places ci.py globs (``pipelines/fast-test.yml``)."""
    from mlsteward.audit.facts.ci import _azure  # private: see the section comment

    known = set(facts.ci.files)
    jobs: list[Job] = []
    files: list[str] = []
    for rel in facts.files.with_suffix(".yml", ".yaml"):
        parts = rel.split("/")
        if rel in known or len(parts) > 3 or not _AZURE_DIRS & set(parts[:-1]):
            continue
        text = facts.files.read_text(rel)
        if text is None or not re.search(r"^(steps|jobs|stages):", text, re.M):
            continue
        if not re.search(r"^(trigger|pr|pool|schedules):", text, re.M):
            continue  # a template: it runs only where a pipeline includes it
        data = load_yaml(facts, rel, text)
        if isinstance(data, dict):
            files.append(rel)
            jobs.extend(_azure(rel, data, text))
    return jobs, files


def _gitlab_scripts(data: dict[Any, Any], name: str, depth: int = 0) -> list[str]:
    """A GitLab job's scripts, those it ``extends`` first."""
    job = data.get(name)
    if not isinstance(job, dict) or depth > 5:
        return []
    out: list[str] = []
    for parent in _listed(job.get("extends")):
        out += _gitlab_scripts(data, parent, depth + 1)
    return [*out, *_listed(job.get("before_script")), *_listed(job.get("script"))]


def _listed(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(x) for x in items if isinstance(x, str) and x]


def _gitlab_extends(facts: Facts) -> dict[tuple[str, str], list[str]]:
    """Scripts GitLab jobs inherit through ``extends:`` from hidden (``.name``) jobs."""
    out: dict[tuple[str, str], list[str]] = {}
    for rel in [f for f in facts.ci.files if "gitlab" in f]:
        text = facts.files.read_text(rel)
        data = load_yaml(facts, rel, text) if text else None
        if not isinstance(data, dict):
            continue
        for name, job in data.items():
            if isinstance(name, str) and not name.startswith(".") and isinstance(job, dict):
                texts = [t for p in _listed(job.get("extends")) for t in _gitlab_scripts(data, p)]
                if texts:
                    out[(rel, name)] = texts
    return out


def _gitlab_templates(facts: Facts) -> list[CIRun]:
    """GitLab's SAST, dependency and secret scanning, switched on by an ``include``."""
    runs = []
    for rel in [f for f in facts.ci.files if "gitlab" in f]:
        text = facts.files.read_text(rel) or ""
        for match in _GITLAB_SCANS.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            runs.append(
                CIRun(
                    "security",
                    "gitlab",
                    rel,
                    match.group(1),
                    Strength.ENFORCED,
                    frozenset({"push", "pull_request"}),
                    match.group(0),
                    line,
                    "GitLab template",
                )
            )
    return runs


# -- gathering -------------------------------------------------------------------------------------


def gather(facts: Facts) -> ToolFacts:
    """Read every tool config, pre-commit hook, task file and dependency list once."""
    files = facts.files
    # the deps area reads setup.cfg and pyproject.toml too: let it report their problems first
    with contextlib.suppress(ImportError):
        facts.deps  # noqa: B018
    reader = _Reader(facts)
    reader.rc_files()
    for rel in files.named("pyproject.toml", "hatch.toml"):
        text = files.read_text(rel)
        if text is not None and not _foreign(rel):
            reader.pyproject(rel, text)
    for rel in files.named("setup.cfg", "tox.ini"):
        text = files.read_text(rel)
        if text is not None and not _foreign(rel):
            reader.ini_file(rel, text)
    for rel in files.named("Makefile", "GNUmakefile", "makefile", "justfile", ".justfile"):
        text = files.read_text(rel)
        if text is not None and not _foreign(rel) and rel.count("/") <= 1:
            reader.makefile(rel, text, "just" if "justfile" in rel.lower() else "make")
    for rel in files.named("noxfile.py"):
        if not _foreign(rel):
            reader.noxfile(rel)
    for rel in files.named("tox.ini"):
        if not _foreign(rel):
            reader.add("tox", rel, 1, "config")
    for rel in files.named("noxfile.py"):
        if not _foreign(rel):
            reader.add("nox", rel, 1, "config")

    hooks: list[Hook] = []
    precommit_path = files.find(".pre-commit-config.yaml") or files.find(".pre-commit-config.yml")
    skipped: list[str] | None = None
    if precommit_path is not None:
        text = files.read_text(precommit_path)
        if text is not None:
            hooks, skipped = _precommit(facts, precommit_path, text)
        for hook in hooks:
            for tool in hook.tools:
                reader.add(tool, precommit_path, hook.line, "pre-commit", f"hook {hook.id}")
            if "mypy" in hook.tools and "--strict" in hook.args:
                reader.strict = reader.strict or precommit_path

    _dependencies(facts, reader)
    tools = ToolFacts(
        reader.uses,
        hooks,
        precommit_path,
        reader.tasks,
        reader.pytest,
        tuple(dict.fromkeys(reader.ruff_select)),
        tuple(dict.fromkeys(reader.ruff_ignore)),
        reader.strict,
        skipped is not None,
        tuple(skipped or ()),
    )
    tools.runs = _resolve_ci(facts, tools)
    tools.other_ci_files = [f for f in OTHER_CI_FILES if files.exists(f)] + [
        f for d in OTHER_CI_DIRS if files.is_dir(d) for f in files.under(d)
    ]
    for run in tools.runs:
        if not run.via:
            for tool in tools_in(run.text):
                tools.uses.append(ToolUse(tool, run.path, run.line, "ci", f"job {run.job}"))
    tools.uses = list(dict.fromkeys(tools.uses))
    return tools


def _dependencies(facts: Facts, reader: _Reader) -> None:
    """Tools the dependency manifests list (from `facts.deps`, when that area exists)."""
    try:
        manifests = facts.deps.manifests
    except ImportError:  # pragma: no cover - an older build without the deps area
        return
    for manifest in manifests:
        if _foreign(manifest.path):
            continue
        for req in manifest.requirements:
            tool = _DEP_TOOLS.get(req.name)
            if tool is not None:
                reader.add(tool, req.path, req.line, "dependency", req.name)
