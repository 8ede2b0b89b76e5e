"""SML013, SML018-SML020: training-loop smells of PyTorch code (see `sml_loops`)."""

from __future__ import annotations

import ast
import re

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.python import Module
from mlsteward.audit.rule import Evidence, Hit, Outcome, Strength, rule
from mlsteward.audit.rules.sml_ast import (
    calls,
    functions,
    hit,
    is_const,
    kwarg,
    last,
    line_of,
    smell_outcome,
    walk_local,
)
from mlsteward.audit.rules.sml_loops import (
    LOOPS,
    called_name,
    clears_grad,
    enclosing_loops,
    is_backward,
    loop_body,
    no_torch,
    torch_modules,
    training_loops,
)

# -- SML020 ------------------------------------------------------------------------------------


@rule(
    code="SML020",
    name="zero-grad-missing",
    title="Gradients are cleared in every training step",
    severity="high",
    practices=("smell-20",),
    scope="code",
)
def zero_grad_missing(facts: Facts) -> Outcome:
    """## What it finds
    PyTorch training loops that call `loss.backward()` and `optimizer.step()` but never clear
    the gradients inside the loop: no `optimizer.zero_grad()` / `model.zero_grad()`, no
    `p.grad = None`. Gradient accumulation is fine as long as the loop clears them at some
    point (`if step % accum == 0: optimizer.step(); optimizer.zero_grad()`).

    ## Why it matters
    PyTorch adds each backward pass to the gradients already stored, so without clearing,
    every step applies the sum of all earlier gradients and training diverges or crawls
    without an error (smell-20, Gradients Not Cleared before Backward).

    ## Example
    ```python
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    ```

    ## Instead
    ```python
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    ```
    """
    mods = torch_modules(facts)
    if not mods:
        return no_torch()
    hits: list[Hit] = []
    loops = 0
    for m in mods:
        clearing: set[str] | None = None
        for loop, backward in training_loops(m):
            loops += 1
            body = loop_body(loop, into_defs=True)
            if any(clears_grad(n) for n in body):
                continue
            if clearing is None:  # helpers of this file that clear: reset_grad()
                clearing = {
                    fn.name
                    for fn in functions(m)
                    if any(clears_grad(n) for n in walk_local(fn.body))
                }
            if not any(isinstance(n, ast.Call) and called_name(n) in clearing for n in body):
                hits.append(
                    hit(
                        m,
                        backward,
                        "backward() and optimizer.step() in a loop that never "
                        "clears gradients: call optimizer.zero_grad() once per step",
                    )
                )
    if not loops:
        return Outcome.not_applicable(
            "no PyTorch training loop (backward and optimizer step) found"
        )
    return smell_outcome(hits, f"{loops} training loop(s) clear gradients", mods)


# -- SML019 ------------------------------------------------------------------------------------


#: libraries whose objects have a forward() of their own (OpenCV DNN, ONNX Runtime, ...)
_FOREIGN = (
    "cv2",
    "onnxruntime",
    "openvino",
    "tensorflow",
    "keras",
    "tflite_runtime",
    "paddle",
    "mxnet",
    "jax",
    "tritonclient",
    "coremltools",
    "tensorrt",
)


def _foreign_owners(m: Module) -> set[str]:
    """Names and attributes (``self.net``) bound to an object of another library."""
    out: set[str] = set()
    for node in m.nodes(ast.Assign):
        if isinstance(node.value, ast.Call):
            head = (m.qualname(node.value.func) or "").split(".")[0]
            if head in _FOREIGN:
                out.update(ast.unparse(t) for t in node.targets)
    return out


def _is_proxy(owner: ast.expr) -> bool:
    """An RPC proxy or remote module, whose forward() is the documented API."""
    text = ast.unparse(owner).lower()
    return isinstance(owner, ast.Call) or "remote" in text or "rref" in text


