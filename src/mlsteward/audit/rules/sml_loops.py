"""Shared PyTorch training-loop detection for the SML rules; this module declares no rule.

A "training loop" is a ``for``/``while`` loop whose body (nested blocks included, nested
functions not) calls ``.backward()`` and an optimizer's ``.step()``; an optimizer is
recognised by its name (``optimizer``, ``opt_g``, ``self.optim``, a GradScaler
``scaler.step(optimizer)``), never a scheduler or a gym environment.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Outcome
from mlsteward.audit.rules.sml_ast import SCOPES, cached, is_const, parsed, walk_local

__all__ = [
    "LOOPS",
    "TORCH",
    "Loop",
    "called_name",
    "clears_grad",
    "enclosing_loops",
    "is_backward",
    "is_step",
    "loop_body",
    "method_calls",
    "no_torch",
    "torch_modules",
    "training_loops",
]

TORCH = ("torch", "pytorch_lightning", "lightning")
LOOPS = (ast.For, ast.AsyncFor, ast.While)
Loop = ast.For | ast.AsyncFor | ast.While


def torch_modules(facts: Facts, *, tests: bool = False) -> list[Module]:
    return parsed(facts, *TORCH, tests=tests)


def no_torch() -> Outcome:
    return Outcome.not_applicable("no module or notebook imports PyTorch")


def _text(node: ast.AST) -> str:
    return ast.unparse(node).lower()


def method_calls(nodes: Iterable[ast.AST], *names: str) -> list[ast.Call]:
    return [
        n
        for n in nodes
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in names
    ]


def is_backward(call: ast.Call, m: Module | None = None) -> bool:
    """``loss.backward()``; not ``dist_autograd.backward(ctx, [loss])`` (no gradients kept)."""
    f = call.func
    if not (isinstance(f, ast.Attribute) and f.attr in ("backward", "manual_backward")):
        return False
    return m is None or not (isinstance(f.value, ast.Name) and f.value.id in m.aliases)


def is_step(call: ast.Call) -> bool:
    """``optimizer.step()``, ``opt_d.step()``, ``scaler.step(optimizer)``; not a scheduler's."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "step"):
        return False
    owner = _text(call.func.value)
    return ("opt" in owner or "scaler" in owner) and "sched" not in owner


def clears_grad(node: ast.AST) -> bool:
    """zero_grad()/clear_grad()/cleargrads(), ``p.grad = None``, ``p.grad.zero_()``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        attr = node.func.attr
        if "zero_grad" in attr or "clear_grad" in attr or attr == "cleargrads":
            return True
        return attr == "zero_" and ".grad" in ast.unparse(node.func.value)
    if isinstance(node, ast.Assign):
        return any(
            isinstance(t, ast.Attribute) and t.attr == "grad" and is_const(node.value, None)
            for t in node.targets
        )
    return False


def enclosing_loops(m: Module, node: ast.AST) -> list[Loop]:
    """Loops around ``node``, innermost first, within its function."""
    out: list[Loop] = []
    cur = m.parents.get(node)
    while cur is not None and not isinstance(cur, SCOPES):
        if isinstance(cur, LOOPS):
            out.append(cur)
        cur = m.parents.get(cur)
    return out


def loop_body(loop: Loop, *, into_defs: bool = False) -> list[ast.AST]:
    return list(walk_local([*loop.body, *loop.orelse], into_defs=into_defs))


def training_loops(m: Module) -> list[tuple[Loop, ast.Call]]:
    """(loop, first backward call) for each loop that steps an optimizer after backward."""
    return cached(m, "training_loops", _find_training_loops)


def _find_training_loops(m: Module) -> list[tuple[Loop, ast.Call]]:
    out: dict[int, tuple[Loop, ast.Call]] = {}
    for call in m.nodes(ast.Call):
        if not is_backward(call, m):
            continue
        for loop in enclosing_loops(m, call):
            if any(isinstance(n, ast.Call) and is_step(n) for n in loop_body(loop)):
                out.setdefault(id(loop), (loop, call))
                break
    return sorted(out.values(), key=lambda p: p[1].lineno)


def called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
        return f.attr
    return None
