"""SML002, SML004, SML006, SML008: pandas and NumPy API calls used in a fragile way.

NaN compared with ``==``, tables read without declared types, merges without keys or join
type, and ``.values`` instead of ``.to_numpy()``.
"""

from __future__ import annotations

import ast

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Hit, Outcome, rule
from mlsteward.audit.rules.sml_ast import (
    calls,
    frames,
    has_kwarg,
    hit,
    last,
    no_pandas,
    pandas_modules,
    parsed,
    smell_outcome,
    words,
)

# -- SML002 ------------------------------------------------------------------------------------

_NAN_NAMES = words(
    """
    numpy.nan numpy.NaN numpy.NAN math.nan pandas.NA pandas.NaT numpy.NaT torch.nan
    """
)
_NAN_LIBS = ("numpy", "pandas", "math", "torch", "tensorflow", "modin.pandas")


def _is_nan(m: Module, node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute | ast.Name):
        return m.qualname(node) in _NAN_NAMES
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        name = m.qualname(node.func) or ""
        arg = node.args[0]
        return (
            name in ("float", "numpy.float64", "numpy.float32", "numpy.double")
            and isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and arg.value.strip().lower() in ("nan", "+nan", "-nan")
        )
    return False


@rule(
    code="SML002",
    name="nan-equality",
    title="Missing values are tested with isna/isnan, not ==",
    severity="high",
    practices=("smell-2",),
    scope="code",
)
def nan_equality(facts: Facts) -> Outcome:
    """## What it finds
    Comparisons with `==` or `!=` against a not-a-number or missing-value marker:
    `np.nan`, `math.nan`, `float("nan")`, `pd.NA`, `pd.NaT`, in any module, notebook or test.

    ## Why it matters
    NaN is not equal to anything, itself included: `x == np.nan` is always False and
    `x != np.nan` always True, so the filter or the check silently does nothing
    (smell-2, NaN Equivalence Comparison Misused).

    ## Example
    ```python
    missing = df[df["age"] == np.nan]
    ```

    ## Instead
    ```python
    missing = df[df["age"].isna()]      # pandas
    mask = np.isnan(values)              # NumPy; math.isnan(x) for a float
    ```
    """
    users = [m for m in facts.python.modules if m.imports_any(*_NAN_LIBS)]
    # a comparison with NaN (or pd.NA) names it: only modules that say so are parsed
    mods = parsed(facts, tests=True, words=("nan", ".na"))
    hits: list[Hit] = []
    for m in mods:
        for cmp in m.nodes(ast.Compare):
            operands = [cmp.left, *cmp.comparators]
            for i, op in enumerate(cmp.ops):
                if not isinstance(op, ast.Eq | ast.NotEq):
                    continue
                if _is_nan(m, operands[i]) or _is_nan(m, operands[i + 1]):
                    fix = "isna()/np.isnan()" if isinstance(op, ast.Eq) else "notna()/~np.isnan()"
                    hits.append(
                        hit(
                            m,
                            cmp,
                            f"comparison with NaN is always "
                            f"{'False' if isinstance(op, ast.Eq) else 'True'}: use {fix}",
                        )
                    )
                    break
    if not hits and not users:
        return Outcome.not_applicable("no module uses NumPy, pandas, math or a tensor library")
    return smell_outcome(hits, "no == / != comparison with NaN", users)


# -- SML004 ------------------------------------------------------------------------------------

_READERS = frozenset({"read_csv", "read_table", "read_fwf", "read_excel"})


@rule(
    code="SML004",
    name="columns-and-dtypes-not-set",
    title="Tabular reads state their columns and types",
    severity="low",
    practices=("smell-4",),
    scope="code",
    profiles=("production",),
)
def columns_and_dtypes_not_set(facts: Facts) -> Outcome:
    """## What it finds
    `pd.read_csv`, `read_table`, `read_fwf` and `read_excel` calls in non-test Python modules
    that pass none of `dtype`, `usecols`, `names` or `converters`. Notebooks are left out:
    exploring an unknown file is what they are for. Production profile only.

    ## Why it matters
    Without declared columns and types pandas guesses them from the data: an ID column
    with leading zeros becomes an integer, a column that is empty in one file becomes
    float, and a renamed column fails far downstream (smell-4, Columns and DataType Not
    Explicitly Set).

    ## Example
    ```python
    orders = pd.read_csv(path)
    ```

    ## Instead
    ```python
    orders = pd.read_csv(path, usecols=["id", "qty", "price"],
                         dtype={"id": "string", "qty": "int32", "price": "float64"})
    ```
    """
    mods = pandas_modules(facts, notebooks=False)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        for call, name in calls(m):
            if (
                name.startswith(("pandas.", "modin.pandas."))
                and last(name) in _READERS
                and not has_kwarg(call, "dtype", "usecols", "names", "converters")
            ):
                hits.append(
                    hit(
                        m,
                        call,
                        f"{last(name)}() without dtype= or usecols=: "
                        "declare the columns and their types",
                    )
                )
    return smell_outcome(hits, "pandas reads declare columns or dtypes", mods)