def _is_super_or_class(call: ast.Call) -> bool:
    """``super().forward(x)`` or ``nn.Module.forward(self, x)``: the parent's code, on purpose."""
    owner = call.func.value  # type: ignore[attr-defined]
    if (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and owner.func.id == "super"
    ):
        return True
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    return (
        bool(name[:1].isupper())
        and bool(call.args)
        and isinstance(call.args[0], ast.Name)
        and (call.args[0].id == "self")
    )


@rule(
    code="SML019",
    name="forward-called-directly",
    title="Modules are called, not their forward()",
    severity="low",
    practices=("smell-19",),
    scope="code",
)
def forward_called_directly(facts: Facts) -> Outcome:
    """## What it finds
    Calls of `.forward(...)` on an object (`model.forward(x)`, `self.encoder.forward(h)`,
    `self.forward(x)`) in files that import PyTorch, except `super().forward(...)` and the
    explicit parent call `nn.Module.forward(self, ...)`. Test files are skipped.

    ## Why it matters
    `module(x)` runs the module's hooks (forward pre-hooks and hooks, used by profilers,
    pruning, quantisation, `torch.compile` guards and many libraries) around `forward`;
    calling `forward` directly silently skips them (smell-19, PyTorch Call Method Misused).

    ## Example
    ```python
    logits = model.forward(batch)
    ```

    ## Instead
    ```python
    logits = model(batch)
    ```
    """
    mods = torch_modules(facts)
    if not mods:
        return no_torch()
    hits: list[Hit] = []
    for m in mods:
        foreign = _foreign_owners(m)
        for call in m.nodes(ast.Call):
            f = call.func
            if (
                isinstance(f, ast.Attribute)
                and f.attr == "forward"
                and not _is_super_or_class(call)
                and not _is_proxy(f.value)
                and ast.unparse(f.value) not in foreign
            ):
                owner = ast.unparse(f.value)
                hits.append(
                    hit(
                        m,
                        call,
                        f"{owner}.forward(...) skips the module's hooks: call {owner}(...) instead",
                    )
                )
    return smell_outcome(hits, "modules are called, not their forward()", mods)


# -- SML018 ------------------------------------------------------------------------------------

_EVAL_FN = re.compile(
    r"^_?(eval|evaluate|evaluation|validate|validation|valid|val|test)(_\w+)?$"
    r"|_(eval|evaluate|validate|validation|val|test)$"
)


def _sets_eval(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr == "eval":
        return not call.args and not call.keywords
    if call.func.attr == "train":
        mode = call.args[0] if call.args else kwarg(call, "mode")
        return is_const(mode, False)
    return False


def _sets_train(call: ast.Call) -> bool:
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "train"):
        return False
    mode = call.args[0] if call.args else kwarg(call, "mode")
    return mode is None or not is_const(mode, False)


def _mode_functions(m: Module) -> tuple[set[str], set[str]]:
    """Functions of this file that leave a module in eval mode, and those that set train mode."""
    evals: set[str] = set()
    trains: set[str] = set()
    for fn in functions(m):
        found = [n for n in walk_local(fn.body) if isinstance(n, ast.Call)]
        sets_train = any(_sets_train(c) for c in found)
        if sets_train:
            trains.add(fn.name)
        elif any(_sets_eval(c) for c in found):
            evals.add(fn.name)
    return evals, trains


_NO_GRAD = frozenset({"no_grad", "inference_mode", "set_grad_enabled", "eval"})


