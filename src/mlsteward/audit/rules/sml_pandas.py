"""SML001, SML003, SML005, SML007: pandas code that changes frames the wrong way.

Row loops that a column expression could replace, chained indexing, empty columns filled
with data-like values, and results of non-mutating calls thrown away. Every rule here
looks only at files that import pandas, and only at expressions that plausibly are data
frames (see `sml_ast.Frames`), so that dictionaries, Spark frames and strings are left
alone.
"""

from __future__ import annotations

import ast

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Hit, Outcome, rule
from mlsteward.audit.rules.sml_ast import (
    frames,
    hit,
    is_cell_display,
    is_const,
    kwarg,
    loops,
    no_pandas,
    pandas_modules,
    smell_outcome,
    walk_local,
    words,
)

# -- SML001 ------------------------------------------------------------------------------------

_ROW_WRITERS = frozenset({"at", "iat", "loc", "iloc"})
_ARITH = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp)


#: calls a vectorised rewrite can express too (builtins, NumPy, math, pandas)
_VECTOR_FRIENDLY = words("len str int float abs round min max bool sum isinstance")
_VECTOR_LIBS = ("numpy", "math", "pandas")


def _loop_writes_back(m: Module, loop: ast.For) -> bool:
    """The loop body writes into a frame (df.at[i, c] = ...) or accumulates (total += ...),
    and calls nothing a column expression could not (an HTTP request per row, a model)."""
    body = list(walk_local(loop.body))
    rows = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    for node in body:
        if isinstance(node, ast.Call) and not _vector_friendly(m, node, rows):
            return False
    for node in body:
        if isinstance(node, ast.AugAssign):
            return True
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            base = node.value
            if isinstance(base, ast.Attribute) and base.attr in _ROW_WRITERS:
                return True
            if frames(m).is_frame(base):
                return True
    return False


def _vector_friendly(m: Module, call: ast.Call, rows: set[str]) -> bool:
    """A builtin or NumPy/math/pandas function, or a method of the row or a frame."""
    f = call.func
    if isinstance(f, ast.Name):
        return f.id in _VECTOR_FRIENDLY or (m.qualname(f) or "").startswith(_VECTOR_LIBS)
    if not isinstance(f, ast.Attribute):
        return False
    if (m.qualname(f) or "").startswith(_VECTOR_LIBS):
        return True
    owner = f.value
    while isinstance(owner, ast.Attribute | ast.Subscript | ast.Call):
        owner = owner.func if isinstance(owner, ast.Call) else owner.value
    return isinstance(owner, ast.Name) and (owner.id in rows or frames(m).is_frame_name(owner.id))


def _vectorisable_lambda(fn: ast.expr) -> bool:
    """``lambda r: r["a"] * 2 + r["b"]``: columns, constants and operators only."""
    if not isinstance(fn, ast.Lambda) or len(fn.args.args) != 1:
        return False
    arg = fn.args.args[0].arg
    uses_row = False
    for node in ast.walk(fn.body):
        if isinstance(node, ast.Subscript):
            if not (isinstance(node.value, ast.Name) and node.value.id == arg):
                return False
            if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
                return False
            uses_row = True
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id == arg):
                return False
            uses_row = True
        elif isinstance(node, ast.Name):
            if node.id != arg:
                return False
        elif not isinstance(
            node,
            (*_ARITH, ast.Constant, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop),
        ):
            return False
    return uses_row


@rule(
    code="SML001",
    name="unnecessary-iteration",
    title="Data frames are processed with vectorised operations",
    severity="low",
    practices=("smell-1",),
    scope="code",
)
def unnecessary_iteration(facts: Facts) -> Outcome:
    """## What it finds
    Python loops over the rows of a pandas DataFrame that a vectorised expression could
    replace: a `for` loop over `df.iterrows()` or `df.itertuples()` whose body writes values
    back into a frame (`df.at[i, "c"] = ...`, `df.loc[i, "c"] = ...`) or accumulates a total
    (`total += row["x"]`), and `df.apply(lambda row: ..., axis=1)` whose lambda only combines
    columns with arithmetic. Loops that call other code per row are left alone.

    ## Why it matters
    Row-by-row Python is often a hundred times slower than the same operation on whole
    columns, and the loop hides a one-line intent (smell-1, Unnecessary Iteration).

    ## Example
    ```python
    for i, row in df.iterrows():
        df.at[i, "total"] = row["price"] * row["qty"]
    df["margin"] = df.apply(lambda r: r["price"] - r["cost"], axis=1)
    ```

    ## Instead
    ```python
    df["total"] = df["price"] * df["qty"]
    df["margin"] = df["price"] - df["cost"]
    ```
    """
    mods = pandas_modules(facts)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        for loop in m.nodes(ast.For):
            it = loop.iter
            if (
                isinstance(it, ast.Call)
                and isinstance(it.func, ast.Attribute)
                and it.func.attr in ("iterrows", "itertuples")
                and _loop_writes_back(m, loop)
            ):
                hits.append(
                    hit(
                        m,
                        loop,
                        f"loop over .{it.func.attr}() computes row by row: "
                        "use a vectorised column expression instead",
                    )
                )
        for call in m.nodes(ast.Call):
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "apply"
                and is_const(kwarg(call, "axis"), 1, "columns")
                and call.args
                and _vectorisable_lambda(call.args[0])
            ):
                hits.append(
                    hit(
                        m,
                        call,
                        ".apply(lambda row: ..., axis=1) only combines columns: "
                        "write the expression on whole columns instead",
                    )
                )
    return smell_outcome(hits, "no row loops that a column expression could replace", mods)


