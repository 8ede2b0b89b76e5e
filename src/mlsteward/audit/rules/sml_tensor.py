"""SML009, SML015-SML017: numeric smells of NumPy, PyTorch and TensorFlow array code."""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Hit, Outcome, rule
from mlsteward.audit.rules.sml_ast import (
    SCOPES,
    cached,
    calls,
    frames,
    hit,
    kwarg,
    last,
    parsed,
    scope_body,
    scope_of,
    smell_outcome,
    walk_local,
    words,
)


def _all_calls(m: Module) -> list[tuple[ast.Call, str]]:
    """Every call with its dotted name ("" when it has none, as for ``f()()``)."""

    def build(mod: Module) -> list[tuple[ast.Call, str]]:
        named = _qualnames(mod)
        return [(c, named.get(id(c), "")) for c in mod.nodes(ast.Call)]

    return cached(m, "all_calls", build)


def _qualnames(m: Module) -> dict[int, str]:
    return cached(m, "qualnames", lambda mod: {id(c): n for c, n in calls(mod)})


# -- SML009 ------------------------------------------------------------------------------------

#: a matrix by the usual naming convention: X, W1, X_train, A_b (not ALL_CAPS constants)
_MATRIX_NAME = re.compile(r"^[A-Z][0-9]*(_[a-z0-9_]*)?$")
_SHAPED = frozenset({"zeros", "ones", "empty", "full"})
_NP_2D = frozenset({"eye", "identity", "outer", "cov", "corrcoef", "meshgrid"})


