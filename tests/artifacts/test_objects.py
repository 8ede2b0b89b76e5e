"""The content-addressed object store: addresses, dedup, streaming, atomicity, verification.

Runs on the local fast path (a directory) and, where it matters, on fsspec's generic path
through the in-memory filesystem. No address is ever a path: a corpus of traversal
payloads (the shapes of MLflow's artifact-path CVEs) must all be refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlsteward.artifacts.objects import CHUNK, ObjectStore, check_digest
from mlsteward.errors import IntegrityError, NotFoundError

DATA = b"the same bytes, every time\n" * 1000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return ObjectStore(str(tmp_path / "objects"))


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_put_gives_the_sha256_address_and_stores_each_content_once(
    objects: ObjectStore, tmp_path: Path
) -> None:
    source = tmp_path / "data.csv"
    source.write_bytes(DATA)
    seen: list[int] = []
    by_file = objects.put_file(source, progress=seen.append)
    by_bytes = objects.put_bytes(DATA)
    by_stream = objects.put_stream(io.BytesIO(DATA))
    assert by_file.digest == by_bytes.digest == by_stream.digest == DIGEST
    assert by_file.size == len(DATA)
    assert sum(seen) == len(DATA)
    root = tmp_path / "objects"
    assert [f for f in _files(root) if f.startswith("sha256/")] == [
        f"sha256/{DIGEST[:2]}/{DIGEST[2:]}"
    ]
    assert list(objects) == [DIGEST]
    assert not list((root / "incoming").iterdir())  # no temporary file left behind
    assert objects.read_bytes(DIGEST) == DATA
    assert objects.size(DIGEST) == len(DATA)
    assert objects.exists(DIGEST)
    assert objects.verify(DIGEST)
    assert objects.uri(DIGEST).endswith(f"sha256/{DIGEST[:2]}/{DIGEST[2:]}")
    empty = objects.put_bytes(b"")
    assert empty.digest == hashlib.sha256(b"").hexdigest()
    assert objects.read_bytes(empty.digest) == b""


def test_a_large_file_is_stored_with_flat_memory(objects: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    hasher = hashlib.sha256()
    with source.open("wb") as out:
        for i in range(64):
            chunk = block[i:] + block[:i]
            hasher.update(chunk)
            out.write(chunk)
    tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        info = objects.put_file(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    assert info.digest == hasher.hexdigest()
    assert info.size == 64 << 20
    assert peak - base < 3 * CHUNK  # a chunk buffer or two, whatever the size (64 MiB here)
    assert objects.verify(info.digest)


class _Breaks(io.RawIOBase):
    """A source that fails after some bytes, like a network read or a disk error."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            raise OSError("the source went away")
        n = min(len(buffer), self.left, 1 << 20)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def test_an_interrupted_write_leaves_no_object_and_no_temporary_file(
    objects: ObjectStore, tmp_path: Path
) -> None:
    with pytest.raises(OSError, match="went away"):
        objects.put_stream(_Breaks(5 << 20))
    assert list(objects) == []
    assert _files(tmp_path / "objects") == []


def _tamper(objects: ObjectStore, tmp_path: Path) -> Path:
    objects.put_bytes(DATA)
    path = tmp_path / "objects" / "sha256" / DIGEST[:2] / DIGEST[2:]
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    return path


def test_a_tampered_object_is_never_served(objects: ObjectStore, tmp_path: Path) -> None:
    _tamper(objects, tmp_path)
    for read in (
        lambda: objects.read_bytes(DIGEST),
        lambda: b"".join(objects.chunks(DIGEST)),
    ):
        with pytest.raises(IntegrityError) as err:
            read()
        assert err.value.code == "object-corrupt"
        assert DIGEST in err.value.message
    dest = tmp_path / "out" / "data.csv"
    with pytest.raises(IntegrityError, match="object-corrupt"):
        objects.copy_to(DIGEST, dest)
    assert list(dest.parent.iterdir()) == []  # neither the file nor its temporary
    assert not objects.verify(DIGEST)


def test_copy_to_writes_the_verified_object(objects: ObjectStore, tmp_path: Path) -> None:
    objects.put_bytes(DATA)
    dest = tmp_path / "out" / "data.csv"
    dest.parent.mkdir()
    dest.write_bytes(b"an older version")
    objects.copy_to(DIGEST, dest)
    assert dest.read_bytes() == DATA
    assert os.access(dest, os.W_OK)  # a user's copy, not the read-only object
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.csv"]


TRAVERSAL = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f" * 3 + "etc%2fpasswd",
    "//proc/self/root/etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "file:///etc/passwd",
    "a#b",
    "a;b",
    "a?b=../../x",
    "",
    ".",
    "..",
    "ab/" + "c" * 62,
    "sha256/" + "a" * 64,
    "a" * 63,
    "a" * 65,
    "A" * 64,
    DIGEST.upper(),
    DIGEST + "\n",
    " " + DIGEST,
    DIGEST[:32] + "\x00" + DIGEST[33:],
    DIGEST[:62] + "..",
    "g" * 64,
]


