"""Running the rules of a large repository in two processes.

The rules fall in two halves that read mostly different facts: the code rules (smells,
training, data, models, governance) parse and index Python modules; the others read CI,
tasks, tools, dependencies, deployment and documents. On a repository of thousands of
files each half takes about as long as the other, and the machine has two cores, so
the audit forks once the file index is built: the child evaluates the code half and
sends its outcomes and findings back in one pickle; the parent evaluates the rest. Each
process gathers only the facts its own rules ask for.

The child also checks the syntax of every module no rule parsed (what AUD002 reports),
since it finishes first; neither side starts a syntax worker of its own then. Two rules
of the child's families that read deployment manifests (GOV005, GOV010) run in the
parent, which reads those anyway: the child would parse them only for these two.

Nothing here changes a verdict: the same rule functions run on the same facts; reading
problems the child met are recorded in the parent before the AUD rules report them; a
child that fails is replaced by evaluating its rules in the parent. Small repositories
are audited in one process (a fork costs more than it saves there);
``STEWARD_AUDIT_JOBS`` = ``1`` or ``2`` overrides the choice.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts, Problem
    from mlsteward.audit.rule import Rule

__all__ = ["CHILD_FAMILIES", "MIN_FILES", "evaluate"]

#: the families the child evaluates: they read Python modules more than anything else
CHILD_FAMILIES = frozenset({"SML", "EXP", "DAT", "MOD", "GOV"})
#: rules of those families that read what the parent reads anyway (deployment manifests)
PARENT_CODES = frozenset({"GOV005", "GOV010"})
#: below this many files an audit takes well under a second: one process is faster
MIN_FILES = 800

T = TypeVar("T")

#: how many audits this process split in two (read by the tests and for diagnostics)
splits = 0


def _jobs(facts: Facts) -> int:
    asked = os.environ.get("STEWARD_AUDIT_JOBS", "")
    if asked == "1":
        return 1
    if asked == "2":
        return 2 if hasattr(os, "fork") and threading.active_count() == 1 else 1
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return 1
    if threading.active_count() > 1:
        return 1  # forking a process with other threads can deadlock the child
    return 2 if len(facts.files.files) >= MIN_FILES else 1


def evaluate(rules: Sequence[Rule], facts: Facts, run: Callable[[Rule], T]) -> dict[str, T]:
    """``run(rule)`` for every rule, keyed by code; in two processes when it pays off.

    ``run``'s results must pickle. Rules of the AUD family always run in this process,
    last, after the child's reading problems have been recorded.
    """
    audit_rules = [r for r in rules if r.family == "AUD"]
    others = [r for r in rules if r.family != "AUD"]
    child_rules = [r for r in others if _in_child(r)]
    # a forked child must not share a syntax worker the parent already started
    if not child_rules or "python" in facts.__dict__ or _jobs(facts) < 2:
        return {r.code: run(r) for r in [*others, *audit_rules]}
    global splits
    facts.files  # noqa: B018 (built once, before the fork, and shared by both processes)
    facts.split = True
    splits += 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(child_rules, facts, run, write)
    os.close(write)
    results = {r.code: run(r) for r in others if not _in_child(r)}
    from_child: tuple[dict[str, T], list[Problem]] | None = _collect(pid, read)
    if from_child is None:  # the child failed: do its part here
        outcomes: dict[str, T] = {r.code: run(r) for r in child_rules}
        problems: list[Problem] = []
    else:
        outcomes, problems = from_child
        facts.python.checked_elsewhere()
    results.update(outcomes)
    for p in problems:
        facts.problem(p.kind, p.path, p.message, p.line)
    results.update({r.code: run(r) for r in audit_rules})
    return results


def _in_child(rule: Rule) -> bool:
    return rule.family in CHILD_FAMILIES and rule.code not in PARENT_CODES


def _child(rules: Sequence[Rule], facts: Facts, run: Callable[[Rule], T], fd: int) -> None:
    code = 0
    try:
        outcomes = {r.code: run(r) for r in rules}
        # the child is done first: it checks the syntax of what no rule parsed (AUD001)
        facts.python.check_syntax()
        data = pickle.dumps((outcomes, facts.problems), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
        facts.python.close()
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no exit handlers, no flushing of buffers shared with the parent


def _collect(pid: int, fd: int) -> tuple[dict[str, T], list[Problem]] | None:
    chunks = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    status = 1
    with suppress(ChildProcessError):
        _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return None
    try:
        result: tuple[dict[str, T], list[Problem]] = pickle.loads(b"".join(chunks))  # noqa: S301
    except Exception:  # our own child wrote it; a broken pickle means it died mid-way
        return None
    return result
