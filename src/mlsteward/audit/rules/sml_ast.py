"""Shared AST helpers of the SML rules (ML code smells); this module declares no rule.

The smells are judged from the syntax tree alone, never by importing or running code, so
types are guessed: a name is "pandas-looking" when the module binds it to a pandas call,
annotates it as a DataFrame, or calls it ``df``. Each guess is deliberately narrow: a
smell finding must make a reviewer nod, so a rule rather misses a case than reports one
on an object that is not what the rule thinks it is.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength

__all__ = [
    "PANDAS",
    "SCOPES",
    "Frames",
    "assigned_calls",
    "bind_targets",
    "cached",
    "calls",
    "checked",
    "frames",
    "functions",
    "has_kwarg",
    "hit",
    "is_cell_display",
    "is_const",
    "kwarg",
    "last",
    "line_of",
    "loops",
    "no_pandas",
    "pandas_modules",
    "parsed",
    "qual",
    "root_name",
    "scope_body",
    "scope_of",
    "smell_outcome",
    "walk_local",
    "words",
]

T = TypeVar("T")

#: nodes that open a new variable scope
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


#: pandas and its drop-in replacements
PANDAS = ("pandas", "modin.pandas")


def pandas_modules(facts: Facts, *, tests: bool = False, notebooks: bool = True) -> list[Module]:
    """Parsed files that import pandas."""
    return parsed(facts, *PANDAS, tests=tests, notebooks=notebooks)


def no_pandas() -> Outcome:
    return Outcome.not_applicable("no module or notebook imports pandas")


def words(text: str) -> frozenset[str]:
    """A set of names written as whitespace-separated words (long vocabularies stay short)."""
    return frozenset(text.split())


def parsed(
    facts: Facts,
    *libs: str,
    tests: bool = False,
    notebooks: bool = True,
    words: tuple[str, ...] = (),
) -> list[Module]:
    """Modules and notebooks that parsed; test modules only when ``tests`` is true.

    With ``libs`` or ``words``, only modules that import one of the libraries or whose
    text contains one of the (lower-case) words: asked before the parse, so modules a
    smell cannot be in are never parsed.
    """
    return [
        m
        for m in facts.python.modules
        if (tests or not m.is_test)
        and (notebooks or not m.is_notebook)
        and ((not libs and not words) or m.imports_any(*libs) or (words and m.mentions(*words)))
        and m.tree is not None
    ]


def hit(m: Module, node: ast.AST, message: str) -> Hit:
    """A finding at ``node``; in a notebook the message names the cell first."""
    line = getattr(node, "lineno", None)
    if m.is_notebook and line is not None:
        message = f"{m.where(line)}: {message}"
    return Hit(message, m.path, line, getattr(node, "col_offset", None))


def checked(what: str, modules: Iterable[Module], path: str | None = None) -> Evidence:
    """The evidence of a passing smell rule: what was looked at, and where."""
    mods = list(modules)
    where = path or (mods[0].path if len(mods) == 1 else None)
    return Evidence(f"{what} ({len(mods)} file(s) checked)", Strength.PRESENT, where)


def smell_outcome(hits: list[Hit], what: str, modules: Iterable[Module]) -> Outcome:
    """Failed with the hits (one per line: a chain such as ``a.dot(b).dot(c)`` is one
    place to fix), or passed with evidence of what was checked."""
    mods = list(modules)
    unique = list({(h.path, h.line): h for h in reversed(hits)}.values())[::-1]
    # the evidence says what holds, so only a passing verdict carries it
    evidence = [] if unique else [checked(what, mods)]
    return Outcome.from_hits(unique, evidence=evidence, note=f"{len(mods)} file(s) checked")


# -- calls and names ---------------------------------------------------------------------------


def line_of(node: ast.AST) -> int:
    """The node's first line (statements and expressions have one)."""
    return int(getattr(node, "lineno", 0))


def last(name: str | None) -> str:
    """The last component of a dotted name (``sklearn.svm.SVC`` -> ``SVC``)."""
    return (name or "").rsplit(".", 1)[-1]


def qual(m: Module, call: ast.Call) -> str:
    """The dotted name a call refers to, through import aliases; "" when it has none."""
    return m.qualname(call.func) or ""