@pytest.mark.parametrize("address", TRAVERSAL)
def test_anything_but_an_address_is_refused_before_a_path_is_built(
    objects: ObjectStore, tmp_path: Path, address: str
) -> None:
    objects.put_bytes(DATA)
    before = _files(tmp_path)
    calls = [
        lambda: check_digest(address),
        lambda: objects.exists(address),
        lambda: objects.size(address),
        lambda: objects.read_bytes(address),
        lambda: next(objects.chunks(address)),
        lambda: objects.copy_to(address, tmp_path / "out" / "x"),
        lambda: objects.verify(address) or check_digest(address),
        lambda: objects.delete(address),
        lambda: objects.modified(address),
        lambda: objects.uri(address),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as err:
            call()
        assert err.value.code == "object-missing"
    assert _files(tmp_path) == before


def test_a_missing_object_is_object_missing(objects: ObjectStore, tmp_path: Path) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not objects.exists(absent)
    assert not objects.verify(absent)
    for call in (lambda: objects.read_bytes(absent), lambda: objects.size(absent)):
        with pytest.raises(NotFoundError, match="object-missing"):
            call()
    with pytest.raises(NotFoundError):
        objects.copy_to(absent, tmp_path / "out" / "x")
    assert not (tmp_path / "out" / "x").exists()


def test_iteration_lists_objects_only(objects: ObjectStore, tmp_path: Path) -> None:
    digest = objects.put_bytes(DATA).digest
    other = objects.put_bytes(b"other").digest
    root = tmp_path / "objects" / "sha256"
    (root / "README").write_text("not an object")
    (root / digest[:2] / "notes.txt").write_text("not an object")
    (root / digest[:2] / (digest[2:-1] + "G")).write_text("not hex")
    (root / "abc").mkdir()
    (root / "abc" / ("0" * 61)).write_text("a 3-digit folder")
    (root / "zz").mkdir()
    (root / "zz" / ("0" * 62)).write_text("not hex")
    (tmp_path / "objects" / "incoming").mkdir(exist_ok=True)
    (tmp_path / "objects" / "incoming" / "partial").write_bytes(b"half")
    assert sorted(objects) == sorted([digest, other])


def test_delete_and_clean_tmp(objects: ObjectStore, tmp_path: Path) -> None:
    objects.put_bytes(DATA)
    objects.delete(DIGEST)
    objects.delete(DIGEST)  # deleting what is gone is fine
    assert not objects.exists(DIGEST)
    stale = tmp_path / "objects" / "incoming" / "stale"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"left by a writer that died")
    os.utime(stale, (1.0, 1.0))
    (tmp_path / "objects" / "incoming" / "fresh").write_bytes(b"being written")
    assert objects.clean_tmp(older_than=1000.0) == 1
    assert [p.name for p in (tmp_path / "objects" / "incoming").iterdir()] == ["fresh"]


@pytest.fixture
def memory_objects() -> Iterator[ObjectStore]:
    import fsspec

    root = f"memory://steward-test-{uuid.uuid4().hex}"
    yield ObjectStore(root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_the_generic_fsspec_path(memory_objects: ObjectStore) -> None:
    objects = memory_objects
    assert not objects.is_local
    first = objects.put_bytes(DATA)
    again = objects.put_stream(io.BytesIO(DATA))
    other = objects.put_stream(io.BytesIO(b"x" * (CHUNK + 10)))
    assert first.digest == again.digest == DIGEST
    assert sorted(objects) == sorted([DIGEST, other.digest])
    assert objects.read_bytes(DIGEST) == DATA
    assert objects.size(other.digest) == CHUNK + 10
    assert objects.verify(other.digest)
    assert isinstance(objects.modified(DIGEST), float)
    objects.delete(DIGEST)
    assert not objects.exists(DIGEST)
    assert list(objects) == [other.digest]
    with pytest.raises(NotFoundError, match="object-missing"):
        objects.read_bytes(DIGEST)
    with pytest.raises(NotFoundError, match="object-missing"):
        objects.exists("../../etc/passwd")


def test_the_generic_path_refuses_a_tampered_object(memory_objects: ObjectStore) -> None:
    import fsspec

    objects = memory_objects
    objects.put_bytes(DATA)
    fs = fsspec.filesystem("memory")
    (key,) = [p for p in fs.find(objects.url.removeprefix("memory://")) if DIGEST[2:] in p]
    fs.pipe_file(key, DATA[:-1] + b"!")
    with pytest.raises(IntegrityError, match="object-corrupt"):
        objects.read_bytes(DIGEST)
    assert not objects.verify(DIGEST)


def test_an_interrupted_generic_write_leaves_nothing(memory_objects: ObjectStore) -> None:
    import fsspec

    with pytest.raises(OSError, match="went away"):
        memory_objects.put_stream(_Breaks(CHUNK + 5))
    fs = fsspec.filesystem("memory")
    root = memory_objects.url.removeprefix("memory://")
    assert fs.find(root) == []


def test_copy_to_builds_nothing_for_a_bad_address(objects: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        objects.copy_to("../../etc/passwd", tmp_path / "out" / "x")
    assert not (tmp_path / "out").exists()
