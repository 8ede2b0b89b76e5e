"""A project: its root, its settings, and its workspace ``.steward/``.

The records (metadata store, object store) belong to a project. The root is found the
way git finds its own: walk up from the working directory to the nearest folder that
holds ``.steward/`` or ``steward.toml``; failing that, the nearest git work tree or
``pyproject.toml``; failing that, the working directory itself. ``STEWARD_PROJECT``
names the root outright.

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
        if path is None and os.environ.get("STEWARD_PROJECT"):
            root = Path(os.environ["STEWARD_PROJECT"]).resolve()
        else:
            start = Path(path if path is not None else Path.cwd()).resolve()
            if not start.exists():
                raise PathError(
                    f"project path {start} does not exist",
                    code="path-missing",
                    hint="pass the project's directory, or run from inside it",
                )
            root = _discover(start if start.is_dir() else start.parent)
        return cls(root=root, settings=load_settings(root))

    @property
    def workspace(self) -> Path:
        """``.steward/`` under the root: the default home of the store and the objects."""
        return self.root / WORKSPACE

    @property
    def store_url(self) -> str:
        """The metadata store's SQLAlchemy URL."""
        url = os.environ.get("STEWARD_STORE") or self.settings.store
        if url:
            return url
        return f"sqlite:///{self.workspace / 'steward.db'}"

    @property
    def objects_url(self) -> str:
        """The object store's fsspec URL (a local directory by default)."""
        url = os.environ.get("STEWARD_OBJECTS") or self.settings.objects
        return url or str(self.workspace / "objects")

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
        if not resolved.is_relative_to(self.root):
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


def _discover(start: Path) -> Path:
    for markers in _MARKERS:
        for folder in (start, *start.parents):
            if any((folder / marker).exists() for marker in markers):
                return folder
    return start
