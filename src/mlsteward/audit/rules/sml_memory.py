"""SML012: memory a training loop keeps but no longer needs (Keras sessions, loss graphs)."""

from __future__ import annotations

import ast

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Hit, Outcome, rule
from mlsteward.audit.rules.sml_ast import (
    calls,
    functions,
    hit,
    last,
    loops,
    parsed,
    smell_outcome,
    walk_local,
)
from mlsteward.audit.rules.sml_loops import (
    TORCH,
    called_name,
    is_backward,
    loop_body,
    method_calls,
    training_loops,
)

# -- SML012 ------------------------------------------------------------------------------------

_KERAS_BUILD = frozenset({"Sequential", "Model", "clone_model", "load_model"})
_KERAS = ("tensorflow", "keras", "tf_keras")


def _keras_builders(m: Module) -> set[str]:
    """Functions of this file that construct a Keras model (build_model, create_model, ...)."""
    out: set[str] = set()
    if not any(_builds_keras(m, c) for c, _ in calls(m)):
        return out
    for fn in functions(m):
        for n in walk_local(fn.body):
            if isinstance(n, ast.Call) and _builds_keras(m, n):
                out.add(fn.name)
                break
    return out


def _builds_keras(m: Module, call: ast.Call) -> bool:
    name = m.qualname(call.func) or ""
    return (
        name.startswith(("tensorflow.keras.", "keras.", "tf_keras.")) and last(name) in _KERAS_BUILD
    )


def _loss_names(backward: ast.Call) -> set[str]:
    """``loss`` for loss.backward(), scaler.scale(loss).backward(), (loss / k).backward()."""
    owner = backward.func.value  # type: ignore[attr-defined]
    if isinstance(owner, ast.Call) and owner.args:
        owner = owner.args[0]
    if isinstance(owner, ast.BinOp):
        owner = owner.left
    return {owner.id} if isinstance(owner, ast.Name) else set()


def _keeps_graph(m: Module, value: ast.AST, names: set[str]) -> ast.Name | None:
    """A bare use of the loss tensor in ``value`` (not loss.item(), float(loss), ...)."""
    for n in ast.walk(value):
        if not (isinstance(n, ast.Name) and n.id in names):
            continue
        node: ast.AST = n
        while node is not value:
            parent = m.parents.get(node)
            if not isinstance(parent, ast.BinOp | ast.UnaryOp):
                break
            node = parent
        if node is value:
            return n
    return None


@rule(
    code="SML012",
    name="memory-not-freed",
    title="Training loops release memory they no longer need",
    severity="medium",
    practices=("smell-12",),
    scope="code",
)
def memory_not_freed(facts: Facts) -> Outcome:
    """## What it finds
    - Keras models built in a loop (`keras.Sequential(...)`, `keras.Model(...)`,
      `clone_model`, or a function of the same file that builds one) with no
      `keras.backend.clear_session()` in the loop;
    - PyTorch training loops that keep the loss tensor itself, not its value:
      `total_loss += loss` or `losses.append(loss)` where `loss.backward()` is called in the
      same loop.

    ## Why it matters
    Each Keras model adds to the global graph state until the session is cleared, so a
    hyperparameter loop slows down and runs out of memory. A kept loss tensor keeps its
    whole autograd graph (every activation of the step) alive, so memory grows with every
    iteration until the GPU runs out (smell-12, Memory Not Freed).

    ## Example
    ```python
    for units in (32, 64, 128):
        model = keras.Sequential([keras.layers.Dense(units), keras.layers.Dense(1)])
        ...
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        total_loss += loss
    ```

    ## Instead
    ```python
    for units in (32, 64, 128):
        keras.backend.clear_session()
        model = keras.Sequential([...])
    ...
        total_loss += loss.item()
    ```
    """
    mods = parsed(facts, *TORCH, *_KERAS)
    if not mods:
        return Outcome.not_applicable("no module or notebook imports PyTorch, TensorFlow or Keras")
    hits: list[Hit] = []
    for m in mods:
        builders = _keras_builders(m) if m.imports_any(*_KERAS) else set()
        if builders or any(_builds_keras(m, c) for c, _ in calls(m)):
            for loop in loops(m):
                body = loop_body(loop)
                found = [n for n in body if isinstance(n, ast.Call)]
                if any(
                    isinstance(c.func, ast.Attribute | ast.Name)
                    and last(m.qualname(c.func)) == "clear_session"
                    for c in found
                ):
                    continue
                # building the layers of one model in a loop is fine; a model per iteration
                # that is also compiled or trained there is what accumulates
                if not method_calls(found, "fit", "compile", "train_on_batch", "fit_generator"):
                    continue
                for c in found:
                    if _builds_keras(m, c) or called_name(c) in builders:
                        hits.append(
                            hit(
                                m,
                                c,
                                "Keras model built in a loop without "
                                "keras.backend.clear_session(): clear it at the start of "
                                "each iteration",
                            )
                        )
                        break
        if m.imports_any(*TORCH):
            for loop, _ in training_loops(m):
                names: set[str] = set()
                for b in loop_body(loop):
                    if isinstance(b, ast.Call) and is_backward(b):
                        names |= _loss_names(b)
                for n in loop_body(loop):
                    kept: ast.Name | None = None
                    if isinstance(n, ast.AugAssign):
                        kept = _keeps_graph(m, n.value, names)
                    elif (
                        isinstance(n, ast.Call)
                        and isinstance(n.func, ast.Attribute)
                        and n.func.attr == "append"
                        and len(n.args) == 1
                    ):
                        kept = _keeps_graph(m, n.args[0], names)
                    if kept is not None:
                        hits.append(
                            hit(
                                m,
                                n,
                                f"{kept.id} is kept with its autograd graph: "
                                f"accumulate {kept.id}.item() (or .detach()) instead",
                            )
                        )
    # nested loops see the same statement twice
    unique = list({(h.path, h.line, h.column): h for h in hits}.values())
    return smell_outcome(
        unique, "no models built in loops without clearing, no kept loss tensors", mods
    )