# -- SML003 ------------------------------------------------------------------------------------

_MASK = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Call)


def _is_label(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


@rule(
    code="SML003",
    name="chain-indexing",
    title="DataFrames are indexed once, with .loc/.iloc",
    severity="medium",
    practices=("smell-3",),
    scope="code",
)
def chain_indexing(facts: Facts) -> Outcome:
    """## What it finds
    Chained indexing on a pandas DataFrame: an assignment through two subscripts in a row
    (`df["a"][0] = 1`, `df[mask]["b"] = 2`, `df.loc[i]["b"] = 3`), and the read
    `df[mask]["col"]` or `df["a"]["b"]`. Only names that are plainly data frames count: bound
    to a pandas call in the same file, annotated `pd.DataFrame`, or called `df`/`df_*`/`*_df`.
    Test files are checked too: a lost assignment makes a test check the wrong data.

    ## Why it matters
    The first subscript may return a copy, so the assignment can change a temporary and be
    lost (pandas warns `SettingWithCopyWarning`; with copy-on-write, the default from
    pandas 3, it never reaches the frame). Chained reads do the work twice (smell-3,
    Chain Indexing).

    ## Example
    ```python
    df = pd.read_csv("sales.csv")
    df[df["qty"] < 0]["qty"] = 0
    ```

    ## Instead
    ```python
    df.loc[df["qty"] < 0, "qty"] = 0
    ```
    """
    mods = pandas_modules(facts, tests=True)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        chained = {id(s.value) for s in m.nodes(ast.Subscript)}
        for sub in m.nodes(ast.Subscript):
            inner = sub.value
            if not isinstance(inner, ast.Subscript) or not fr.is_frame(inner.value):
                continue
            if isinstance(sub.ctx, ast.Store):
                hits.append(
                    hit(
                        m,
                        sub,
                        "assignment through chained indexing may change a copy: "
                        "assign with one .loc[rows, column] (or .iloc) call",
                    )
                )
            elif (
                isinstance(sub.ctx, ast.Load)
                and _is_label(sub.slice)
                and (_is_label(inner.slice) or isinstance(inner.slice, _MASK))
                and not isinstance(inner.value, ast.Attribute)  # df.loc[...]["c"]: explicit
                and id(sub) not in chained  # report a longer chain once, at its end
            ):
                hits.append(
                    hit(
                        m,
                        sub,
                        "chained indexing df[...][...] indexes twice: "
                        "use one .loc[rows, column] call",
                    )
                )
    return smell_outcome(hits, "no chained DataFrame indexing", mods)


# -- SML005 ------------------------------------------------------------------------------------


def _row_filled_columns(m: Module) -> set[str]:
    """Columns written cell by cell in a loop: ``df.at[i, "c"] = ...`` inside for/while."""
    out: set[str] = set()
    for loop in loops(m):
        for node in walk_local(loop.body):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in _ROW_WRITERS
                and isinstance(node.slice, ast.Tuple)
                and len(node.slice.elts) == 2
                and _is_label(node.slice.elts[1])
            ):
                out.add(node.slice.elts[1].value)  # type: ignore[attr-defined]
    return out


