"""Python code facts: every module and notebook parsed once, never imported or run.

Each file becomes a `Module`: its source lines, its AST, the names its imports bind
(``np`` -> ``numpy``), and an index of nodes by type built in one walk, so that twenty
rules looking for calls do not walk every tree twenty times. Notebook code cells are
joined into one module; IPython magics and shell lines become blank lines so that line
numbers still point into the right cell (`Module.cell_of`).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = [
    "Module",
    "PythonFacts",
    "gather",
    "is_test_path",
    "load_module",
    "parse_module",
    "scan_imports",
    "shutdown_workers",
]

N = TypeVar("N", bound=ast.AST)

#: Python files larger than this are generated, not written: not parsed
MAX_PARSE_BYTES = 1_000_000
#: notebooks carry their outputs (plots, tables), so the file may be larger than its code
MAX_NOTEBOOK_BYTES = 20_000_000


def is_test_path(rel: str) -> bool:
    """pytest's default discovery: test_*.py or *_test.py, or anything under a tests dir."""
    p = PurePosixPath(rel)
    name = p.name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(
        part in ("tests", "test", "testing", "test_data", "testdata") for part in p.parts[:-1]
    )


#: fields that never hold a node the rules look for: names, flags, and the Load/Store
#: context singletons (a quarter of all nodes, indexed for nothing)
_SCALAR_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "name", "asname", "module", "level", "kind",
     "type_comment", "conversion", "is_async", "simple"}
)  # fmt: skip
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass
class Module:
    """One Python module or notebook; its AST is parsed on first use.

    Most rules first ask `imports` (a cheap scan of the text) and look at the tree only
    of modules that use the library they are about, so in a large repository most
    modules are never parsed by the main process.
    """

    path: str
    source: str
    is_notebook: bool = False
    #: for notebooks: the first line (1-based) of each code cell in the joined source
    cell_starts: tuple[int, ...] = ()
    error: str | None = None
    on_error: Callable[[Module, str, int | None], None] | None = field(default=None, repr=False)
    _tree: ast.Module | None = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    _index: dict[type[ast.AST], list[ast.AST]] = field(default_factory=dict, repr=False)

    @property
    def tree(self) -> ast.Module | None:
        """The AST, or None when the module does not parse (a problem is recorded)."""
        if not self._parsed:
            self._parsed = True
            try:
                self._tree = ast.parse(self.source, filename=self.path)
            except SyntaxError as exc:
                self.error = _syntax_message(exc)
                if self.on_error is not None:
                    self.on_error(self, self.error, None if self.is_notebook else exc.lineno)
            except (ValueError, TypeError, RecursionError) as exc:
                self.error = f"cannot parse: {exc}; the file is skipped by code rules"
                if self.on_error is not None:
                    self.on_error(self, self.error, None)
        return self._tree

    @cached_property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    @cached_property
    def is_test(self) -> bool:
        return is_test_path(self.path)

    @property
    def dotted(self) -> str:
        """The module's dotted name relative to the root or a ``src/`` folder."""
        parts = list(PurePosixPath(self.path).with_suffix("").parts)
        if parts and parts[0] == "src":
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    def line(self, lineno: int | None) -> str:
        if lineno is None or not 1 <= lineno <= len(self.lines):
            return ""
        return self.lines[lineno - 1]

    def cell_of(self, lineno: int) -> tuple[int, int]:
        """For a notebook: (1-based cell number among code cells, line within the cell)."""
        cell = 0
        for i, start in enumerate(self.cell_starts):
            if start <= lineno:
                cell = i
        start = self.cell_starts[cell] if self.cell_starts else 1
        return cell + 1, lineno - start + 1

    def where(self, lineno: int | None) -> str:
        """A human location: ``line 12`` or ``cell 3, line 2``."""
        if lineno is None:
            return ""
        if self.is_notebook:
            cell, line = self.cell_of(lineno)
            return f"cell {cell}, line {line}"
        return f"line {lineno}"

    # -- node index ------------------------------------------------------------------------
    def _build_index(self) -> None:
        # ast.walk's order (breadth first, fields in order) without its generators
        index: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
        if self.tree is not None:
            todo: list[ast.AST] = [self.tree]
            i = 0
            while i < len(todo):
                node = todo[i]
                i += 1
                cls = type(node)
                index[cls].append(node)
                fields = _CHILD_FIELDS.get(cls)
                if fields is None:
                    fields = _CHILD_FIELDS[cls] = tuple(
                        f for f in cls._fields if f not in _SCALAR_FIELDS
                    )
                for name in fields:
                    value = getattr(node, name, None)
                    if value.__class__ is list:
                        todo.extend(item for item in value if isinstance(item, ast.AST))
                    elif isinstance(value, ast.AST):
                        todo.append(value)
        self._index = index

    def nodes(self, kind: type[N]) -> list[N]:
        """Every node of exactly this type, in walk order."""
        if not self._index and self.tree is not None:
            self._build_index()
        return self._index.get(kind, [])  # type: ignore[return-value]

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Child -> parent for every node (built on first use)."""
        out: dict[ast.AST, ast.AST] = {}
        if self.tree is not None:
            for node in ast.walk(self.tree):
                for child in ast.iter_child_nodes(node):
                    out[child] = node
        return out

    # -- imports ---------------------------------------------------------------------------
    @cached_property
    def aliases(self) -> dict[str, str]:
        """Local name -> dotted name it was imported as (``np`` -> ``numpy``)."""
        out: dict[str, str] = {}
        for node in self.nodes(ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    out[top] = top
        for frm in self.nodes(ast.ImportFrom):
            if frm.module is None or frm.level:
                continue
            for a in frm.names:
                if a.name != "*":
                    out[a.asname or a.name] = f"{frm.module}.{a.name}"
        return out

    @cached_property
    def imports(self) -> frozenset[str]:
        """Every module named by an import, with each parent package (``a.b.c`` -> a, a.b, a.b.c).

        Read from the text, not the tree, so that asking costs no parse: import
        statements at any indentation, parenthesised and continued ones included.
        """
        names = scan_imports(self.source)
        out: set[str] = set()
        for name in names:
            parts = name.split(".")
            out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        out.discard("")
        return frozenset(out)

    def imports_any(self, *modules: str) -> bool:
        return not self.imports.isdisjoint(modules)

    @cached_property
    def _lower(self) -> str:
        return self.source.lower()

    def mentions(self, *words: str) -> bool:
        """Whether the text contains any of ``words`` (lower case): a test before a parse."""
        low = self._lower
        return any(w in low for w in words)

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to, through import aliases.

        ``np.random.seed`` with ``import numpy as np`` gives ``numpy.random.seed``; a name
        that was not imported gives its plain dotted text (``model.fit``).
        """
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id)
        return ".".join([head, *reversed(parts)])

    def calls(self) -> list[tuple[ast.Call, str]]:
        """Every call with a resolvable dotted name (resolved once, then cached)."""
        return self._calls

    @cached_property
    def _calls(self) -> list[tuple[ast.Call, str]]:
        out = []
        for call in self.nodes(ast.Call):
            name = self.qualname(call.func)
            if name is not None:
                out.append((call, name))
        return out