def calls(m: Module) -> list[tuple[ast.Call, str]]:
    """``m.calls()`` computed once per module (every SML rule walks the calls)."""
    return cached(m, "calls", lambda mod: list(mod.calls()))


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def has_kwarg(call: ast.Call, *names: str) -> bool:
    """True when one of ``names`` is passed by keyword, or ``**kwargs`` may pass it."""
    return any(k.arg is None or k.arg in names for k in call.keywords)


def is_const(node: ast.AST | None, *values: object) -> bool:
    """A literal equal to one of ``values`` (``True`` is not ``1`` here)."""
    if not isinstance(node, ast.Constant):
        return False
    return any(type(node.value) is type(v) and node.value == v for v in values)


def root_name(node: ast.AST) -> str | None:
    """The name an expression starts from: ``df`` for ``df.loc[m, "a"].values``."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def bind_targets(target: ast.AST) -> Iterator[str]:
    """The plain names an assignment target binds (tuples unpacked)."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from bind_targets(elt)
    elif isinstance(target, ast.Starred):
        yield from bind_targets(target.value)


def assigned_calls(m: Module) -> dict[str, list[str]]:
    """Name -> dotted names of the calls assigned to it anywhere (``s = StandardScaler()``)."""
    return cached(m, "assigned", _assigned_calls)


def _assigned_calls(m: Module) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node in m.nodes(ast.Assign):
        if isinstance(node.value, ast.Call):
            name = qual(m, node.value)
            if name:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, []).append(name)
    return out


def scope_of(m: Module, node: ast.AST) -> ast.AST:
    """The function (or lambda, class) around ``node``, or the module itself."""
    parents = m.parents
    cur = parents.get(node)
    while cur is not None and not isinstance(cur, SCOPES):
        cur = parents.get(cur)
    return cur if cur is not None else m.tree  # type: ignore[return-value]


Function = ast.FunctionDef | ast.AsyncFunctionDef
Loop = ast.For | ast.AsyncFor | ast.While


def functions(m: Module) -> list[Function]:
    """Every function and method definition of the module."""
    out: list[Function] = [*m.nodes(ast.FunctionDef)]
    out.extend(m.nodes(ast.AsyncFunctionDef))
    return out


def loops(m: Module) -> list[Loop]:
    """Every for, async for and while loop of the module."""
    out: list[Loop] = [*m.nodes(ast.For)]
    out.extend(m.nodes(ast.AsyncFor))
    out.extend(m.nodes(ast.While))
    return out


def scope_body(scope: ast.AST) -> list[ast.AST]:
    """The statements (or expression) directly inside a function, lambda, class or module."""
    body = getattr(scope, "body", [])
    return list(body) if isinstance(body, list) else [body]


def walk_local(nodes: Iterable[ast.AST], *, into_defs: bool = False) -> Iterator[ast.AST]:
    """Walk these nodes and their descendants, not entering nested functions or classes."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if not into_defs and isinstance(node, SCOPES):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def is_cell_display(m: Module, stmt: ast.stmt) -> bool:
    """A notebook's last top-level statement in its cell: Jupyter displays its value."""
    if not m.is_notebook or m.tree is None or m.parents.get(stmt) is not m.tree:
        return False
    body = m.tree.body
    i = body.index(stmt)
    if i + 1 == len(body):
        return True
    return m.cell_of(body[i + 1].lineno)[0] != m.cell_of(stmt.lineno)[0]


# -- per-module caches -----------------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[ast.AST, dict[str, object]] = weakref.WeakKeyDictionary()


def cached(m: Module, key: str, build: Callable[[Module], T]) -> T:
    """Compute ``build(m)`` once per parsed tree (several rules share the same guesses)."""
    assert m.tree is not None
    slot = _CACHE.setdefault(m.tree, {})
    if key not in slot:
        slot[key] = build(m)
    return slot[key]  # type: ignore[return-value]


# -- pandas-looking expressions ----------------------------------------------------------------

#: names by which people call data frames: df, df2, df_train, train_df, dataframe
DF_NAME = re.compile(r"^(df\d*|df_\w+|\w+_df\d*|\w*data_?frame\w*)$", re.IGNORECASE)

#: endings of df-like names that hold something else: df_path, df_list, train_df_cols
_NOT_DF_SUFFIX = (
    "_dict",
    "_list",
    "_map",
    "_dir",
    "_path",
    "_paths",
    "_file",
    "_files",
    "_name",
    "_names",
    "_col",
    "_cols",
    "_column",
    "_columns",
    "_len",
    "_size",
    "_shape",
    "_idx",
    "_index",
    "_keys",
    "_url",
    "_fn",
    "_func",
    "_kwargs",
    "_args",
    "_config",
    "_cfg",
)