# -- SML006 ------------------------------------------------------------------------------------

_ON = ("on", "left_on", "right_on", "left_index", "right_index")


@rule(
    code="SML006",
    name="merge-parameters-not-set",
    title="Merges state how, on and validate",
    severity="low",
    practices=("smell-6",),
    scope="code",
)
def merge_parameters_not_set(facts: Facts) -> Outcome:
    """## What it finds
    `pd.merge(a, b)` and `df.merge(b)` calls on data frames that leave out the join keys
    (`on`, `left_on`/`right_on` or `left_index`/`right_index`) or the join type (`how`).
    The message also asks for `validate` when it is missing, but a merge that states its
    keys and join type is not reported for `validate` alone: the first two change the
    result silently, `validate` is a safety net most code (rightly or not) goes without.

    ## Why it matters
    Without `on`, pandas joins on every column the two frames happen to share, which
    changes when a column is added. Without `how`, an inner join silently drops rows.
    Without `validate`, duplicate keys multiply rows unnoticed (smell-6, Merge API
    Parameter Not Explicitly Set).

    ## Example
    ```python
    full = orders.merge(customers)
    ```

    ## Instead
    ```python
    full = orders.merge(customers, how="left", on="customer_id", validate="many_to_one")
    ```
    """
    mods = pandas_modules(facts)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        for call, name in calls(m):
            f = call.func
            if name not in ("pandas.merge", "modin.pandas.merge") and not (
                isinstance(f, ast.Attribute) and f.attr == "merge" and fr.is_frame(f.value)
            ):
                continue
            if any(k.arg is None for k in call.keywords):
                continue  # **kwargs may pass them
            missing = [
                p
                for p in ("how", "on", "validate")
                if not has_kwarg(call, *(_ON if p == "on" else (p,)))
            ]
            if "how" in missing or "on" in missing:
                hits.append(
                    hit(
                        m,
                        call,
                        f"merge without {', '.join(p + '=' for p in missing)}: "
                        "state the join type, keys and expected cardinality",
                    )
                )
    return smell_outcome(hits, "merges state how and on", mods)


# -- SML008 ------------------------------------------------------------------------------------


@rule(
    code="SML008",
    name="dataframe-conversion",
    title="DataFrames are converted with .to_numpy()",
    severity="low",
    practices=("smell-8",),
    scope="code",
)
def dataframe_conversion(facts: Facts) -> Outcome:
    """## What it finds
    `.values` read from a pandas DataFrame, Series or Index (`X = df[cols].values`) in
    files that import pandas. Dictionary `.values()` calls are not counted.

    ## Why it matters
    `.values` returns a NumPy array for some dtypes and an extension array for others
    (categoricals, nullable integers, time zones), so the code downstream sees a different
    type depending on the data; pandas recommends `.to_numpy()` (smell-8, Dataframe
    Conversion API Misused).

    ## Example
    ```python
    X = df.drop(columns=["label"]).values
    ```

    ## Instead
    ```python
    X = df.drop(columns=["label"]).to_numpy()
    ```
    """
    mods = pandas_modules(facts)
    if not mods:
        return no_pandas()
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        called = {id(c.func) for c in m.nodes(ast.Call)}
        for attr in m.nodes(ast.Attribute):
            if attr.attr != "values" or not isinstance(attr.ctx, ast.Load):
                continue
            if id(attr) in called:
                continue  # dict.values()
            if fr.is_frame(attr.value):
                hits.append(hit(m, attr, ".values on a pandas object: use .to_numpy()"))
    return smell_outcome(hits, "no .values on pandas objects", mods)
