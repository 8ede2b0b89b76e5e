"""Directory trees in the object store: a manifest object that lists member objects.

A directory is stored as one object per file plus a *manifest*, canonical JSON (UTF-8,
keys sorted, no spaces, files sorted by path)::

    {"files":[{"hash":"<sha256>","path":"a/b.csv","size":123},...],"format":"steward-tree/1"}

The tree's address is the manifest's hash, so two directories with the same files at
the same paths share one address. Only regular files are recorded (empty directories
are not, as in git); a symbolic link, FIFO, socket or device inside the directory is an
error (``data-not-regular``) rather than something followed or skipped, since either
would record a dataset other than the one on disk.

A directory that changes while it is added (a file written, added or removed) is
detected: each file's stat is taken before it is read and compared after, and the
directory is listed again at the end; any difference raises ``data-changed`` and no
tree is returned (objects already written stay for ``steward gc``).

Reading a manifest back is strict: a tampered or foreign manifest (an absolute path,
``..``, a backslash, a duplicate, a malformed hash) is refused as ``manifest-invalid``;
checkout also checks that every resolved target stays inside its destination.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlsteward.artifacts.hashcache import HashCache, stat_key
from mlsteward.artifacts.objects import CHUNK, ObjectInfo, ObjectStore
from mlsteward.errors import IntegrityError, NotFoundError, PathError, RecordError

__all__ = [
    "FORMAT",
    "CheckoutResult",
    "Progress",
    "TreeEntry",
    "TreeInfo",
    "checkout_file",
    "checkout_tree",
    "manifest_bytes",
    "parse_manifest",
    "put_file_checked",
    "put_tree",
    "read_tree",
    "scan",
]

FORMAT = "steward-tree/1"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class Progress(Protocol):
    """Reports a transfer: its total once, then the bytes as they go."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


@dataclass(frozen=True)
class TreeEntry:
    """One file of a tree: its POSIX path relative to the tree's root, size and hash."""

    path: str
    size: int
    hash: str


@dataclass(frozen=True)
class TreeInfo:
    """A stored tree: the manifest's address, the files' total size and their count."""

    digest: str
    size: int
    files: int


@dataclass(frozen=True)
class StoredPath:
    """A file or a directory put in the object store: its address and what it holds."""

    digest: str
    size: int
    files: int
    is_tree: bool


@dataclass(frozen=True)
class CheckoutResult:
    """What a checkout did: files written, and files already right (left alone)."""

    written: int
    unchanged: int


# -- adding ---------------------------------------------------------------------------------


def changed_error(what: str) -> RecordError:
    """The error for data that changed under an add."""
    return RecordError(
        f"{what} changed while it was being added; nothing was recorded",
        code="data-changed",
        hint="stop the process writing to it, or add a snapshot (a copy) of it",
    )


def scan(root: Path) -> list[tuple[str, Path, os.stat_result]]:
    """Every regular file under ``root``: (relative POSIX path, path, lstat), by path.

    Raises:
        RecordError: a symlink or special file inside (``data-not-regular``), or a name
            that cannot be recorded portably (``data-file-name``).
    """
    found: list[tuple[str, Path, os.stat_result]] = []
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError as exc:
            raise changed_error(str(folder)) from exc
        for entry in entries:
            rel = prefix + entry.name
            _check_name(rel)
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append((Path(entry.path), rel + "/"))
            elif stat.S_ISREG(st.st_mode):
                found.append((rel, Path(entry.path), st))
            else:
                kind = "symbolic link" if stat.S_ISLNK(st.st_mode) else "special file"
                raise RecordError(
                    f"{entry.path} is a {kind}; a dataset holds regular files only",
                    code="data-not-regular",
                    hint="replace the link with the file it points to (cp -L), or add its "
                    "target on its own",
                )
    found.sort(key=lambda item: item[0])
    return found