@dataclass
class PythonFacts:
    """All modules and notebooks of the repository."""

    modules: list[Module]
    facts: Facts | None = field(default=None, repr=False)
    _check: _SyntaxCheck | None = field(default=None, repr=False)
    _checked: bool = field(default=False, repr=False)

    def check_syntax(self) -> None:
        """Make sure every module's syntax has been checked (problems recorded)."""
        if self._checked:
            return
        self._checked = True
        mine = [m for m in self.modules if not m._parsed]
        answer: list[tuple[str, str, int | None]] | None = None
        if self._check is not None:
            shared = set(self._check.paths)
            mine = [m for m in mine if m.path not in shared]
        for m in mine:
            # a syntax check only: the tree is not kept (the rules have already run)
            try:
                compile(m.source, m.path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            except SyntaxError as exc:
                m.error = _syntax_message(exc)
                if self.facts is not None:
                    self.facts.problem(
                        "syntax", m.path, m.error, None if m.is_notebook else exc.lineno
                    )
            except (ValueError, TypeError, RecursionError) as exc:
                m.error = f"cannot parse: {exc}; the file is skipped by code rules"
                if self.facts is not None:
                    self.facts.problem("syntax", m.path, m.error)
        if self._check is not None:
            check, self._check = self._check, None
            answer = check.result()
            if answer is None:  # the worker died: check its half here
                self._checked = False
                for m in self.modules:
                    if m.path in shared:
                        _ = m.tree
                self._checked = True
                return
            parsed = {m.path for m in self.modules if m._parsed}
            for rel, message, line in answer:
                if rel not in parsed and self.facts is not None:
                    self.facts.problem("syntax", rel, message, line)

    def checked_elsewhere(self) -> None:
        """Another process checked every module's syntax and sent its problems here."""
        self._checked = True
        self.close()

    def close(self) -> None:
        """Stop the syntax worker if nobody asked for its answer."""
        if self._check is not None:
            self._check.close()
            self._check = None

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    @cached_property
    def by_path(self) -> dict[str, Module]:
        return {m.path: m for m in self.modules}

    @cached_property
    def source_modules(self) -> list[Module]:
        """Modules and notebooks that are not tests."""
        return [m for m in self.modules if not m.is_test]

    @cached_property
    def test_modules(self) -> list[Module]:
        return [m for m in self.modules if m.is_test and not m.is_notebook]

    @cached_property
    def notebooks(self) -> list[Module]:
        return [m for m in self.modules if m.is_notebook]

    @cached_property
    def imports(self) -> frozenset[str]:
        """Every module imported anywhere (tests included)."""
        out: set[str] = set()
        for m in self.modules:
            out |= m.imports
        return frozenset(out)

    def importers(self, *modules: str, tests: bool | None = None) -> list[Module]:
        """Modules that import any of ``modules``; ``tests`` filters test modules in or out."""
        return [
            m
            for m in self.modules
            if m.imports_any(*modules) and (tests is None or m.is_test == tests)
        ]

    def uses(self, *modules: str) -> bool:
        return any(m in self.imports for m in modules)


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n#;\\]|\\\n)+)"
    r"|import[ \t]+((?:[^\n#;\\]|\\\n)+))",
    re.M,
)


