"""The content-addressed object store (fsspec) and directory trees built on it."""

from __future__ import annotations

from mlsteward.artifacts.objects import ObjectInfo, ObjectStore
from mlsteward.project import Project

__all__ = ["ObjectInfo", "ObjectStore", "open_objects"]


def open_objects(project: Project) -> ObjectStore:
    """The project's object store (nothing is touched until it is used)."""
    if project.objects_url == str(project.workspace / "objects"):
        project.ensure_workspace()
    return ObjectStore(project.objects_url)
