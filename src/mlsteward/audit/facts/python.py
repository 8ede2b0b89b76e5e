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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["Module", "PythonFacts", "gather", "is_test_path"]

N = TypeVar("N", bound=ast.AST)

#: Python files larger than this are generated, not written: not parsed
MAX_PARSE_BYTES = 1_000_000


def is_test_path(rel: str) -> bool:
    """pytest's default discovery: test_*.py or *_test.py, or anything under a tests dir."""
    p = PurePosixPath(rel)
    name = p.name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in ("tests", "test", "testing") for part in p.parts[:-1])


@dataclass
class Module:
    """One parsed Python module or notebook."""

    path: str
    source: str
    tree: ast.Module | None
    is_notebook: bool = False
    #: for notebooks: the first line (1-based) of each code cell in the joined source
    cell_starts: tuple[int, ...] = ()
    error: str | None = None
    _index: dict[type[ast.AST], list[ast.AST]] = field(default_factory=dict, repr=False)

    @cached_property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    @property
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
        index: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
        if self.tree is not None:
            for node in ast.walk(self.tree):
                index[type(node)].append(node)
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
        """Every module named by an import, with each parent package (``a.b.c`` -> a, a.b, a.b.c)."""
        names: set[str] = set()
        for node in self.nodes(ast.Import):
            names.update(a.name for a in node.names)
        for frm in self.nodes(ast.ImportFrom):
            if frm.module and not frm.level:
                names.add(frm.module)
                names.update(f"{frm.module}.{a.name}" for a in frm.names if a.name != "*")
            elif frm.level and frm.module:
                names.add("." * frm.level + frm.module)
        out: set[str] = set()
        for name in names:
            parts = name.split(".")
            out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        return frozenset(out)

    def imports_any(self, *modules: str) -> bool:
        return any(m in self.imports for m in modules)

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

    def calls(self) -> Iterator[tuple[ast.Call, str]]:
        """Every call with a resolvable dotted name."""
        for call in self.nodes(ast.Call):
            name = self.qualname(call.func)
            if name is not None:
                yield call, name


@dataclass
class PythonFacts:
    """All parsed modules and notebooks of the repository."""

    modules: list[Module]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    @cached_property
    def by_path(self) -> dict[str, Module]:
        return {m.path: m for m in self.modules}

    @property
    def source_modules(self) -> list[Module]:
        """Modules and notebooks that are not tests."""
        return [m for m in self.modules if not m.is_test]

    @property
    def test_modules(self) -> list[Module]:
        return [m for m in self.modules if m.is_test and not m.is_notebook]

    @property
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
            lines.append("" if stripped.startswith(("%", "!", "?")) or stripped.endswith("?") else line)
        lines.append("")  # a cell ends a statement
    return "\n".join(lines) + "\n", tuple(starts)


def parse_module(rel: str, text: str) -> tuple[Module, str | None]:
    """Parse one file's text into a Module; the second value is a syntax problem, if any."""
    notebook = rel.endswith(".ipynb")
    starts: tuple[int, ...] = ()
    try:
        if notebook:
            text, starts = _notebook_source(text)
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "unknown line"
        msg = f"syntax error at {where}: {exc.msg}; the file is skipped by code rules"
        return Module(rel, text if not notebook else "", None, notebook, starts, msg), msg
    except (ValueError, TypeError, RecursionError) as exc:
        msg = f"cannot parse: {exc}; the file is skipped by code rules"
        return Module(rel, "", None, notebook, starts, msg), msg
    return Module(rel, text, tree, notebook, starts), None


def gather(facts: Facts) -> PythonFacts:
    """Parse every .py, .pyi-free source file and every notebook in the index."""
    files = facts.files
    modules: list[Module] = []
    for rel in files.with_suffix(".py", ".ipynb"):
        if files.size(rel) > MAX_PARSE_BYTES:
            facts.problem("too-large", rel, f"not parsed: {files.size(rel):,} bytes")
            continue
        text = files.read_text(rel)
        if text is None:
            continue
        module, error = parse_module(rel, text)
        if error is not None:
            line = None
            if "line " in error:
                try:
                    line = int(error.split("line ")[1].split(":")[0])
                except ValueError:
                    line = None
            facts.problem("syntax", rel, error, None if rel.endswith(".ipynb") else line)
        modules.append(module)
    return PythonFacts(modules)