@rule(
    code="SML005",
    name="empty-column-misinitialization",
    title="New empty columns are initialised with NaN",
    severity="low",
    practices=("smell-5",),
    scope="code",
)
def empty_column_misinitialization(facts: Facts) -> Outcome:
    """## What it finds
    A new DataFrame column created empty with a value that looks like data: `""` or `None`,
    or `0` when the same file then fills that column row by row (`df.at[i, "col"] = ...` in
    a loop), which shows the zero stood for "not computed yet".

    ## Why it matters
    Rows the later code never fills keep a zero or an empty string that is
    indistinguishable from a real value, so `isna()` cannot find them and statistics are
    silently skewed (smell-5, Empty Column Misinitialization).

    ## Example
    ```python
    df["score"] = 0
    for i, row in df.iterrows():
        if row["valid"]:
            df.at[i, "score"] = compute(row)
    ```

    ## Instead
    ```python
    df["score"] = np.nan          # or pd.NA / pd.Series(dtype="string") for text
    ```
    """
    mods = pandas_modules(facts)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        filled: set[str] | None = None
        for node in m.nodes(ast.Assign):
            if len(node.targets) != 1:
                continue
            t = node.targets[0]
            if not (isinstance(t, ast.Subscript) and _is_label(t.slice) and fr.is_frame(t.value)):
                continue
            v = node.value
            if is_const(v, "") or (isinstance(v, ast.Constant) and v.value is None):
                shown = '""' if is_const(v, "") else "None"
            elif is_const(v, 0, 0.0):
                if filled is None:
                    filled = _row_filled_columns(m)
                if t.slice.value not in filled:  # type: ignore[attr-defined]
                    continue
                shown = "0"
            else:
                continue
            hits.append(
                hit(
                    m,
                    node,
                    f"new column initialised with {shown}: unfilled rows will look "
                    "like real values; initialise with np.nan",
                )
            )
    return smell_outcome(hits, "new columns are not initialised with 0 or empty strings", mods)


# -- SML007 ------------------------------------------------------------------------------------

#: pandas methods that return a new object unless inplace=True
_RETURNS_NEW = words(
    """
    dropna fillna drop drop_duplicates rename reset_index set_index sort_values sort_index
    replace interpolate ffill bfill clip where mask astype abs round query assign
    rename_axis set_axis transpose reindex convert_dtypes infer_objects
    """
)
#: of those, the ones that take inplace=
_HAS_INPLACE = _RETURNS_NEW - {
    "astype",
    "abs",
    "round",
    "assign",
    "transpose",
    "reindex",
    "convert_dtypes",
    "infer_objects",
}


@rule(
    code="SML007",
    name="inplace-misused",
    title="Results of non-mutating pandas calls are used",
    severity="medium",
    practices=("smell-7",),
    scope="code",
)
def inplace_misused(facts: Facts) -> Outcome:
    """## What it finds
    Two mistakes with pandas methods that return a new object (`dropna`, `fillna`, `drop`,
    `replace`, `sort_values`, `rename`, `astype`, ...):

    - the result is thrown away: `df.dropna()` as a statement on its own, without
      `inplace=True` (a notebook cell's last line is displayed, so it is not counted);
    - the result of an `inplace=True` call is assigned: `df = df.dropna(inplace=True)`
      sets `df` to None.

    A call inside a `try` body or a `pytest.raises` block is there to raise and is not
    counted. Test files are checked too.

    ## Why it matters
    The first does nothing at all; the second destroys the frame. Both look right at a
    glance (smell-7, In-Place APIs Misused).

    ## Example
    ```python
    df.drop(columns=["id"])
    df = df.fillna(0, inplace=True)
    ```

    ## Instead
    ```python
    df = df.drop(columns=["id"])
    df = df.fillna(0)
    ```
    """
    mods = pandas_modules(facts, tests=True)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        for node in m.nodes(ast.Assign):
            v = node.value
            if (
                isinstance(v, ast.Call)
                and isinstance(v.func, ast.Attribute)
                and v.func.attr in _HAS_INPLACE
                and is_const(kwarg(v, "inplace"), True)
            ):
                hits.append(
                    hit(
                        m,
                        node,
                        f".{v.func.attr}(inplace=True) returns None, so this "
                        "assignment sets the variable to None: assign without inplace",
                    )
                )
        for stmt in m.nodes(ast.Expr):
            v = stmt.value
            if (
                isinstance(v, ast.Call)
                and isinstance(v.func, ast.Attribute)
                and v.func.attr in _RETURNS_NEW
                and (kwarg(v, "inplace") is None or is_const(kwarg(v, "inplace"), False))
                and not any(k.arg is None for k in v.keywords)
                and fr.is_frame(v.func.value)
                and not is_cell_display(m, stmt)
                and not _expects_error(m, stmt)
            ):
                hits.append(
                    hit(
                        m,
                        stmt,
                        f"result of .{v.func.attr}() is discarded, so the call "
                        "has no effect: assign it (df = df.method(...))",
                    )
                )
    return smell_outcome(hits, "results of non-mutating pandas calls are used", mods)


def _expects_error(m: Module, stmt: ast.stmt) -> bool:
    """The statement is there to raise: in a ``try`` body or a ``pytest.raises`` block."""
    parent = m.parents.get(stmt)
    if isinstance(parent, ast.Try) and stmt in parent.body:
        return True
    return isinstance(parent, ast.With) and any(
        "raises" in ast.unparse(item.context_expr) for item in parent.items
    )
