"""Repository facts: gathered once per audit, shared by every rule, never by running code.

`Facts` is a lazy container: each area (files, git, dependencies, CI, Python code, ...)
is computed by the ``gather`` function of its own module the first time a rule asks for
it, then cached. So an audit that selects only CI rules never parses a notebook, and a
rule never re-reads what another already read.

Problems found while reading (a syntax error, broken YAML, a link out of the root) are
collected in `Facts.problems` and reported as ``AUD`` findings; the audit goes on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from mlsteward.config import Context, Settings

if TYPE_CHECKING:
    from mlsteward.audit.facts.ci import CIFacts
    from mlsteward.audit.facts.deploy import DeployFacts
    from mlsteward.audit.facts.deps import DepsFacts
    from mlsteward.audit.facts.docs import DocsFacts
    from mlsteward.audit.facts.dvc import DvcFacts
    from mlsteward.audit.facts.files import FileIndex
    from mlsteward.audit.facts.git import GitFacts
    from mlsteward.audit.facts.python import PythonFacts
    from mlsteward.audit.facts.records import RecordFacts
    from mlsteward.audit.facts.tests import TestFacts
    from mlsteward.audit.facts.tools import ToolFacts

__all__ = ["Facts", "Problem"]


@dataclass(frozen=True)
class Problem:
    """Something in the repository the audit could not read as expected."""

    kind: str  # unreadable | syntax | config | link | too-large
    path: str
    message: str
    line: int | None = None


class Facts:
    """Everything the rules may know about one repository.

    Args:
        root: the repository root (already resolved).
        settings: the project's settings (context decides applicability).
    """

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = root
        self.settings = settings or Settings()
        self._problems: list[Problem] = []
        self._said: set[str] = set()
        self._lock = threading.Lock()
        #: the audit runs in two processes: the child checks the syntax of every module
        #: (`audit.parallel`), so neither side starts a syntax worker of its own
        self.split = False

    # -- problems ---------------------------------------------------------------------
    def problem(self, kind: str, path: str, message: str, line: int | None = None) -> None:
        """Record a reading problem once (the same file may be read by two areas)."""
        item = Problem(kind, path, message, line)
        with self._lock:
            if item not in self._problems:
                self._problems.append(item)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    # -- context ----------------------------------------------------------------------
    @property
    def context_explicit(self) -> frozenset[str]:
        """Context keys the team set (config or --context), as opposed to profile defaults.

        Some verdicts depend on it: "labels = true" said by the team turns "no labelling
        process found" from unknown into failed.
        """
        ctx: Context = self.settings.context
        keys = ("deployed", "personal_data", "labels", "features", "users", "model")
        said = {key for key in keys if getattr(ctx, key) is not None}
        return frozenset(said | self._said)

    def condition(self, name: str) -> bool:
        """Whether an applicability condition holds (unknown names hold).

        ``model`` is derived from the repository when the team has not said: the code
        imports an ML library outside tests, model files are present, or a DVC pipeline
        or mlsteward records exist. A library or a tool is not a model's repository.
        """
        if name in self.context:
            return self.context[name]
        if name == "model":
            said = self.settings.context.model
            value = said if said is not None else self._has_model()
            self.context["model"] = value
            return value
        return True

    def _has_model(self) -> bool:
        from mlsteward.audit.facts.mlcode import ML_LIBS

        libs = (
            *ML_LIBS, "transformers", "onnxruntime", "onnx", "mlflow", "skops",
            "flaml", "autogluon", "autosklearn",
        )  # fmt: skip
        if any(m.imports_any(*libs) for m in self.python.source_modules):
            return True
        weights = (".pt", ".pth", ".onnx", ".joblib", ".pkl", ".h5", ".keras", ".safetensors")
        if self.files.with_suffix(*weights, ".ckpt"):
            return True
        return self.dvc.present or self.records.present

    def set_context(self, values: dict[str, bool]) -> None:
        """Override context keys (from the command line); they count as said by the team."""
        self.context.update(values)
        self._said.update(values)

    @cached_property
    def context(self) -> dict[str, bool]:
        """Applicability conditions: what the config says, else the profile's default."""
        production = self.settings.profile == "production"
        ctx: Context = self.settings.context
        defaults = {
            "deployed": production,
            "personal_data": False,
            "labels": True,
            "features": True,
            "users": production,
        }
        return {
            key: default if getattr(ctx, key) is None else bool(getattr(ctx, key))
            for key, default in defaults.items()
        }

    # -- areas, each from its own module ----------------------------------------------
    @cached_property
    def files(self) -> FileIndex:
        from mlsteward.audit.facts.files import gather

        return gather(self)

    @cached_property
    def git(self) -> GitFacts:
        from mlsteward.audit.facts.git import gather

        return gather(self)

    @cached_property
    def deps(self) -> DepsFacts:
        from mlsteward.audit.facts.deps import gather

        return gather(self)

    @cached_property
    def ci(self) -> CIFacts:
        from mlsteward.audit.facts.ci import gather

        return gather(self)

    @cached_property
    def tools(self) -> ToolFacts:
        from mlsteward.audit.facts.tools import gather

        return gather(self)

    @cached_property
    def python(self) -> PythonFacts:
        from mlsteward.audit.facts.python import gather

        return gather(self)

    @cached_property
    def tests(self) -> TestFacts:
        from mlsteward.audit.facts.tests import gather

        return gather(self)

    @cached_property
    def dvc(self) -> DvcFacts:
        from mlsteward.audit.facts.dvc import gather

        return gather(self)

    @cached_property
    def deploy(self) -> DeployFacts:
        from mlsteward.audit.facts.deploy import gather

        return gather(self)

    @cached_property
    def docs(self) -> DocsFacts:
        from mlsteward.audit.facts.docs import gather

        return gather(self)

    @cached_property
    def records(self) -> RecordFacts:
        from mlsteward.audit.facts.records import gather

        return gather(self)
