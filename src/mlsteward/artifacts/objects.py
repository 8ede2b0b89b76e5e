"""The content-addressed object store, over fsspec.

An object's address is the SHA-256 of its bytes, in lower-case hex (64 digits); it is
stored at ``ROOT/sha256/<first 2 digits>/<other 62>``. Addresses are the only keys: a
caller can never make the store resolve a path of its choosing, since anything that is
not 64 hex digits is refused before a path is built.

Writing streams the source in 4 MiB chunks through the hash into a temporary object,
fsyncs it and renames it into place, so a reader never sees half an object (not even
after a power cut) and memory stays flat whatever the size; an object already present
is not written twice (its modification time is refreshed instead, so a concurrent
``steward gc`` counts it as young). A local file is copied by the kernel
(``copy_file_range``, a reflink where the filesystem can) and the hash is computed over
the *copy*, never over the source: the stored bytes are the hashed bytes even if the
source changes meanwhile. Reading verifies the hash as the bytes go by: `copy_to` and
`read_bytes` hand out nothing that failed to verify (`IntegrityError`, code
``object-corrupt``).

The local filesystem (the default, ``.steward/objects``) takes a fast path through the
os module; any other fsspec URL (``s3://``, ``gs://``, ``memory://``, ...) goes through
fsspec's generic file interface.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlsteward.errors import ConfigError, IntegrityError, NotFoundError, ObjectStoreError

__all__ = ["ALGORITHM", "CHUNK", "ObjectInfo", "ObjectStore", "check_digest"]

ALGORITHM = "sha256"
CHUNK = 4 << 20
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TMP = "incoming"  # objects being written; renamed into place when complete
_COPY_RANGE = hasattr(os, "copy_file_range")  # Linux; elsewhere the streaming path
_FADVISE = hasattr(os, "posix_fadvise")
_COPY_STEP = 64 << 20  # bytes per kernel copy: big enough to be cheap, small for progress
# copy_file_range refused for these two files (another filesystem on old kernels, a
# filesystem without support, a pipe): fall back to streaming through user space
_NO_COPY_RANGE = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}

Progress = Callable[[int], None]
"""Called with the number of bytes just processed."""


@dataclass(frozen=True)
class ObjectInfo:
    """An object in the store: its address and size in bytes."""

    digest: str
    size: int


def check_digest(digest: str) -> str:
    """``digest`` if it is a well-formed address.

    Raises:
        NotFoundError: anything else (code ``object-missing``): a path, a short hash, ...
    """
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise NotFoundError(
            f"{digest!r} is not an object address (64 lower-case hex digits of SHA-256)",
            code="object-missing",
            hint="objects are addressed by their hash only, never by a path",
        )
    return digest


class ObjectStore:
    """A content-addressed store at an fsspec URL. The constructor stores; nothing is opened."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fs: Any = None
        self._root = ""

    def __repr__(self) -> str:
        return f"ObjectStore({self.url!r})"

    @property
    def is_local(self) -> bool:
        return "://" not in self.url or self.url.startswith("file://")

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            import fsspec.core

            try:
                self._fs, self._root = fsspec.core.url_to_fs(self.url)
            except (ImportError, ValueError) as exc:
                raise ConfigError(
                    f"objects URL {self.url!r} cannot be opened: {exc}",
                    code="config-value",
                    hint="use a directory, or an fsspec URL whose package is installed "
                    "(s3fs for s3://, gcsfs for gs://)",
                ) from exc
            self._root = self._root.rstrip("/")
        return self._fs, self._root

    def _key(self, digest: str) -> str:
        check_digest(digest)
        _, root = self._filesystem()
        return f"{root}/{ALGORITHM}/{digest[:2]}/{digest[2:]}"

    def uri(self, digest: str) -> str:
        """Where the object lives, for records and people (not for resolving)."""
        return f"{self.url.rstrip('/')}/{ALGORITHM}/{digest[:2]}/{check_digest(digest)[2:]}"

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        """Store the file at ``path``; return its address. Streams; never loads it whole."""
        with path.open("rb") as src:
            if self.is_local and _COPY_RANGE:
                info = self._put_local_copy(src, progress)
                if info is not None:
                    return info
                src.seek(0)
            return self.put_stream(src, progress=progress)

    def put_bytes(self, data: bytes) -> ObjectInfo:
        """Store ``data``; return its address."""
        digest = hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            self._commit_bytes(digest, data)
        elif self.is_local:
            _refresh(Path(self._key(digest)))
        return ObjectInfo(digest, len(data))

    def put_stream(self, src: IO[bytes], *, progress: Progress | None = None) -> ObjectInfo:
        """Store everything ``src`` yields; return its address."""
        if self.is_local:
            return self._put_local(src, progress)
        fs, root = self._filesystem()
        tmp = f"{root}/{_TMP}/{uuid.uuid4().hex}"
        fs.makedirs(f"{root}/{_TMP}", exist_ok=True)
        hasher, size = hashlib.sha256(), 0
        try:
            with fs.open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
            digest = hasher.hexdigest()
            key = self._key(digest)
            if fs.exists(key):
                fs.rm(tmp)
            else:
                fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                fs.mv(tmp, key)
        except BaseException:
            with suppress(Exception):
                fs.rm(tmp)
            raise
        return ObjectInfo(digest, size)

    def _incoming(self) -> tuple[int, str]:
        _, root = self._filesystem()
        tmpdir = Path(root) / _TMP
        tmpdir.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=tmpdir)

    def _put_local_copy(self, src: IO[bytes], progress: Progress | None) -> ObjectInfo | None:
        """Copy ``src`` in the kernel, hash the copy, publish it; None if the kernel cannot.

        Hashing the private copy rather than the source is what makes the address true to
        the stored bytes. Each step's pages are handed to writeback as soon as they are
        hashed (``POSIX_FADV_DONTNEED`` starts it on Linux), so the final fsync waits for
        little and the copy does not crowd the page cache.
        """
        fd, tmp = self._incoming()
        hasher, size = hashlib.sha256(), 0
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        try:
            while True:
                try:
                    n = os.copy_file_range(src.fileno(), fd, _COPY_STEP)
                except OSError as exc:
                    if size == 0 and exc.errno in _NO_COPY_RANGE:
                        break
                    raise
                if not n:
                    break
                done = 0
                while done < n:
                    got = os.preadv(fd, [view[: min(CHUNK, n - done)]], size + done)
                    if not got:
                        raise ObjectStoreError(
                            f"the copy in {tmp} came back shorter than written",
                            code="object-store",
                            hint="check the disk holding the object store",
                        )
                    hasher.update(view[:got])
                    done += got
                if _FADVISE:
                    os.posix_fadvise(fd, size, n, os.POSIX_FADV_DONTNEED)
                size += n
                if progress:
                    progress(n)
            if size == 0:
                # refused, or answered 0 instead of refusing (procfs, some FUSE and
                # network filesystems): the caller streams instead (an empty file costs
                # nothing to stream)
                os.close(fd)
                Path(tmp).unlink(missing_ok=True)
                return None
            os.fsync(fd)
            os.close(fd)
            fd = -1
            return self._publish(Path(tmp), hasher.hexdigest(), size)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise

    def _publish(self, tmp: Path, digest: str, size: int) -> ObjectInfo:
        """Rename a complete, synced temporary object into place (or drop it: a duplicate)."""
        final = Path(self._key(digest))
        if final.exists():
            tmp.unlink()
            _refresh(final)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o444)  # objects are immutable; a stray write fails loudly
            tmp.replace(final)
        return ObjectInfo(digest, size)

    def _put_local(self, src: IO[bytes], progress: Progress | None) -> ObjectInfo:
        fd, tmp = self._incoming()
        hasher, size = hashlib.sha256(), 0
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                readinto = getattr(src, "readinto", None)
                while True:
                    if readinto is not None:
                        n = readinto(buffer)
                        if not n:
                            break
                        chunk: Any = view[:n]
                    else:
                        chunk = src.read(CHUNK)
                        if not chunk:
                            break
                        n = len(chunk)
                    hasher.update(chunk)
                    out.write(chunk)
                    size += n
                    if progress:
                        progress(n)
                os.fsync(out.fileno())
            return self._publish(Path(tmp), hasher.hexdigest(), size)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _commit_bytes(self, digest: str, data: bytes) -> None:
        fs, root = self._filesystem()
        key = self._key(digest)
        if self.is_local:  # through incoming/, like every other write, so gc sweeps leftovers
            self._put_local(io.BytesIO(data), None)
            return
        fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{root}/{_TMP}/{uuid.uuid4().hex}"
        fs.makedirs(f"{root}/{_TMP}", exist_ok=True)
        fs.pipe_file(tmp, data)
        fs.mv(tmp, key)

    # -- reading ---------------------------------------------------------------------------

    def exists(self, digest: str) -> bool:
        fs, _ = self._filesystem()
        return bool(fs.exists(self._key(digest)))

    def size(self, digest: str) -> int:
        fs, _ = self._filesystem()
        try:
            return int(fs.size(self._key(digest)))
        except FileNotFoundError as exc:
            raise self._missing(digest) from exc

    def _open(self, digest: str) -> IO[bytes]:
        fs, _ = self._filesystem()
        try:
            return fs.open(self._key(digest), "rb")  # type: ignore[no-any-return]
        except FileNotFoundError as exc:
            raise self._missing(digest) from exc

    def _missing(self, digest: str) -> NotFoundError:
        return NotFoundError(
            f"object {digest} is not in {self.url}",
            code="object-missing",
            hint="restore the object store from a copy; `steward verify` lists what is missing",
        )

    def chunks(self, digest: str, *, progress: Progress | None = None) -> Iterator[bytes]:
        """The object's bytes in chunks, verified: the last step raises if they do not match.

        A consumer that must not act on bad bytes (a checkout) writes them somewhere
        private and only publishes them once the iterator has finished.
        """
        hasher = hashlib.sha256()
        with self._open(digest) as fh:
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
                if progress:
                    progress(len(chunk))
                yield chunk
        if hasher.hexdigest() != digest:
            raise self._corrupt(digest, hasher.hexdigest())

    def _corrupt(self, digest: str, got: str) -> IntegrityError:
        return IntegrityError(
            f"object {digest} in {self.url} hashes to {got}: it was changed or damaged",
            code="object-corrupt",
            hint="restore it from a copy of the object store; it is not served as it is",
        )

    def read_bytes(self, digest: str) -> bytes:
        """The whole object, verified (for small objects such as manifests)."""
        return b"".join(self.chunks(digest))

    def copy_to(self, digest: str, dest: Path, *, progress: Progress | None = None) -> None:
        """Write the object to ``dest`` atomically; nothing appears there unless it verified."""
        check_digest(digest)  # before anything is created on the caller's side
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self.chunks(digest, progress=progress):
                    out.write(chunk)
            umask = os.umask(0)
            os.umask(umask)
            Path(tmp).chmod(0o666 & ~umask)
            Path(tmp).replace(dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def verify(self, digest: str) -> bool:
        """True if the object is present and its bytes hash to its address."""
        try:
            for _ in self.chunks(digest):
                pass
        except (IntegrityError, NotFoundError):
            return False
        return True

    # -- housekeeping ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        """Every address in the store (files that are not objects are skipped)."""
        fs, root = self._filesystem()
        base = f"{root}/{ALGORITHM}"
        if not fs.exists(base):
            return
        for path in fs.find(base):
            parts = str(path).rstrip("/").rsplit("/", 2)
            digest = parts[-2] + parts[-1] if len(parts) == 3 else ""
            if _DIGEST.fullmatch(digest) and len(parts[-2]) == 2:
                yield digest

    def modified(self, digest: str) -> float:
        """When the object was written (seconds since the epoch), for gc's grace period."""
        fs, _ = self._filesystem()
        key = self._key(digest)
        if self.is_local:
            return Path(key).stat().st_mtime
        try:
            stamp = fs.modified(key)
        except (NotImplementedError, FileNotFoundError):
            return time.time()
        return float(stamp.timestamp())

    def touch(self, digest: str) -> None:
        """Mark a present object as just written, so gc's grace period starts again.

        Raises:
            NotFoundError: the object is not there (code ``object-missing``).
        """
        if not self.is_local:
            if not self.exists(digest):
                raise self._missing(digest)
            return  # remote stores keep their own times; their gc relies on the records
        try:
            os.utime(self._key(digest))
        except FileNotFoundError as exc:
            raise self._missing(digest) from exc

    def delete(self, digest: str) -> None:
        fs, _ = self._filesystem()
        key = self._key(digest)
        if self.is_local:
            Path(key).unlink(missing_ok=True)
        else:
            with suppress(FileNotFoundError):
                fs.rm(key)

    def clean_tmp(self, older_than: float) -> int:
        """Remove temporary files left by writers that died; return how many."""
        _, root = self._filesystem()
        if not self.is_local:
            return 0
        tmpdir = Path(root) / _TMP
        if not tmpdir.is_dir():
            return 0
        removed = 0
        for entry in tmpdir.iterdir():
            if entry.stat().st_mtime < older_than:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed


def _refresh(path: Path) -> None:
    """Bump an existing object's mtime (it was just asked for again); best effort."""
    with suppress(OSError):
        os.utime(path)