#: pandas functions whose result is not a DataFrame or Series
_PD_NOT_FRAME = words(
    """
    isna isnull notna notnull set_option get_option option_context Timestamp Timedelta
    to_timedelta ExcelWriter HDFStore testing read_pickle api eval unique factorize cut
    qcut
    """
)

#: attributes and methods of a frame whose result is not a frame
_NOT_FRAME_ATTRS = words(
    """
    values to_numpy to_list tolist to_dict to_json to_csv to_records item shape size ndim
    empty dtype dtypes name nunique plot to_parquet to_pickle to_excel to_sql to_string
    to_markdown array iterrows itertuples items keys hist info memory_usage count
    """
)

#: pandas types an annotation may name
_FRAME_TYPES = frozenset({"pandas.DataFrame", "pandas.Series", "pandas.core.frame.DataFrame"})


class Frames:
    """Which expressions of one module are plausibly pandas DataFrames or Series."""

    def __init__(self, m: Module) -> None:
        self.m = m
        self.pandas = m.imports_any("pandas", "modin.pandas")
        self.names: set[str] = set()
        self.other: set[str] = set()
        if self.pandas:
            self._collect()

    def _collect(self) -> None:
        m = self.m
        for fn in functions(m):
            for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs):
                if a.annotation is None:
                    continue
                if self._names_frame_type(a.annotation):
                    self.names.add(a.arg)
                else:  # ``df_path: str``
                    self.other.add(a.arg)
        assigns = [
            (t, n.value) for n in m.nodes(ast.Assign) for t in n.targets if isinstance(t, ast.Name)
        ]
        for node in m.nodes(ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                if self._names_frame_type(node.annotation):
                    self.names.add(node.target.id)
                elif node.value is not None:
                    assigns.append((node.target, node.value))
        # a name bound to a frame may be bound to something else elsewhere: two passes
        # let ``a = pd.read_csv(); b = a.dropna()`` reach b whatever order the walk saw
        for _ in range(2):
            for target, value in assigns:
                if isinstance(target, ast.Name) and self.is_frame(value):
                    self.names.add(target.id)
        for target, value in assigns:
            if (
                isinstance(target, ast.Name)
                and isinstance(value, ast.Call | ast.Constant | ast.List | ast.Dict)
                and not self.is_frame(value)
                and target.id not in self.names
            ):
                self.other.add(target.id)

    def _names_frame_type(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.split(".")[-1] in ("DataFrame", "Series")
        if isinstance(node, ast.BinOp):  # DataFrame | None
            return self._names_frame_type(node.left) or self._names_frame_type(node.right)
        if isinstance(node, ast.Subscript):  # Optional[DataFrame]
            return self._names_frame_type(node.slice)
        return self.m.qualname(node) in _FRAME_TYPES

    def is_frame_name(self, name: str) -> bool:
        if name in self.names:
            return True
        return (
            bool(DF_NAME.match(name))
            and name not in self.other
            and not name.lower().endswith(_NOT_DF_SUFFIX)
        )

    def is_frame(self, node: ast.AST, depth: int = 0) -> bool:
        """Plausibly a DataFrame or Series (only in modules that import pandas)."""
        if not self.pandas or depth > 12:
            return False
        if isinstance(node, ast.Name):
            return self.is_frame_name(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr in _NOT_FRAME_ATTRS:
                return False
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return bool(DF_NAME.match(node.attr))
            return self.is_frame(node.value, depth + 1)
        if isinstance(node, ast.Subscript):
            return self.is_frame(node.value, depth + 1)
        if isinstance(node, ast.Call):
            name = self.m.qualname(node.func) or ""
            if name.startswith(("pandas.", "modin.pandas.")):
                return last(name) not in _PD_NOT_FRAME
            if isinstance(node.func, ast.Attribute) and node.func.attr not in _NOT_FRAME_ATTRS:
                return self.is_frame(node.func.value, depth + 1)
            return False
        if isinstance(node, ast.BinOp):
            return self.is_frame(node.left, depth + 1) or self.is_frame(node.right, depth + 1)
        return False


def frames(m: Module) -> Frames:
    """The module's pandas guesses, computed once."""
    return cached(m, "frames", Frames)
