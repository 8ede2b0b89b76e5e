"""What a run records about where it came from, captured without asking.

* **Code**: the git commit and branch, whether the work tree is dirty, and when it is a
  SHA-256 over ``git diff HEAD --binary`` and the names and contents of untracked files
  that are not ignored (so two runs with the same commit and the same edits share a diff
  hash, and any other edit changes it). ``.steward/`` is git-ignored by the workspace
  itself, so writing records never makes a tree dirty. No git, or not a repository:
  the fields are None, never an error.
* **Environment**: the lock file at the project root (the first of `LOCK_FILES`) and its
  SHA-256; the interpreter; the installed distributions as sorted JSON, stored once per
  hash (reading them is slow, so once per process).
* **Process**: host, user, pid and the pid's start time (how a crashed run is told from
  a live one, see `mlsteward.store.liveness`), and the command line with the values of
  arguments that look like secrets masked.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import platform
import re
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mlsteward._internal.git import run_git
from mlsteward.store.liveness import process_start

__all__ = [
    "LOCK_FILES",
    "Environment",
    "GitState",
    "Provenance",
    "capture",
    "command_line",
    "environment",
    "git_state",
    "lock_file",
]

LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "requirements.lock",
    "requirements.txt",
)
_SECRET = re.compile(r"password|passwd|token|secret|key", re.IGNORECASE)
_MASK = "***"
_GIT_TIMEOUT = 60.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class GitState:
    """The code a run ran: all None outside a git work tree."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_hash: str | None = None


@dataclass(frozen=True)
class Environment:
    """The interpreter and the installed distributions; ``hash`` is over both."""

    hash: str
    python: str
    packages: str  # JSON {name: version}, sorted


@dataclass(frozen=True)
class Provenance:
    """Everything `capture` records on a run row."""

    git: GitState
    lock_file: str | None
    lock_hash: str | None
    environment: Environment
    command: str
    host: str
    user: str
    pid: int
    pid_start: int | None

    def columns(self) -> dict[str, object]:
        """The run-row columns this fills."""
        return {
            "git_commit": self.git.commit,
            "git_branch": self.git.branch,
            "git_dirty": self.git.dirty,
            "git_diff_hash": self.git.diff_hash,
            "lock_file": self.lock_file,
            "lock_hash": self.lock_hash,
            "environment": self.environment.hash,
            "python": self.environment.python,
            "command": self.command,
            "host": self.host,
            "user": self.user,
            "pid": self.pid,
            "pid_start": self.pid_start,
        }


def capture(root: Path) -> Provenance:
    """Capture the provenance of a run started now, in this process, in project ``root``."""
    lock = lock_file(root)
    pid = os.getpid()
    return Provenance(
        git=git_state(root),
        lock_file=lock[0] if lock else None,
        lock_hash=lock[1] if lock else None,
        environment=environment(),
        command=command_line(sys.argv),
        host=socket.gethostname(),
        user=_user(),
        pid=pid,
        pid_start=process_start(pid),
    )


# -- git ------------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> bytes | None:
    return run_git(cwd, *args, timeout=_GIT_TIMEOUT)


def git_state(root: Path) -> GitState:
    """Commit, branch, dirty flag and diff hash of the work tree holding ``root``."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return GitState()
    work = Path(top.decode().strip())
    head = _git(work, "rev-parse", "--verify", "-q", "HEAD")
    commit = head.decode().strip() if head else None
    ref = _git(work, "symbolic-ref", "-q", "--short", "HEAD")
    branch = (ref.decode().strip() or None) if ref else None
    status = _git(work, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    if status is None:
        return GitState(commit, branch)
    if not status:
        return GitState(commit, branch, dirty=False)
    return GitState(commit, branch, dirty=True, diff_hash=_diff_hash(work, has_head=bool(commit)))


def _diff_hash(work: Path, *, has_head: bool) -> str | None:
    diff = _git(work, "diff", "HEAD" if has_head else "--cached", "--binary", "--no-ext-diff")
    untracked = _git(work, "ls-files", "--others", "--exclude-standard", "-z")
    if diff is None or untracked is None:
        return None
    digest = hashlib.sha256(b"diff\0")
    digest.update(diff)
    for name in sorted(n for n in untracked.split(b"\0") if n):
        digest.update(b"\0untracked\0" + name + b"\0")
        digest.update(_file_hash(work / os.fsdecode(name)).encode())
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, streamed; a link hashes its target's name, not its bytes."""
    digest = hashlib.sha256()
    try:
        if path.is_symlink():
            digest.update(b"link\0" + os.fsencode(path.readlink()))
        else:
            with path.open("rb") as fh:
                while block := fh.read(_CHUNK):
                    digest.update(block)
    except OSError as exc:  # vanished or unreadable while we looked: still say so
        digest.update(f"unreadable: {exc.strerror}".encode())
    return digest.hexdigest()


# -- environment ----------------------------------------------------------------------------


def lock_file(root: Path) -> tuple[str, str] | None:
    """The project's lock file (its name relative to the root) and its SHA-256."""
    for name in LOCK_FILES:
        path = root / name
        if path.is_file():
            return name, _file_hash(path)
    return None


_ENVIRONMENT: list[Environment] = []


def environment() -> Environment:
    """This interpreter and its installed distributions (read once per process)."""
    if not _ENVIRONMENT:
        python = f"{platform.python_implementation()} {platform.python_version()}"
        packages: dict[str, str] = {}
        for dist in metadata.distributions():
            name = dist.metadata["Name"]
            if name and name not in packages:  # the first on sys.path is the one imported
                packages[name] = dist.version
        text = json.dumps(dict(sorted(packages.items())), separators=(",", ":"))
        digest = hashlib.sha256(f"{python}\n{text}".encode()).hexdigest()
        _ENVIRONMENT.append(Environment(digest, python, text))
    return _ENVIRONMENT[0]


# -- process --------------------------------------------------------------------------------


def command_line(argv: Sequence[str]) -> str:
    """``argv`` as one shell-quoted line, with the values of secret-looking arguments masked.

    ``--api-key=abc`` becomes ``--api-key=***``, ``--token abc`` becomes ``--token ***``
    and ``password=abc`` becomes ``password=***``: any argument whose name holds
    password, token, secret or key.
    """
    parts: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            parts.append(_MASK)
            mask_next = False
            continue
        name, eq, _value = arg.partition("=")
        if eq and _SECRET.search(name) and not name.startswith("="):
            parts.append(f"{shlex.quote(name)}={_MASK}")
        elif arg.startswith("-") and _SECRET.search(arg):
            parts.append(shlex.quote(arg))
            mask_next = True
        else:
            parts.append(shlex.quote(arg))
    return " ".join(parts)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