_TRIPLE_QUOTED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' + r"|'''(?:[^'\\]|\\.|'(?!''))*'''", re.S
)


def scan_imports(source: str) -> set[str]:
    """Dotted names imported by ``source``: ``from a import b`` gives a and a.b."""
    if "import" not in source:
        return set()
    if '"""' in source or "'''" in source:
        # an import written in a docstring or a code example is not an import
        source = _TRIPLE_QUOTED.sub("", source)
    names: set[str] = set()
    for frm, what, plain in _IMPORT.findall(source):
        if plain:
            for part in plain.replace("\\\n", " ").split(","):
                name = part.split()[0] if part.split() else ""
                if name and all(p.isidentifier() for p in name.split(".")):
                    names.add(name)
            continue
        if not frm.strip("."):  # `from . import x`: sibling modules, named ".x"
            for part in what.strip("()").split(","):
                words = part.split()
                if words and words[0].isidentifier():
                    names.add(frm + words[0])
            continue
        names.add(frm)
        if frm.startswith("."):
            continue
        for part in what.strip("()").replace("\\\n", " ").split(","):
            words = part.split()
            if words and words[0] != "*" and words[0].isidentifier():
                names.add(f"{frm}.{words[0]}")
    return {n for n in names if n.strip(".")}


def _syntax_message(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "unknown line"
    return f"syntax error at {where}: {exc.msg}; the file is skipped by code rules"


def _notebook_source(text: str) -> tuple[str, tuple[int, ...]]:
    """Join a notebook's code cells; magics and shell escapes become blank lines."""
    data = json.loads(text)
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise ValueError("no 'cells' list: not a Jupyter notebook")
    lines: list[str] = []
    starts: list[int] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        text_ = "".join(src) if isinstance(src, list) else str(src)
        starts.append(len(lines) + 1)
        for line in text_.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!", "?")) or stripped.endswith("?"):
                # keep the indentation: a magic may be the only statement of a block
                line = line[: len(line) - len(stripped)] + "pass"
            lines.append(line)
        lines.append("")  # a cell ends a statement
    return "\n".join(lines) + "\n", tuple(starts)


def load_module(rel: str, text: str) -> tuple[Module, str | None]:
    """A Module for one file's text (not parsed yet); the second value is a problem, if any.

    A notebook that is not valid JSON is a problem found here; a syntax error is found
    when the tree is first needed.
    """
    if not rel.endswith(".ipynb"):
        return Module(rel, text), None
    try:
        source, starts = _notebook_source(text)
    except (ValueError, TypeError, RecursionError) as exc:
        msg = f"cannot read notebook: {exc}; the file is skipped by code rules"
        module = Module(rel, "", True, (), msg, _parsed=True)
        return module, msg
    return Module(rel, source, True, starts), None


def parse_module(rel: str, text: str) -> tuple[Module, str | None]:
    """Load and parse one file now; the second value is a syntax problem, if any."""
    module, error = load_module(rel, text)
    if error is None:
        _ = module.tree
        error = module.error
    return module, error


def _check_syntax(root: str, rels: list[str]) -> list[tuple[str, str, int | None]]:
    """In a worker process: parse each file, return (path, message, line) per failure."""
    import gc

    gc.disable()
    out: list[tuple[str, str, int | None]] = []
    for rel in rels:
        try:
            text = Path(root, rel).read_bytes().decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        module, error = load_module(rel, text)
        if error is None:
            try:
                compile(module.source, rel, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            except SyntaxError as exc:
                out.append((rel, _syntax_message(exc), None if module.is_notebook else exc.lineno))
            except (ValueError, TypeError, RecursionError) as exc:
                out.append((rel, f"cannot parse: {exc}; the file is skipped by code rules", None))
        else:
            out.append((rel, error, None))
    return out


def _worker(root: str, rels: list[str], conn: Any) -> None:
    """The syntax worker's body: no stdin/stdout/stderr of its own, one message back."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never hold the parent's pipes open (`steward ... | jq`)
        os.dup2(devnull, fd)
    try:
        conn.send(_check_syntax(root, rels))
    finally:
        conn.close()


#: syntax workers still running, so the CLI can reap them before it leaves
_LIVE: set[_SyntaxCheck] = set()


def shutdown_workers() -> None:
    """Stop every syntax worker still running (the CLI calls this before exiting)."""
    for check in list(_LIVE):
        check.close()


class _SyntaxCheck:
    """Half the modules' syntax, checked in a forked worker on the other core.

    Only for large repositories: the main process then parses just the modules rules
    ask about, while the worker confirms that the others parse. ASTs never cross the
    process boundary (pickling one costs more than parsing it). If the worker dies, its
    modules are checked in the main process instead.
    """

    def __init__(self, root: Path, rels: list[str]) -> None:
        import multiprocessing

        self.paths = rels
        # fork is cheap on Linux; elsewhere spawn (typeshed's BaseContext lacks .Process)
        context: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._recv, send = context.Pipe(duplex=False)
        self._proc = context.Process(target=_worker, args=(str(root), rels, send), daemon=True)
        self._proc.start()
        send.close()
        _LIVE.add(self)

    def result(self) -> list[tuple[str, str, int | None]] | None:
        """The worker's findings, or None when it died without answering."""
        try:
            answer: list[tuple[str, str, int | None]] = self._recv.recv()
            return answer
        except (EOFError, OSError):
            return None
        finally:
            self.close()

    def close(self) -> None:
        _LIVE.discard(self)
        self._recv.close()
        self._proc.join(timeout=0.5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


#: above this much Python source, syntax is checked in a parallel worker
PARALLEL_SYNTAX_BYTES = 3_000_000


def gather(facts: Facts) -> PythonFacts:
    """Load every .py file and notebook in the index (parsing happens on demand)."""
    files = facts.files

    def record(module: Module, message: str, line: int | None) -> None:
        facts.problem("syntax", module.path, message, line)

    modules: list[Module] = []
    for rel in files.with_suffix(".py", ".ipynb"):
        limit = MAX_NOTEBOOK_BYTES if rel.endswith(".ipynb") else MAX_PARSE_BYTES
        if files.size(rel) > limit:
            facts.problem("too-large", rel, f"not parsed: {files.size(rel):,} bytes")
            continue
        text = files.read_text(rel, limit=limit)
        if text is None:
            continue
        module, error = load_module(rel, text)
        if error is not None:
            facts.problem("syntax", rel, error)
        module.on_error = record
        modules.append(module)
    check = None
    total = sum(len(m.source) for m in modules)
    if total > PARALLEL_SYNTAX_BYTES and (os.cpu_count() or 1) > 1 and not facts.split:
        # the worker takes every other module, the main process the rest at check time
        check = _SyntaxCheck(facts.root, [m.path for m in modules[::2] if not m._parsed])
    return PythonFacts(modules, facts, check)
