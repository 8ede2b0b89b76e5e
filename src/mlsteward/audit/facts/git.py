"""Git facts: is this a work tree, its commit and branch, remotes, LFS, large blobs in history.

Read with the ``git`` command (never a library that might run hooks); every call has a
timeout, and a repository that is not a git work tree simply has ``is_repo = False``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["LARGE_BLOB_BYTES", "Blob", "GitFacts", "gather"]
from mlsteward._internal.git import run_git

#: a blob at least this large in history is "large" (mllint's default was 10 MB)
LARGE_BLOB_BYTES = 10_000_000
_TIMEOUT = 30


def _git(root: Path, *args: str, timeout: float = _TIMEOUT) -> str | None:
    out = run_git(root, *args, timeout=timeout)
    return None if out is None else out.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Blob:
    oid: str
    size: int
    path: str


@dataclass
class GitFacts:
    root: Path
    is_repo: bool
    commit: str | None = None
    branch: str | None = None
    default_branch: str | None = None
    remotes: dict[str, str] = field(default_factory=dict)
    lfs_patterns: tuple[str, ...] = ()
    commit_count: int | None = None

    @property
    def host(self) -> str | None:
        """The hosting platform of the first remote: github, gitlab, bitbucket, azure."""
        for url in self.remotes.values():
            for host in ("github", "gitlab", "bitbucket", "dev.azure", "visualstudio"):
                if host in url:
                    return "azure" if host in ("dev.azure", "visualstudio") else host
        return None

    @cached_property
    def large_blobs(self) -> list[Blob]:
        """Blobs of at least `LARGE_BLOB_BYTES` anywhere in history (deduplicated by id)."""
        if not self.is_repo:
            return []
        try:
            objects = subprocess.run(
                ["git", "-C", str(self.root), "rev-list", "--objects", "--all"],
                capture_output=True,
                timeout=120,
                check=True,
            ).stdout
            sized = subprocess.run(
                [
                    "git",
                    "-C",
                    str(self.root),
                    "cat-file",
                    "--batch-check=%(objecttype) %(objectname) %(objectsize) %(rest)",
                ],
                input=objects,
                capture_output=True,
                timeout=120,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        out: dict[str, Blob] = {}
        for line in sized.decode("utf-8", errors="replace").splitlines():
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[0] != "blob":
                continue
            size = int(parts[2])
            if size >= LARGE_BLOB_BYTES and parts[1] not in out:
                out[parts[1]] = Blob(parts[1], size, parts[3] if len(parts) > 3 else "")
        return sorted(out.values(), key=lambda b: -b.size)


def gather(facts: Facts) -> GitFacts:
    root = facts.root
    if not (root / ".git").exists():
        return GitFacts(root, False)
    head = _git(root, "rev-parse", "HEAD")
    if head is None and _git(root, "rev-parse", "--git-dir") is None:
        return GitFacts(root, False)
    branch = (_git(root, "symbolic-ref", "--short", "-q", "HEAD") or "").strip() or None
    remotes: dict[str, str] = {}
    for line in (_git(root, "remote", "-v") or "").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            remotes.setdefault(parts[0], parts[1])
    origin_head = (_git(root, "symbolic-ref", "-q", "refs/remotes/origin/HEAD") or "").strip()
    default = origin_head.rsplit("/", 1)[-1] if origin_head else branch
    count = _git(root, "rev-list", "--count", "HEAD")
    lfs: list[str] = []
    if facts.files.exists(".gitattributes"):
        for line in (facts.files.read_text(".gitattributes") or "").splitlines():
            if "filter=lfs" in line and not line.lstrip().startswith("#"):
                lfs.append(line.split()[0])
    return GitFacts(
        root,
        True,
        commit=head.strip() if head else None,
        branch=branch,
        default_branch=default,
        remotes=remotes,
        lfs_patterns=tuple(lfs),
        commit_count=int(count) if count and count.strip().isdigit() else None,
    )