def _check_name(rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        bad = True
    else:
        bad = "\\" in rel
    if bad:
        raise RecordError(
            f"the file name {rel!r} cannot be recorded (not UTF-8, or holds a backslash)",
            code="data-file-name",
            hint="rename the file; names must be UTF-8 without backslashes to check out "
            "the same on every system",
        )


def put_file_checked(
    objects: ObjectStore,
    path: Path,
    before: os.stat_result,
    *,
    cache: HashCache | None = None,
    progress: Progress | None = None,
) -> ObjectInfo:
    """Store one file whose lstat was ``before``; raise ``data-changed`` if it moved on.

    With a ``cache``, a file whose stat matches a recorded hash is not read again,
    provided its object is still in the store.
    """
    started = time.time()
    digest = cache.get(path, before) if cache is not None else None
    info: ObjectInfo | None = None
    if digest is not None:
        try:
            objects.touch(digest)  # present, and young again for gc's grace period
            info = ObjectInfo(digest, before.st_size)
            if progress is not None:
                progress.advance(before.st_size)
        except NotFoundError:
            info = None
    if info is None:
        info = objects.put_file(path, progress=progress.advance if progress else None)
    try:
        after = os.lstat(path)
    except FileNotFoundError as exc:
        raise changed_error(str(path)) from exc
    if stat_key(after) != stat_key(before) or info.size != before.st_size:
        raise changed_error(str(path))
    if cache is not None:
        cache.put(path, before, info.digest, started)
    return info


def put_tree(
    objects: ObjectStore,
    root: Path,
    *,
    progress: Progress | None = None,
    cache: HashCache | None = None,
) -> TreeInfo:
    """Store every file under ``root`` and a manifest of them; return the tree.

    Raises:
        RecordError: ``data-changed``, ``data-not-regular`` or ``data-file-name``.
    """
    listing = scan(root)
    if progress is not None:
        progress.start(sum(st.st_size for _, _, st in listing))
    entries = []
    for rel, path, st in listing:
        info = put_file_checked(objects, path, st, cache=cache, progress=progress)
        entries.append(TreeEntry(rel, info.size, info.digest))
    again = scan(root)
    if [(r, stat_key(s)) for r, _, s in again] != [(r, stat_key(s)) for r, _, s in listing]:
        before = {r: stat_key(s) for r, _, s in listing}
        after = {r: stat_key(s) for r, _, s in again}
        diff = sorted(set(before.items()) ^ set(after.items()))
        raise changed_error(f"{root} ({diff[0][0]} and {len(diff) - 1} more)")
    # An add that outlasts gc's grace period must find its early objects still there.
    for digest in {e.hash for e in entries}:
        objects.touch(digest)
    manifest = objects.put_bytes(manifest_bytes(entries))
    return TreeInfo(manifest.digest, sum(e.size for e in entries), len(entries))


def put_path(
    objects: ObjectStore,
    path: Path,
    *,
    progress: Progress | None = None,
    cache: HashCache | None = None,
) -> StoredPath:
    """Store a regular file (as one object) or a directory (as a tree); return it.

    Raises:
        RecordError: ``data-changed`` while it was read; ``data-not-regular`` for a link,
            a device, a FIFO or a socket; ``data-file-name`` inside a directory.
    """
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        tree = put_tree(objects, path, progress=progress, cache=cache)
        return StoredPath(tree.digest, tree.size, tree.files, True)
    if stat.S_ISREG(st.st_mode):
        if progress is not None:
            progress.start(st.st_size)
        info = put_file_checked(objects, path, st, cache=cache, progress=progress)
        return StoredPath(info.digest, info.size, 1, False)
    raise RecordError(
        f"{path} is neither a regular file nor a directory",
        code="data-not-regular",
        hint="copy the data into a regular file first",
    )


def manifest_bytes(entries: list[TreeEntry]) -> bytes:
    """The canonical manifest of ``entries`` (sorted here; the caller need not)."""
    files = [
        {"hash": e.hash, "path": e.path, "size": e.size}
        for e in sorted(entries, key=lambda e: e.path)
    ]
    doc = {"files": files, "format": FORMAT}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- reading --------------------------------------------------------------------------------


def read_tree(objects: ObjectStore, digest: str) -> list[TreeEntry]:
    """The files of the tree at ``digest``, validated.

    Raises:
        NotFoundError: the manifest is not in the store (``object-missing``).
        IntegrityError: its bytes do not match (``object-corrupt``) or it is not a
            valid manifest (``manifest-invalid``).
    """
    return parse_manifest(objects.read_bytes(digest), digest)


def parse_manifest(data: bytes, digest: str = "?") -> list[TreeEntry]:
    """Validate manifest bytes strictly; see `read_tree`."""

    def bad(why: str) -> IntegrityError:
        return IntegrityError(
            f"object {digest} is not a valid tree manifest: {why}",
            code="manifest-invalid",
            hint="it was not written by mlsteward; restore the object store from a copy "
            "(`steward verify` lists what else is affected)",
        )

    try:
        doc: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad("not UTF-8 JSON") from exc
    if not isinstance(doc, dict) or set(doc) != {"files", "format"}:
        raise bad("expected an object with exactly 'format' and 'files'")
    if doc["format"] != FORMAT:
        raise bad(f"format {doc['format']!r}; expected {FORMAT!r}")
    if not isinstance(doc["files"], list):
        raise bad("'files' is not a list")
    entries: list[TreeEntry] = []
    for item in doc["files"]:
        if not isinstance(item, dict) or set(item) != {"hash", "path", "size"}:
            raise bad("a file entry does not have exactly 'path', 'size' and 'hash'")
        path, size, sha = item["path"], item["size"], item["hash"]
        if not isinstance(path, str) or not _safe_path(path):
            raise bad(f"unsafe path {path!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad(f"size {size!r} of {path!r} is not a byte count")
        if not isinstance(sha, str) or not _DIGEST.fullmatch(sha):
            raise bad(f"hash {sha!r} of {path!r} is not a sha256 address")
        entries.append(TreeEntry(path, size, sha))
    paths = [e.path for e in entries]
    if len(set(paths)) != len(paths):
        raise bad("a path is listed twice")
    folders = {p.rsplit("/", i)[0] for p in paths for i in range(1, p.count("/") + 1)}
    if folders & set(paths):
        raise bad("a path is both a file and a folder")
    if manifest_bytes(entries) != data:
        raise bad("not in canonical form")
    return entries


def _safe_path(path: str) -> bool:
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


# -- checkout -------------------------------------------------------------------------------


def _same_content(path: Path, size: int, digest: str) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size != size:
        return False
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest() == digest


def _inside(target: Path, dest_real: Path) -> None:
    if not target.resolve().is_relative_to(dest_real):
        raise PathError(
            f"{target} resolves outside {dest_real}; nothing is written there",
            code="path-outside",
            hint="a symbolic link in the destination leads out of it; remove the link",
        )


def _conflict(paths: list[str], dest: Path) -> PathError:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return PathError(
        f"checkout into {dest} would overwrite files that differ from the version: {shown}",
        code="checkout-conflict",
        hint="save your changes elsewhere, or pass --force to overwrite them",
    )


def _blocker(target: Path, dest: Path) -> Path | None:
    """A non-directory on the way from ``dest`` to ``target``'s folder, if any."""
    for parent in reversed(target.relative_to(dest).parents):
        here = dest / parent
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            return here
    return None


def checkout_tree(
    objects: ObjectStore,
    digest: str,
    dest: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Materialise the tree at ``digest`` under ``dest``, each file verified and atomic.

    Files already right are left alone; files that differ are a ``checkout-conflict``
    unless ``force`` (checked for every file before anything is written). Files under
    ``dest`` that the tree does not list are kept. A directory in the way of a file is
    never removed, even with ``force``.
    """
    entries = read_tree(objects, digest)
    dest = dest.absolute()
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        if not force:
            raise _conflict([str(dest)], dest)
        dest.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    dest_real = dest.resolve()
    todo: list[TreeEntry] = []
    conflicts: list[str] = []
    blockers: set[Path] = set()
    for entry in entries:
        target = dest / entry.path
        _inside(target, dest_real)
        blocker = _blocker(target, dest)
        if blocker is not None:
            blockers.add(blocker)
            conflicts.append(entry.path)
            todo.append(entry)
        elif target.is_dir() and not target.is_symlink():
            raise PathError(
                f"{target} is a directory where the version has a file",
                code="checkout-conflict",
                hint="move the directory away; checkout never deletes directories",
            )
        elif not _same_content(target, entry.size, entry.hash):
            if target.exists() or target.is_symlink():
                conflicts.append(entry.path)
            todo.append(entry)
    if conflicts and not force:
        raise _conflict(conflicts, dest)
    for blocker in sorted(blockers, key=lambda p: len(p.parts)):
        if blocker.exists() or blocker.is_symlink():
            blocker.unlink()
    if progress is not None:
        progress.start(sum(e.size for e in todo))
    for entry in todo:
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        _inside(target, dest_real)  # again: the folders now exist
        objects.copy_to(entry.hash, target, progress=progress.advance if progress else None)
    return CheckoutResult(len(todo), len(entries) - len(todo))


def checkout_file(
    objects: ObjectStore,
    digest: str,
    size: int,
    dest: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Write the object ``digest`` to ``dest`` (verified, atomic); see `checkout_tree`."""
    if dest.is_dir() and not dest.is_symlink():
        raise PathError(
            f"{dest} is a directory where the version has a file",
            code="checkout-conflict",
            hint="pass --to with a file name, or move the directory away",
        )
    if _same_content(dest, size, digest):
        return CheckoutResult(0, 1)
    if (dest.exists() or dest.is_symlink()) and not force:
        raise _conflict([dest.name], dest.parent)
    if progress is not None:
        progress.start(size)
    objects.copy_to(digest, dest, progress=progress.advance if progress else None)
    return CheckoutResult(1, 0)
