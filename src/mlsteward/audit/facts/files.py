"""The file index: which files the repository has, honouring .gitignore, never following links.

In a git work tree the index is what ``git ls-files`` reports (tracked files plus untracked
ones that are not ignored), which is exact and fast. Elsewhere the tree is walked and every
``.gitignore`` on the way is applied. In both cases:

- symbolic links are recorded, never followed or read; one that points out of the root,
  or nowhere, is reported as a problem;
- a file is read only through `FileIndex.read_text`, which refuses binary files, files over
  `MAX_TEXT_BYTES`, undecodable bytes, and any path that resolves outside the root.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["MAX_TEXT_BYTES", "SKIP_DIRS", "FileIndex", "gather"]

#: text files larger than this are not read (a 2 MB Python file is generated, not written)
MAX_TEXT_BYTES = 2_000_000

#: directories that are never project source, even when not ignored
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".env",
        "env",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".ipynb_checkpoints",
        "site-packages",
        ".steward",
        ".dvc/cache",
        ".eggs",
    }
)

_GIT_TIMEOUT = 60


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob where ``**`` spans directories and ``*`` does not."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE)


@cache
def _name_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()))


def glob_match(path: str, pattern: str) -> bool:
    """Match a posix path against a glob; a pattern without ``/`` matches the basename."""
    if "/" not in pattern:
        return bool(_name_regex(pattern).match(path.rsplit("/", 1)[-1].lower()))
    return bool(_glob_regex(pattern.lstrip("/")).match(path))


@dataclass
class FileIndex:
    """The repository's files as posix paths relative to the root, sorted."""

    root: Path
    files: tuple[str, ...]
    sizes: dict[str, int]
    tracked: frozenset[str] | None = None
    links: tuple[str, ...] = ()
    facts: Facts | None = field(default=None, repr=False)
    _text: dict[str, str | None] = field(default_factory=dict, repr=False)
    _anchors: dict[tuple[str, ...], str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._set = frozenset(self.files)
        self._lower = {f.lower(): f for f in self.files}
        dirs: set[str] = set()
        for f in self.files:
            cut = f.rfind("/")
            while cut > 0:
                parent = f[:cut]
                if parent in dirs:
                    break
                dirs.add(parent)
                cut = parent.rfind("/")
        self.dirs = frozenset(dirs)
        self._names = [f.rsplit("/", 1)[-1].lower() for f in self.files]

    def __len__(self) -> int:
        return len(self.files)

    def exists(self, rel: str) -> bool:
        return rel in self._set

    def find(self, rel: str) -> str | None:
        """The path as stored, matched case-insensitively (README.md vs readme.md)."""
        return rel if rel in self._set else self._lower.get(rel.lower())

    def is_dir(self, rel: str) -> bool:
        return rel.rstrip("/") in self.dirs

    def size(self, rel: str) -> int:
        return self.sizes.get(rel, 0)

    def is_tracked(self, rel: str) -> bool:
        """Whether git tracks the file; outside git every file counts as tracked."""
        return self.tracked is None or rel in self.tracked

    def glob(self, *patterns: str) -> list[str]:
        """Files matching any pattern (``**`` spans folders; no ``/`` matches basenames)."""
        names = [_name_regex(p) for p in patterns if "/" not in p]
        paths = [_glob_regex(p.lstrip("/")) for p in patterns if "/" in p]
        out = []
        for f, base in zip(self.files, self._names, strict=True):
            if any(rx.match(base) for rx in names) or any(rx.match(f) for rx in paths):
                out.append(f)
        return out

    def named(self, *names: str) -> list[str]:
        """Files whose basename is one of ``names`` (case-insensitive)."""
        wanted = {n.lower() for n in names}
        return [f for f, base in zip(self.files, self._names, strict=True) if base in wanted]

    def with_suffix(self, *suffixes: str) -> list[str]:
        wanted = tuple(s.lower() for s in suffixes)
        return [f for f in self.files if f.lower().endswith(wanted)]

    def under(self, prefix: str) -> list[str]:
        prefix = prefix.rstrip("/") + "/"
        return [f for f in self.files if f.startswith(prefix)]

    def anchor(self, *candidates: str) -> str | None:
        """A real file to pin a repository-level finding on (SARIF needs one).

        The first candidate that exists (globs allowed), else the README, pyproject.toml,
        setup.py, or the first file of the repository; None only for an empty one.
        Answers are cached per question.
        """
        key = tuple(candidates)
        if key not in self._anchors:
            self._anchors[key] = self._anchor(*candidates)
        return self._anchors[key]

    def _anchor(self, *candidates: str) -> str | None:
        """A real file to pin a repository-level finding on (SARIF needs one).

        The first candidate that exists (globs allowed), else the README, pyproject.toml,
        setup.py, or the first file of the repository; None only for an empty one.
        """
        for pattern in (
            *candidates,
            "README*",
            "readme*",
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
        ):
            hits = (
                self.glob(pattern)
                if any(ch in pattern for ch in "*?[")
                else ([found] if (found := self.find(pattern)) else [])
            )
            if hits:
                return sorted(hits, key=lambda f: (f.count("/"), f))[0]
        return self.files[0] if self.files else None

    def read_text(self, rel: str, *, limit: int = MAX_TEXT_BYTES) -> str | None:
        """The file's text, or None (with a problem recorded) when it cannot be read safely."""
        if rel in self._text:
            return self._text[rel]
        text = self._read(rel, limit)
        self._text[rel] = text
        return text

    def _read(self, rel: str, limit: int) -> str | None:
        if rel not in self._set:
            return None
        path = self.root / rel
        try:
            # resolve and check: a path that escapes the root is never read
            real = path.resolve(strict=True)
            real.relative_to(self.root)
            if self.sizes.get(rel, 0) > limit:
                self._problem("too-large", rel, f"not read: {self.sizes[rel]:,} bytes > {limit:,}")
                return None
            data = real.read_bytes()
        except (OSError, ValueError) as exc:
            self._problem("unreadable", rel, f"cannot read: {exc}")
            return None
        if b"\0" in data[:8192]:
            self._problem("unreadable", rel, "binary content where text was expected")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self._problem("unreadable", rel, "not valid UTF-8; read with replacement characters")
            return data.decode("utf-8", errors="replace")

    def _problem(self, kind: str, rel: str, message: str) -> None:
        if self.facts is not None:
            self.facts.problem(kind, rel, message)


# -- gathering ---------------------------------------------------------------------------------


def _skipped(rel: str, excludes: Iterable[str]) -> bool:
    parts = rel.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in SKIP_DIRS or "/".join(parts[: i + 1]) in SKIP_DIRS:
            return True
    return any(glob_match(rel, p) or glob_match(rel, p.rstrip("/") + "/**") for p in excludes)


def _git_list(root: Path, *args: str) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", *args],
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [p for p in out.decode("utf-8", errors="replace").split("\0") if p]


def _is_git_root(root: Path) -> bool:
    return (root / ".git").exists()


def _from_git(root: Path) -> tuple[list[str], frozenset[str]] | None:
    tracked = _git_list(root)
    if tracked is None:
        return None
    others = _git_list(root, "--others", "--exclude-standard")
    return sorted(set(tracked) | set(others or ())), frozenset(tracked)


def _walk(root: Path, facts: Facts | None) -> list[str]:
    """Walk without git, applying each directory's .gitignore; links are returned as-is."""
    from pathspec import GitIgnoreSpec

    out: list[str] = []
    # (directory prefix, spec) for every .gitignore above the current directory
    stack: list[tuple[str, GitIgnoreSpec]] = []

    def ignored(rel: str, is_dir: bool) -> bool:
        for prefix, spec in stack:
            if prefix and not rel.startswith(prefix + "/"):
                continue
            sub = rel[len(prefix) + 1 :] if prefix else rel
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False

    def visit(directory: Path, rel_dir: str, seen: set[tuple[int, int]]) -> None:
        try:
            st = directory.stat()
        except OSError:
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a loop through hard links or bind mounts
            return
        seen = seen | {key}
        pushed = False
        gi = directory / ".gitignore"
        if gi.is_file() and not gi.is_symlink():
            try:
                spec = GitIgnoreSpec.from_lines(
                    gi.read_text(encoding="utf-8", errors="replace").splitlines()
                )
                stack.append((rel_dir, spec))
                pushed = True
            except (OSError, ValueError) as exc:
                if facts is not None:
                    facts.problem(
                        "config", f"{rel_dir}/.gitignore".lstrip("/"), f"bad .gitignore: {exc}"
                    )
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            if facts is not None:
                facts.problem("unreadable", rel_dir or ".", f"cannot list directory: {exc}")
            entries = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                if not ignored(rel, False):
                    out.append(rel)
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS or ignored(rel, True):
                    continue
                visit(Path(entry.path), rel, seen)
            elif entry.is_file(follow_symlinks=False) and not ignored(rel, False):
                out.append(rel)
        if pushed:
            stack.pop()

    visit(root, "", set())
    return out


def gather(facts: Facts) -> FileIndex:
    """Index the files under ``facts.root``."""
    root = facts.root
    excludes = facts.settings.audit.exclude
    listed = _from_git(root) if _is_git_root(root) else None
    tracked: frozenset[str] | None = None
    if listed is not None:
        names, tracked = listed
    else:
        names = _walk(root, facts)
    files: list[str] = []
    links: list[str] = []
    sizes: dict[str, int] = {}
    for rel in names:
        if _skipped(rel, excludes):
            continue
        path = root / rel
        try:
            st = path.lstat()
        except OSError:
            continue  # listed by git but deleted in the work tree
        if stat.S_ISLNK(st.st_mode):
            links.append(rel)
            _check_link(facts, root, rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        files.append(rel)
        sizes[rel] = st.st_size
    return FileIndex(root, tuple(sorted(files)), sizes, tracked, tuple(links), facts)


def _check_link(facts: Facts, root: Path, rel: str) -> None:
    path = root / rel
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        facts.problem("link", rel, "symbolic link that is broken or loops; not followed")
        return
    try:
        target.relative_to(root)
    except ValueError:
        facts.problem("link", rel, "symbolic link pointing outside the repository; not followed")
