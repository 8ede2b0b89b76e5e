"""Imports resolved to the repository's own modules, by dotted name.

A dotted name is looked up from the root, from ``src/``, from the folder above each
top-level package, and, for code that puts a folder on ``sys.path`` itself, by a unique
dotted suffix. ``from pkg import name`` where ``pkg/__init__.py`` re-exports ``name`` from
a submodule resolves to that submodule. Relative imports are made absolute first.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts.python import Module

__all__ = [
    "ImportResolver",
    "absolute_imports",
    "from_imports",
    "imported_names",
    "index_modules",
]

_STDLIB = frozenset(sys.stdlib_module_names)


def index_modules(
    source: Iterable[Module], files: set[str]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Dotted name -> module path (exact), and dotted suffix -> paths (for sys.path tricks)."""
    exact: dict[str, str] = {}
    rooted: dict[str, list[str]] = {}
    suffix: dict[str, list[str]] = {}
    for m in source:
        parts = m.path.rpartition(".")[0].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts:
            continue
        exact.setdefault(m.dotted, m.path)
        # the folder above the outermost package is an import root (python/pkg/__init__.py)
        i = len(parts) - 1
        while i > 0 and "/".join(parts[:i]) + "/__init__.py" in files:
            i -= 1
        rooted.setdefault(".".join(parts[i:]), []).append(m.path)
        for j in range(len(parts)):
            suffix.setdefault(".".join(parts[j:]), []).append(m.path)
    for name, paths in rooted.items():
        if len(paths) == 1 and name not in exact:
            exact[name] = paths[0]
    return exact, suffix


_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#;]*))", re.M
)


def from_imports(module: Module, *, relative: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """``from .x import a as b`` read from the text, made absolute: [(package.x, [(a, b)])].

    Only relative imports when ``relative``; otherwise absolute ones too.
    """
    if relative and "from ." not in module.source:
        return []
    dotted = module.dotted
    package = dotted if module.path.endswith("__init__.py") else dotted.rpartition(".")[0]
    out = []
    for dots, name, grouped, plain in _FROM.findall(module.source):
        if relative and not dots:
            continue
        if dots:
            base = package.rsplit(".", len(dots) - 1)[0] if len(dots) > 1 else package
            target = ".".join(p for p in (base, name) if p)
        else:
            target = name
        pairs = []
        for part in (grouped or plain).replace("\\\n", " ").split(","):
            words = part.split()
            if words and words[0].isidentifier():
                pairs.append(
                    (words[0], words[2] if len(words) == 3 and words[1] == "as" else words[0])
                )
        out.append((target, pairs))
    return out


def absolute_imports(module: Module) -> set[str]:
    """The module's imports with relative ones made absolute (``from .x import y``)."""
    names = {n for n in module.imports if not n.startswith(".")}
    for target, what in from_imports(module, relative=True):
        if target:
            names.add(target)
            names.update(f"{target}.{name}" for name, _ in what)
    return names


class ImportResolver:
    """Resolves dotted names a module imports to the project modules that define them."""

    def __init__(self, source: list[Module], files: set[str]) -> None:
        self.exact, self.suffix = index_modules(source, files)
        self.by_path = {m.path: m for m in source}
        self._reexports: dict[str, dict[str, str]] = {}

    def module(self, name: str) -> str | None:
        if name in self.exact:
            return self.exact[name]
        if name.split(".")[0] in _STDLIB:
            return None
        paths = self.suffix.get(name, [])
        return paths[0] if len(paths) == 1 else None

    def reexports(self, path: str) -> dict[str, str]:
        """For a package ``__init__``: name it binds -> the project submodule that defines it."""
        if path in self._reexports:
            return self._reexports[path]
        out: dict[str, str] = {}
        init = self.by_path.get(path)
        if init is not None and init.path.endswith("__init__.py"):
            for target, names in from_imports(init, relative=False):
                sub = self.module(target)
                for name, bound in names:
                    hit = sub or self.module(f"{target}.{name}")
                    if hit is not None and hit != path:
                        out.setdefault(bound, hit)
        self._reexports[path] = out
        return out

    def resolve(self, names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            if name.startswith("."):
                continue
            path = self.module(name)
            if path is not None:
                out.add(path)
                continue
            parent, _, attr = name.rpartition(".")
            parent_path = self.module(parent) if parent else None
            if parent_path is not None:
                sub = self.reexports(parent_path).get(attr)
                if sub is not None:
                    out.add(sub)
        return out


def imported_names(module: Module, heads: frozenset[str]) -> set[str]:
    """Imported names, plus dotted uses of imported project packages (``pkg.mod.f()``)."""
    names = absolute_imports(module)
    for head in heads & {n.split(".")[0] for n in names}:
        if head + "." not in module.source:
            continue
        for use in re.findall(rf"(?<![\w.]){re.escape(head)}(?:\.\w+)+", module.source):
            parts = use.split(".")
            names.update(".".join(parts[: i + 1]) for i in range(1, len(parts)))
    return names