def _is_2d_expr(m: Module, node: ast.AST) -> bool:
    """An expression that is evidently a 2-D array (or more), without the names' bindings."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return True
    if isinstance(node, ast.Name):
        return bool(_MATRIX_NAME.match(node.id))
    if not isinstance(node, ast.Call):
        return False
    name = m.qualname(node.func) or ""
    cls = last(name)
    if name.startswith("numpy."):
        if cls in _NP_2D:
            return True
        if cls in _SHAPED and node.args:
            shape = node.args[0]
            return isinstance(shape, ast.Tuple | ast.List) and len(shape.elts) >= 2
        if name.startswith("numpy.random."):
            if cls in ("rand", "randn"):
                return len(node.args) >= 2
            size = kwarg(node, "size")
            return isinstance(size, ast.Tuple) and len(size.elts) >= 2
        if cls in ("array", "asarray") and node.args:
            first = node.args[0]
            return (
                isinstance(first, ast.List)
                and bool(first.elts)
                and isinstance(first.elts[0], ast.List)
            )
    if isinstance(node.func, ast.Attribute) and node.func.attr == "reshape":
        dims = (
            node.args[0].elts
            if len(node.args) == 1 and isinstance(node.args[0], ast.Tuple)
            else node.args
        )
        return len(dims) >= 2
    return False


def _matrix_names(m: Module) -> set[str]:
    """Names bound to an evidently 2-D expression anywhere in the file."""

    def build(mod: Module) -> set[str]:
        out: set[str] = set()
        for node in mod.nodes(ast.Assign):
            target = node.targets[0]
            if (
                len(node.targets) == 1
                and isinstance(target, ast.Name)
                and _is_2d_expr(mod, node.value)
            ):
                out.add(target.id)
        return out

    return cached(m, "matrix_names", build)


def _is_2d(m: Module, node: ast.AST) -> bool:
    if isinstance(node, ast.Name) and node.id in _matrix_names(m):
        return True
    return _is_2d_expr(m, node)


@rule(
    code="SML009",
    name="matrix-multiplication-api",
    title="Matrix products use @ or np.matmul",
    severity="low",
    practices=("smell-9",),
    scope="code",
)
def matrix_multiplication_api(facts: Facts) -> Outcome:
    """## What it finds
    `np.dot(a, b)` and `a.dot(b)` where an operand is evidently a matrix: a transpose
    (`W.T`), a 2-D constructor (`np.zeros((n, m))`, `np.eye(n)`, `np.random.rand(n, m)`,
    a nested list, `.reshape(n, m)`), a name bound to one of those, or a name written as a
    matrix by convention (`X`, `W1`, `X_train`). Pandas frames and test files are left out.

    ## Why it matters
    `np.dot` is a matrix product for 2-D arrays but behaves differently from matrix
    multiplication for higher dimensions and for scalars, and it reads like a vector dot
    product; `@` / `np.matmul` say what is meant and fail loudly on a shape mistake
    (smell-9, Matrix Multiplication API Misused).

    ## Example
    ```python
    y = np.dot(X, W.T)
    ```

    ## Instead
    ```python
    y = X @ W.T
    ```
    """
    mods = parsed(facts, "numpy")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports NumPy")
    hits: list[Hit] = []
    for m in mods:
        fr = frames(m)
        for call, name in _all_calls(m):
            f = call.func
            if name == "numpy.dot" and len(call.args) >= 2:
                operands = call.args[:2]
            elif (
                isinstance(f, ast.Attribute)
                and f.attr == "dot"
                and len(call.args) == 1
                and not name.startswith("numpy.")
                and not fr.is_frame(f.value)
            ):
                operands = [f.value, call.args[0]]
            else:
                continue
            if any(_is_2d(m, o) for o in operands):
                hits.append(
                    hit(m, call, "dot() on a matrix: write the matrix product as a @ b (np.matmul)")
                )
    return smell_outcome(hits, "matrix products use @ / np.matmul", mods)


# -- SML015 ------------------------------------------------------------------------------------

#: log function -> (how to show it, how to clamp its argument)
_LOG_FIX = {
    "torch.log": ("torch.log", "x.clamp(min=eps)"),
    "tensorflow.math.log": ("tf.math.log", "tf.maximum(x, eps)"),
    "tensorflow.log": ("tf.log", "tf.maximum(x, eps)"),
    "numpy.log": ("np.log", "np.clip(x, eps, None)"),
}
_LOGS = frozenset(_LOG_FIX)
_MASKS = words(
    """
    clamp clip clip_by_value maximum fmax clamp_min clamp_ clip_ softplus exp relu where
    nan_to_num max
    """
)
#: calls whose value is a deliberate constant: log(tril(ones)) builds a -inf mask on purpose
_CONSTANT_BUILDERS = words(
    """
    len float int tensor as_tensor full_like full tril triu ones ones_like eye arange
    linspace logspace
    """
)
_PROB_FN = frozenset({"softmax", "sigmoid", "expit", "predict_proba", "predict"})
_PROB_NAME = re.compile(
    r"^(probs?|probas?|probabilit(y|ies)|p_?hat|y_?hat|y_?pred\w*|preds?|predictions?|"
    r"y_?prob\w*|softmax\w*|likelihoods?)$",
    re.IGNORECASE,
)
_EPS = re.compile(r"eps|epsilon|tiny|smooth|delta|offset", re.IGNORECASE)


def _masked(m: Module, node: ast.AST, depth: int = 0) -> bool:
    """The argument cannot be 0 (or is clamped): constants, clamp/clip, ``x + eps``, len()."""
    if depth > 4:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple):  # a literal: its values are in plain sight
        return all(_masked(m, e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Name):
        return node.id.isupper() or node.id in _masked_names(m)
    if isinstance(node, ast.Call):
        name = m.qualname(node.func) or ""
        cls = last(name)
        if cls in _MASKS or cls in _CONSTANT_BUILDERS:
            return True
        return isinstance(node.func, ast.Attribute) and node.func.attr in ("size", "numel", "sum")
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Add):
            sides = (node.left, node.right)
            return any(
                isinstance(s, ast.Constant) or (_EPS.search(ast.unparse(s)) is not None)
                for s in sides
            ) or all(_masked(m, s, depth + 1) for s in sides)
        if isinstance(node.op, ast.Mult | ast.Div | ast.Pow):
            return _masked(m, node.left, depth + 1) and _masked(m, node.right, depth + 1)
        return False
    if isinstance(node, ast.Attribute):
        return node.attr in ("shape", "size") or node.attr.isupper()
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
    return False


def _masked_names(m: Module) -> set[str]:
    """Names assigned a clamped/clipped value anywhere in the file (p = p.clamp(eps, 1))."""

    def build(mod: Module) -> set[str]:
        out: set[str] = set()
        for node in mod.nodes(ast.Assign):
            v = node.value
            if (isinstance(v, ast.Call) and last(mod.qualname(v.func)) in _MASKS) or (
                isinstance(v, ast.BinOp)
                and isinstance(v.op, ast.Add)
                and (isinstance(v.right, ast.Constant) or _EPS.search(ast.unparse(v.right)))
            ):
                out.update(t.id for t in node.targets if isinstance(t, ast.Name))
        return out

    return cached(m, "masked_names", build)


def _probability_like(m: Module, node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return bool(_PROB_NAME.match(node.id))
    if isinstance(node, ast.Call):
        return last(m.qualname(node.func)) in _PROB_FN
    if isinstance(node, ast.Subscript):
        return _probability_like(m, node.value)
    return False


@rule(
    code="SML015",
    name="missing-mask-of-invalid-value",
    title="Logarithms are guarded against zero",
    severity="low",
    practices=("smell-15",),
    scope="code",
)
def missing_mask_of_invalid_value(facts: Facts) -> Outcome:
    """## What it finds
    `torch.log(x)` and `tf.math.log(x)` whose argument is not guarded: not clamped or
    clipped (`x.clamp(min=eps)`, `tf.clip_by_value`, `torch.maximum`), not offset
    (`x + 1e-8`, `x + eps`), not a constant or a size. `np.log` only when its argument is a
    probability (a softmax/sigmoid/predict_proba result or a name such as `probs`,
    `y_pred`): NumPy code often takes logs of values known to be positive. Test files are
    skipped.

    ## Why it matters
    A probability that underflows to 0 gives `log(0) = -inf`, and one NaN or infinity in a
    loss poisons every weight at the next step; the run fails far from the cause
    (smell-15, Missing the Mask of Invalid Value).

    ## Example
    ```python
    loss = -(y * torch.log(torch.sigmoid(logits))).mean()
    ```

    ## Instead
    ```python
    loss = -(y * torch.log(torch.sigmoid(logits).clamp(min=1e-7))).mean()
    # better: F.binary_cross_entropy_with_logits(logits, y), or log_softmax
    ```
    """
    mods = parsed(facts, "torch", "tensorflow", "numpy")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports NumPy, PyTorch or TensorFlow")
    hits: list[Hit] = []
    for m in mods:
        for call, name in calls(m):
            if name not in _LOGS or len(call.args) != 1 or call.keywords:
                continue
            arg = call.args[0]
            if _masked(m, arg):
                continue
            if name == "numpy.log" and not _probability_like(m, arg):
                continue
            shown, clamp = _LOG_FIX[name]
            hits.append(
                hit(
                    m,
                    call,
                    f"{shown}() of a value that can be 0 gives -inf/NaN: clamp it first "
                    f"({clamp}) or use a log-space function (log_softmax, logsigmoid)",
                )
            )
    return smell_outcome(hits, "logarithms are guarded", mods)


# -- SML016 ------------------------------------------------------------------------------------

_ELEMENTWISE = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_ELEMENTWISE_FN = words(
    """
    add subtract multiply divide mul sub div true_divide pow maximum minimum where
    """
)


def _tiles(m: Module, call: ast.Call) -> bool:
    name = _qualnames(m).get(id(call), "")
    if name in ("numpy.tile", "tensorflow.tile"):
        return True
    # torch's x.repeat(n, 1) tiles; numpy's a.repeat(3) repeats elements (not a tile)
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "repeat"
        and len(call.args) >= 2
        and m.imports_any("torch")
        and not name.startswith(("numpy.", "torch."))
    )


def _feeds_elementwise(m: Module, node: ast.AST) -> bool:
    """``node`` is an operand of element-wise arithmetic with another array (not a scalar:
    ``tiled + 1`` needs the tiled shape anyway)."""
    parent = m.parents.get(node)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, _ELEMENTWISE):
        other = parent.right if parent.left is node else parent.left
        if isinstance(other, ast.UnaryOp):
            other = other.operand
        return not isinstance(other, ast.Constant)
    return (
        isinstance(parent, ast.Call)
        and node in parent.args
        and last(m.qualname(parent.func)) in _ELEMENTWISE_FN
    )


@rule(
    code="SML016",
    name="broadcasting-not-used",
    title="Element-wise operations rely on broadcasting",
    severity="low",
    practices=("smell-16",),
    scope="code",
)
def broadcasting_not_used(facts: Facts) -> Outcome:
    """## What it finds
    A tiled array or tensor (`np.tile`, `tf.tile`, PyTorch `x.repeat(n, 1)`) used in an
    element-wise operation (`+ - * / **`, `tf.add`, `np.multiply`, ...), directly or through
    a name assigned in the same function. Test files are skipped.

    ## Why it matters
    Tiling materialises a full copy of the data just to make shapes match, which costs
    memory and time; broadcasting does the same arithmetic without the copy (smell-16,
    Broadcasting Feature Not Used).

    ## Example
    ```python
    bias = tf.tile(b[None, :], [batch, 1])
    out = x + bias
    ```

    ## Instead
    ```python
    out = x + b          # b broadcasts over the batch dimension
    ```
    """
    mods = parsed(facts, "torch", "tensorflow", "numpy")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports NumPy, PyTorch or TensorFlow")
    hits: list[Hit] = []
    for m in mods:
        for call, _ in _all_calls(m):
            if not _tiles(m, call):
                continue
            feeds = _feeds_elementwise(m, call)
            parent = m.parents.get(call)
            if not feeds and isinstance(parent, ast.Assign) and len(parent.targets) == 1:
                target = parent.targets[0]
                if isinstance(target, ast.Name):
                    feeds = any(
                        isinstance(n, ast.Name)
                        and n.id == target.id
                        and isinstance(n.ctx, ast.Load)
                        and n.lineno >= call.lineno
                        and _feeds_elementwise(m, n)
                        for n in walk_local(scope_body(scope_of(m, call)))
                    )
            if feeds:
                hits.append(
                    hit(
                        m,
                        call,
                        "tiled copy used in an element-wise operation: let "
                        "broadcasting match the shapes instead",
                    )
                )
    return smell_outcome(hits, "no tiled copies in element-wise operations", mods)


def _in_loop(m: Module, node: ast.AST) -> bool:
    """``node`` is inside a for/while loop of its own function."""
    cur = m.parents.get(node)
    while cur is not None and not isinstance(cur, SCOPES):
        if isinstance(cur, ast.For | ast.AsyncFor | ast.While):
            return True
        cur = m.parents.get(cur)
    return False


# -- SML017 ------------------------------------------------------------------------------------


@rule(
    code="SML017",
    name="tensorarray-not-used",
    title="Tensors grown in loops use tf.TensorArray",
    severity="low",
    practices=("smell-17",),
    scope="code",
)
def tensorarray_not_used(facts: Facts) -> Outcome:
    """## What it finds
    In TensorFlow code, a loop that grows a tensor by concatenating or stacking it with
    itself on every iteration: `x = tf.concat([x, y], axis=0)` inside `for`/`while`.
    Test files are skipped.

    ## Why it matters
    Each concatenation copies the whole tensor (quadratic time), and inside a
    `tf.function` a tensor whose shape changes per iteration fails or retraces; a
    `tf.TensorArray` is built for values produced in loops (smell-17, TensorArray Not
    Used).

    ## Example
    ```python
    out = tf.zeros((0, d))
    for step in range(n):
        out = tf.concat([out, f(step)], axis=0)
    ```

    ## Instead
    ```python
    ta = tf.TensorArray(tf.float32, size=n)
    for step in tf.range(n):
        ta = ta.write(step, f(step))
    out = ta.stack()
    ```
    """
    mods = parsed(facts, "tensorflow")
    if not mods:
        return Outcome.not_applicable("no module or notebook imports TensorFlow")
    hits: list[Hit] = []
    for m in mods:
        for node in m.nodes(ast.Assign):
            v = node.value
            if not (
                isinstance(v, ast.Call)
                and v.args
                and isinstance(v.args[0], ast.List | ast.Tuple)
                and m.qualname(v.func) in ("tensorflow.concat", "tensorflow.stack")
            ):
                continue
            targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
            grows = any(isinstance(e, ast.Name) and e.id in targets for e in v.args[0].elts)
            if grows and _in_loop(m, node):
                hits.append(
                    hit(
                        m,
                        node,
                        "tensor grown by concatenation in a loop: collect "
                        "the values in a tf.TensorArray and stack once",
                    )
                )
    return smell_outcome(hits, "no tensors grown by concatenation in loops", mods)
