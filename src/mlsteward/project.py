"""A project: its root, its settings, and its workspace ``.steward/``.

The records (metadata store, object store) belong to a project. The root is found the
way git finds its own: walk up from the working directory to the nearest folder that
holds ``.steward/`` or ``steward.toml`` (looking no higher than the top of the git work
tree); failing that, the nearest git work tree or ``pyproject.toml``; failing that, the
working directory itself. ``STEWARD_PROJECT`` names the root outright.

Where the records live is set by ``[tool.steward] store`` and ``objects`` (or the
``STEWARD_STORE`` / ``STEWARD_OBJECTS`` environment variables, which win, so that CI can
point a checkout at a team server); by default both sit in the workspace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlsteward.config import Settings, load_settings
from mlsteward.errors import PathError

__all__ = ["WORKSPACE", "Project"]

WORKSPACE = ".steward"
_MARKERS = ((WORKSPACE, "steward.toml"), (".git", "pyproject.toml"))


@dataclass(frozen=True)
class Project:
    """Where a project's records live; `Project.open` finds one, the constructor stores."""

    root: Path
    settings: Settings

    @classmethod
    def open(cls, path: str | Path | None = None) -> Project:
        """Find the project that ``path`` (default: the working directory) belongs to.

        Raises:
            ConfigError: the project's settings do not validate.
            PathError: ``path`` does not exist.
        """
        named = os.environ.get("STEWARD_PROJECT") if path is None else None
        start = Path(named or (path if path is not None else Path.cwd())).resolve()
        if not start.exists():
            raise PathError(
                f"project path {start} does not exist",
                code="path-missing",
                hint="unset STEWARD_PROJECT or fix it"
                if named
                else "pass the project's directory, or run from inside it",
            )
        if named:
            root = start if start.is_dir() else start.parent
        else:
            root = _discover(start if start.is_dir() else start.parent)
        return cls(root=root, settings=load_settings(root))

    @classmethod
    def of(cls, project: Project | str | Path | None) -> Project:
        """``project`` itself, or the project a path (None: the working directory) is in."""
        return project if isinstance(project, Project) else cls.open(project)

    @property
    def workspace(self) -> Path:
        """``.steward/`` under the root: the default home of the store and the objects."""
        return self.root / WORKSPACE

    @property
    def store_url(self) -> str:
        """The metadata store's SQLAlchemy URL; a relative SQLite path is under the root."""
        url = os.environ.get("STEWARD_STORE") or self.settings.store
        if not url:
            return f"sqlite:///{self.workspace / 'steward.db'}"
        scheme, sep, rest = url.partition(":///")
        if sep and scheme.partition("+")[0] == "sqlite" and _relative(rest):
            return f"{scheme}:///{self.root / rest}"
        return url

    @property
    def objects_url(self) -> str:
        """The object store's fsspec URL (a local directory by default, relative to the root)."""
        url = os.environ.get("STEWARD_OBJECTS") or self.settings.objects
        if not url:
            return str(self.workspace / "objects")
        return str(self.root / url) if "://" not in url and _relative(url) else url

    def ensure_workspace(self) -> Path:
        """Create ``.steward/`` (git-ignored as a whole, as DVC does ``.dvc/``); return it.

        The records describe the code; they are not part of it, and writing them must not
        make the work tree dirty.
        """
        self.workspace.mkdir(parents=True, exist_ok=True)
        ignore = self.workspace / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# mlsteward's records: kept out of git\n*\n", encoding="utf-8")
        return self.workspace

    def resolve(self, path: str | Path, *, must_exist: bool = True) -> Path:
        """Resolve a user's path (relative to the working directory) inside the root.

        Raises:
            PathError: the path does not exist, or resolves (links followed) outside the
                project's root.
        """
        resolved = Path(path).expanduser()
        if not resolved.is_absolute():
            resolved = Path.cwd() / resolved
        resolved = resolved.resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise PathError(
                f"{path} resolves to {resolved}, outside the project root {self.root}",
                code="path-outside",
                hint="records only hold files inside the project; copy the file in first",
            )
        if must_exist and not resolved.exists():
            raise PathError(
                f"{path} does not exist",
                code="path-missing",
                hint="check the spelling; paths are relative to the working directory",
            )
        return resolved

    def relative(self, path: Path) -> str:
        """``path`` (inside the root) as a POSIX path relative to the root."""
        return path.relative_to(self.root).as_posix() or "."


def _relative(path: str) -> bool:
    """Whether ``path`` is a relative filesystem path (not ``:memory:``, not a ``file:`` URI).

    Such a path is taken from the project's root, so the records do not move with the
    working directory.
    """
    return bool(path) and not Path(path).is_absolute() and not path.startswith((":", "file:"))


def _discover(start: Path) -> Path:
    folders = (start, *start.parents)
    # A workspace or steward.toml is looked for up to the top of the git work tree, not
    # above it: a stray ~/.steward must not swallow every repository under the home folder.
    top = next((i for i, f in enumerate(folders) if (f / ".git").exists()), len(folders) - 1)
    for markers, upto in ((_MARKERS[0], top + 1), (_MARKERS[1], len(folders))):
        for folder in folders[:upto]:
            if any((folder / marker).exists() for marker in markers):
                return folder
    return start
