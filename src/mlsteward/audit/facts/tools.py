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

ruff with the ``S`` (bandit) rules selected, and flake8 with flake8-bandit, count as
security linters.

What CI really runs, through tasks and hooks, is `mlsteward.audit.facts.tasks`'s answer;
`ToolFacts.ci`, ``ci_runs``, ``ci_evidence``, ``ci_strength`` and ``tasks`` hand it on.
"""

from __future__ import annotations

import configparser
import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mlsteward.audit.facts.ci import executed
from mlsteward.audit.facts.yamlfile import load_json, load_toml, load_yaml
from mlsteward.audit.rule import Evidence, Strength

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.facts.tasks import CIRun, Task, TaskFacts

__all__ = [
    "FORMATTERS",
    "LINTERS",
    "SECURITY",
    "TOOL_KIND",
    "TYPECHECKERS",
    "Hook",
    "PytestConfig",
    "ToolFacts",
    "ToolUse",
    "gather",
    "ini_line",
    "is_foreign",
    "line_of",
    "tools_in",
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
    {"fixtures", "testdata", "test_data", "third_party", "vendor", "site-packages", "node_modules"}
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

_PINNED_REV = re.compile(r"^v?\d+(\.\d+)*([.-]?\w+)*$|^[0-9a-f]{7,40}$")
_MOVING_REVS = frozenset({"main", "master", "head", "stable", "develop", "dev", "latest", "trunk"})


@lru_cache(maxsize=4096)
def tools_in(text: str) -> list[str]:
    """The tools a command line runs, by name."""
    found: dict[str, None] = {}
    for match in _TOOL_RX.finditer(text.lower()):
        found.setdefault(_TOOL_GROUPS[match.lastgroup or ""], None)
    return list(found)


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


@dataclass(frozen=True)
class PytestConfig:
    """Where pytest is configured and what it collects."""

    path: str
    line: int | None
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ()
    addopts: str = ""


@dataclass
class ToolFacts:
    """Which developer tools the repository configures, and what its CI actually runs."""

    uses: list[ToolUse]
    hooks: list[Hook]
    precommit_path: str | None
    task_facts: TaskFacts
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

    def config_kinds(self, text: str) -> set[str]:
        """Kinds the configuration adds to a command: ruff with bandit (``S``) rules
        selected, or flake8 with flake8-bandit, is a security scan too."""
        code = executed(text)
        tools = tools_in(code)
        ruff = "ruff" in tools or "ruff-action" in code.lower()
        if (ruff and self.ruff_security) or ("flake8" in tools and self.flake8_bandit):
            return {"security"}
        return set()

    def hook_kinds(self, hook: Hook) -> Iterator[tuple[str, str]]:
        """(kind, how) for each check a pre-commit hook runs."""
        for tool in sorted(hook.tools):
            kind = TOOL_KIND.get(tool)
            if kind:
                yield kind, f"pre-commit hook {hook.id}"
            if tool == "ruff" and self.ruff_security:
                yield "security", f"pre-commit hook {hook.id} (ruff S rules)"

    # -- tasks and what CI runs (facts/tasks.py) ---------------------------------------------

    @property
    def tasks(self) -> list[Task]:
        return self.task_facts.tasks

    @property
    def runs(self) -> list[CIRun]:
        return self.task_facts.runs

    def ci_runs(self, kind: str) -> list[CIRun]:
        return self.task_facts.ci_runs(kind)

    def ci(self, kind: str) -> CIRun | None:
        """The CI run of ``kind`` with the strongest trigger (direct runs win ties)."""
        return self.task_facts.ci(kind)

    def ci_evidence(self, kind: str) -> Evidence | None:
        return self.task_facts.ci_evidence(kind)

    def ci_strength(self, kind: str) -> Strength | None:
        return self.task_facts.ci_strength(kind)


# -- small readers --------------------------------------------------------------------------------


def is_foreign(rel: str) -> bool:
    """Config that belongs to test data or vendored code: under a fixtures or vendor folder,
    or deeper than a tests folder itself (``tests/pytest.ini`` is the suite's own)."""
    dirs = rel.split("/")[:-1]
    if any(part in _FOREIGN for part in dirs):
        return True
    return any(part in _TEST_DIRS for part in dirs[:-1])


def line_of(text: str, pattern: str, start: int = 0) -> int | None:
    """The first line (from index ``start``) where the regex ``pattern`` matches."""
    rx = re.compile(pattern, re.M)
    lines = text.splitlines()
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i + 1
    return None


def _toml_table_line(text: str, dotted: str) -> int | None:
    return line_of(text, rf"^\s*\[\[?\s*{re.escape(dotted)}(\s*\]|\.)")


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


def ini_line(text: str, section: str) -> int | None:
    """The line of an INI file's ``[section]`` header."""
    return line_of(text, rf"^\s*\[{re.escape(section)}\]")


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


# -- config files ----------------------------------------------------------------------------------


class _Reader:
    """Gathers tool uses from config files; one instance per audit."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.files = facts.files
        self.uses: list[ToolUse] = []
        #: parsed files that define tasks: (path, pyproject ``[tool]`` table or tox INI, text)
        self.documents: list[tuple[str, Any, str]] = []
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
                if is_foreign(rel):
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
        tox = tool.get("tox")
        if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
            legacy = _ini(self.facts, rel, tox["legacy_tox_ini"])
            if legacy is not None:
                self.documents.append((rel, legacy, text))
        self.documents.append((rel, tool, text))

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
            line = ini_line(text, section)
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
            self.documents.append((rel, parser, text))


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
        repo_line = line_of(text, rf"repo:\s*['\"]?{re.escape(url)}", pos)
        pos = repo_line or pos
        rev = repo.get("rev")
        rev_line = line_of(text, r"^\s*-?\s*rev\s*:", pos) if rev is not None else repo_line
        for hook in repo.get("hooks") or []:
            if not isinstance(hook, dict) or not hook.get("id"):
                continue
            hid = str(hook["id"])
            line = line_of(text, rf"id:\s*['\"]?{re.escape(hid)}\b", pos)
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


# -- gathering -------------------------------------------------------------------------------------


def gather(facts: Facts) -> ToolFacts:
    """Read every tool config, pre-commit hook, task file and dependency list once."""
    from mlsteward.audit.facts import tasks  # tasks.py builds on this module
    from mlsteward.audit.facts.tasks import TaskFacts

    files = facts.files
    # the deps area reads setup.cfg and pyproject.toml too: let it report their problems first
    with contextlib.suppress(ImportError):
        facts.deps  # noqa: B018
    reader = _Reader(facts)
    reader.rc_files()
    for rel in files.named("pyproject.toml", "hatch.toml"):
        text = files.read_text(rel)
        if text is not None and not is_foreign(rel):
            reader.pyproject(rel, text)
    for rel in files.named("setup.cfg", "tox.ini"):
        text = files.read_text(rel)
        if text is not None and not is_foreign(rel):
            reader.ini_file(rel, text)
    task_facts = TaskFacts(tasks.read(facts, reader.documents))
    for task in task_facts.tasks:
        for cmd in task.commands:
            for tool in tools_in(executed(cmd.text)):
                detail = f"{task.runner} {task.name}"
                reader.add(tool, task.path, cmd.line or task.line, "task", detail)
    for rel in files.named("tox.ini"):
        if not is_foreign(rel):
            reader.add("tox", rel, 1, "config")
    for rel in files.named("noxfile.py"):
        if not is_foreign(rel):
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
        task_facts,
        reader.pytest,
        tuple(dict.fromkeys(reader.ruff_select)),
        tuple(dict.fromkeys(reader.ruff_ignore)),
        reader.strict,
        skipped is not None,
        tuple(skipped or ()),
    )
    task_facts.runs = tasks.resolve(facts, task_facts.tasks, tools)
    for run in task_facts.runs:
        if not run.via:
            for tool in tools_in(executed(run.text)):
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
        if is_foreign(manifest.path):
            continue
        for req in manifest.requirements:
            tool = _DEP_TOOLS.get(req.name)
            if tool is not None:
                reader.add(tool, req.path, req.line, "dependency", req.name)