def _unguarded_eval_functions(m: Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Evaluation functions with a loop, no eval() and no no_grad, in a file that trains
    and never calls eval() anywhere, called from this same file."""
    if any(_sets_eval(c) for c in m.nodes(ast.Call)):
        return []
    if not any(is_backward(c) for c in m.nodes(ast.Call)):
        return []
    called = {n for c in m.nodes(ast.Call) if (n := called_name(c))}
    out: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for fn in functions(m):
        if not _EVAL_FN.match(fn.name) or fn.name not in called:
            continue
        nodes = list(walk_local([*fn.decorator_list, *fn.body]))
        if not any(isinstance(n, LOOPS) for n in nodes):
            continue
        if any(isinstance(n, ast.Attribute) and n.attr in _NO_GRAD for n in nodes):
            continue
        if any(isinstance(n, ast.Name) and n.id in _NO_GRAD for n in nodes):
            continue
        out.append(fn)
    return out


@rule(
    code="SML018",
    name="train-eval-mode-toggling",
    title="Models switch between train() and eval() correctly",
    severity="medium",
    practices=("smell-18",),
    scope="code",
)
def train_eval_mode_toggling(facts: Facts) -> Outcome:
    """## What it finds
    Two PyTorch mistakes with `model.train()` / `model.eval()`:

    - a training loop (one that calls `backward()` and `optimizer.step()`) that switches a
      model to eval mode, directly or through a function of the same file that calls
      `.eval()` and does not switch back, but never calls `.train()` inside the loop: from
      the second pass on, training runs in eval mode;
    - an evaluation function (`evaluate`, `validate`, `test`, `*_eval`, ...) with a loop,
      neither `.eval()` nor `torch.no_grad()` in it, called from a training file that never
      calls `.eval()` at all.

    ## Why it matters
    Dropout and batch normalisation behave differently in the two modes: training in eval
    mode freezes batch-norm statistics and disables dropout, evaluating in train mode gives
    noisy, too-low scores and updates batch-norm statistics from the test data (smell-18,
    Training / Evaluation Mode Improper Toggling).

    ## Example
    ```python
    model.train()
    for epoch in range(epochs):
        for x, y in train_loader:
            ...
            loss.backward()
            optimizer.step()
        model.eval()
        evaluate(model, val_loader)
    ```

    ## Instead
    ```python
    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            ...
        model.eval()
        with torch.no_grad():
            evaluate(model, val_loader)
    ```
    """
    mods = torch_modules(facts)
    if not mods:
        return no_torch()
    hits: list[Hit] = []
    loops = 0
    for m in mods:
        training = training_loops(m)
        if not training:
            continue
        evals, trains = _mode_functions(m)
        seen: set[int] = set()
        # the inner loop steps; an epoch loop around it is where evaluation usually sits
        outer = [o for loop, _ in training for o in enclosing_loops(m, loop)]
        for loop in dict.fromkeys([*(lp for lp, _ in training), *outer]):
            loops += 1
            found = [n for n in loop_body(loop) if isinstance(n, ast.Call)]
            if any(_sets_train(c) or called_name(c) in trains for c in found):
                continue
            for c in found:
                via = called_name(c)
                if id(c) in seen or not (_sets_eval(c) or (via in evals and via not in trains)):
                    continue
                seen.add(id(c))
                what = (
                    f"{via}() leaves the model in eval mode"
                    if not _sets_eval(c)
                    else (f"{ast.unparse(c.func)}() switches to eval mode")
                )
                hits.append(
                    hit(
                        m,
                        c,
                        f"{what} inside a training loop that never calls "
                        ".train() again: call model.train() before the next training step",
                    )
                )
        for fn in _unguarded_eval_functions(m):
            hits.append(
                hit(
                    m,
                    fn,
                    f"{fn.name}() evaluates in training mode and with gradients: "
                    "call model.eval() and wrap the loop in torch.no_grad()",
                )
            )
    if not loops:
        return Outcome.not_applicable(
            "no PyTorch training loop (backward and optimizer step) found"
        )
    return smell_outcome(hits, f"{loops} training loop(s) toggle train/eval modes", mods)


# -- SML013 ------------------------------------------------------------------------------------


def _global_determinism(m: Module) -> ast.AST | None:
    """A process-wide switch: use_deterministic_algorithms(...), cudnn.deterministic = True."""
    for call, name in calls(m):
        if last(name) in ("use_deterministic_algorithms", "enable_op_determinism"):
            return call
    for node in m.nodes(ast.Assign):
        for t in node.targets:
            if (
                isinstance(t, ast.Attribute)
                and t.attr == "deterministic"
                and "cudnn" in ast.unparse(t.value)
                and not is_const(node.value, False)
            ):
                return node
    return None


def _trainers(m: Module) -> list[ast.Call]:
    """Lightning ``Trainer(...)`` constructions (their ``deterministic=`` is per trainer)."""
    return [
        call
        for call, name in calls(m)
        if last(name) == "Trainer" and name.startswith(("pytorch_lightning", "lightning"))
    ]


@rule(
    code="SML013",
    name="deterministic-algorithms-not-used",
    title="PyTorch training can run with deterministic algorithms",
    severity="low",
    practices=("smell-13", "mts-infra-1"),
    scope="code",
)
def deterministic_algorithms_not_used(facts: Facts) -> Outcome:
    """## What it finds
    PyTorch training code that never turns on deterministic algorithms: a training loop
    (`backward()` and an optimizer step) when no `torch.use_deterministic_algorithms(...)`
    or `torch.backends.cudnn.deterministic = True` is set, and a Lightning `Trainer(...)`
    without `deterministic=True` (that switch belongs to each trainer). As with seeds, a
    notebook must set the switch itself; in the Python modules a switch in any of them
    counts for all. One finding per training file (and per Trainer).

    ## Why it matters
    Several CUDA kernels (scatter/index-add, some convolutions, cuDNN autotuning) are
    non-deterministic, so two runs with the same seed still differ; without a switch to
    make them deterministic a regression cannot be reproduced or bisected (smell-13,
    Deterministic Algorithm Option Not Used; ML Test Score infra-1).

    ## Example
    ```python
    torch.manual_seed(0)
    for x, y in loader:
        ...
        loss.backward()
    ```

    ## Instead
    ```python
    torch.manual_seed(0)
    if args.deterministic:  # on in CI and when debugging
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    ```
    """
    mods = torch_modules(facts)
    if not mods:
        return no_torch()
    package: tuple[Module, ast.AST] | None = None
    for m in mods:
        found = None if m.is_notebook else _global_determinism(m)
        if found is not None:
            package = (m, found)
            break
    hits: list[Hit] = []
    evidence: list[Evidence] = []
    entries = 0
    message = (
        "training without deterministic algorithms: call torch.use_deterministic_algorithms(True)"
        " (behind a flag) so runs can be reproduced exactly"
    )
    for m in mods:
        loops_ = training_loops(m)
        trainers = _trainers(m)
        if not loops_ and not trainers:
            continue
        entries += 1
        switch = _global_determinism(m) if m.is_notebook else (package[1] if package else None)
        where = m if m.is_notebook or package is None else package[0]
        if switch is not None:
            evidence.append(
                Evidence(
                    f"deterministic algorithms: {where.line(line_of(switch)).strip()}",
                    Strength.PRESENT,
                    where.path,
                    line_of(switch),
                )
            )
            continue
        if loops_:
            hits.append(hit(m, loops_[0][1], message))
        for trainer in trainers:
            det = kwarg(trainer, "deterministic")
            if det is None or is_const(det, False):
                hits.append(
                    hit(
                        m,
                        trainer,
                        "Trainer(...) without deterministic=True: set it so "
                        "runs can be reproduced exactly",
                    )
                )
            else:
                evidence.append(
                    Evidence(
                        f"deterministic trainer: {m.line(trainer.lineno).strip()}",
                        Strength.PRESENT,
                        m.path,
                        trainer.lineno,
                    )
                )
    if not entries:
        return Outcome.not_applicable("no PyTorch training code found")
    unique = list({(e.path, e.line): e for e in evidence}.values())[:5]
    return Outcome.from_hits(hits, evidence=unique, note=f"{entries} training file(s) checked")
