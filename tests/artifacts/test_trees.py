"""Directory trees: stored file by file with a strict manifest, checked out safely."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlsteward.artifacts.hashcache import HashCache
from mlsteward.artifacts.objects import ObjectStore
from mlsteward.artifacts.trees import (
    FORMAT,
    TreeEntry,
    checkout_file,
    checkout_tree,
    manifest_bytes,
    put_file_checked,
    put_tree,
    read_tree,
)
from mlsteward.errors import IntegrityError, PathError, RecordError
from repo_builder import Link, build_repo

FILES = {"b.csv": "x,y\n1,2\n", "a": {"z.txt": "zed\n", "deep": {"n.bin": b"\x00\xff" * 50}}}
H = "0" * 64


class Recorder:
    """A progress that records what it was told, and can act once along the way."""

    def __init__(self, on_first: object = None) -> None:
        self.total: int | None = None
        self.done = 0
        self.on_first = on_first

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, n: int) -> None:
        if self.done == 0 and callable(self.on_first):
            self.on_first()
        self.done += n


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return ObjectStore(str(tmp_path / "objects"))


def test_put_tree_stores_every_file_and_a_canonical_manifest(
    tmp_path: Path, objects: ObjectStore
) -> None:
    root = build_repo(tmp_path / "d", FILES)
    progress = Recorder()
    info = put_tree(objects, root, progress=progress)
    entries = read_tree(objects, info.digest)
    assert [e.path for e in entries] == ["a/deep/n.bin", "a/z.txt", "b.csv"]
    assert info.files == 3
    assert info.size == sum((root / e.path).stat().st_size for e in entries) == progress.total
    assert progress.done == info.size
    for e in entries:
        assert objects.read_bytes(e.hash) == (root / e.path).read_bytes()
    raw = objects.read_bytes(info.digest)
    doc = json.loads(raw)
    assert doc["format"] == FORMAT
    assert raw == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    # the address depends on the content only: a copy elsewhere is the same tree
    again = put_tree(objects, build_repo(tmp_path / "copy", FILES))
    assert again.digest == info.digest


def test_a_symlink_inside_is_refused(tmp_path: Path, objects: ObjectStore) -> None:
    root = build_repo(tmp_path / "d", {"a.txt": "a", "link": Link("a.txt")})
    with pytest.raises(RecordError) as err:
        put_tree(objects, root)
    assert err.value.code == "data-not-regular"
    assert "symbolic link" in err.value.message


def test_a_backslash_in_a_name_is_refused(tmp_path: Path, objects: ObjectStore) -> None:
    root = build_repo(tmp_path / "d", {"a\\b.txt": "a"})
    with pytest.raises(RecordError) as err:
        put_tree(objects, root)
    assert err.value.code == "data-file-name"


def test_a_file_written_during_the_add_is_detected(tmp_path: Path, objects: ObjectStore) -> None:
    root = build_repo(tmp_path / "d", {"a.bin": os.urandom(1 << 20), "z.bin": b"z" * 1000})

    def append() -> None:
        with (root / "z.bin").open("ab") as fh:
            fh.write(b"more")

    with pytest.raises(RecordError) as err:
        put_tree(objects, root, progress=Recorder(append))
    assert err.value.code == "data-changed"
    assert "snapshot" in (err.value.hint or "")


def test_a_file_added_during_the_add_is_detected(tmp_path: Path, objects: ObjectStore) -> None:
    root = build_repo(tmp_path / "d", {"a.bin": b"a" * 1000})
    with pytest.raises(RecordError) as err:
        put_tree(objects, root, progress=Recorder(lambda: (root / "new.txt").write_text("n")))
    assert err.value.code == "data-changed"


def test_the_file_being_read_changing_is_detected(tmp_path: Path, objects: ObjectStore) -> None:
    path = tmp_path / "one.bin"
    path.write_bytes(os.urandom(1 << 20))
    before = path.lstat()

    def grow() -> None:
        with path.open("ab") as fh:
            fh.write(b"tail")

    with pytest.raises(RecordError) as err:
        put_file_checked(objects, path, before, progress=Recorder(grow))
    assert err.value.code == "data-changed"


def _bad_manifest(objects: ObjectStore, files: object, fmt: str = FORMAT) -> str:
    raw = json.dumps({"files": files, "format": fmt}, sort_keys=True, separators=(",", ":"))
    return objects.put_bytes(raw.encode()).digest


@pytest.mark.parametrize(
    "files",
    [
        [{"hash": H, "path": "../escape.txt", "size": 1}],
        [{"hash": H, "path": "a/../../escape.txt", "size": 1}],
        [{"hash": H, "path": "/etc/passwd", "size": 1}],
        [{"hash": H, "path": "a\\b", "size": 1}],
        [{"hash": H, "path": "a\x00b", "size": 1}],
        [{"hash": H, "path": "", "size": 1}],
        [{"hash": H, "path": "a//b", "size": 1}],
        [{"hash": H, "path": "a", "size": 1}, {"hash": H, "path": "a", "size": 1}],
        [{"hash": H, "path": "a", "size": 1}, {"hash": H, "path": "a/b", "size": 1}],
        [{"hash": "../../x", "path": "a", "size": 1}],
        [{"hash": H, "path": "a", "size": -1}],
        [{"hash": H, "path": "a", "size": True}],
        [{"hash": H, "path": "a", "size": 1, "mode": 755}],
        [{"hash": H, "path": "b", "size": 1}, {"hash": H, "path": "a", "size": 1}],
        "not a list",
    ],
)
def test_a_tampered_manifest_is_refused(
    tmp_path: Path, objects: ObjectStore, files: object
) -> None:
    digest = _bad_manifest(objects, files)
    with pytest.raises(IntegrityError) as err:
        read_tree(objects, digest)
    assert err.value.code == "manifest-invalid"
    with pytest.raises(IntegrityError):
        checkout_tree(objects, digest, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_a_wrong_format_tag_and_non_json_are_refused(objects: ObjectStore) -> None:
    for digest in (
        _bad_manifest(objects, [], fmt="steward-tree/9"),
        objects.put_bytes(b"\xff\xfe").digest,
        objects.put_bytes(b'{"format": "steward-tree/1", "files": []}').digest,  # not canonical
    ):
        with pytest.raises(IntegrityError) as err:
            read_tree(objects, digest)
        assert err.value.code == "manifest-invalid"


def test_checkout_restores_exact_bytes_and_keeps_files_it_does_not_list(
    tmp_path: Path, objects: ObjectStore
) -> None:
    root = build_repo(tmp_path / "d", FILES)
    info = put_tree(objects, root)
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "z.txt").write_text("zed\n")  # already right: left alone
    (out / "mine.txt").write_text("keep")
    result = checkout_tree(objects, info.digest, out)
    assert (result.written, result.unchanged) == (2, 1)
    for e in read_tree(objects, info.digest):
        assert (out / e.path).read_bytes() == (root / e.path).read_bytes()
    assert (out / "mine.txt").read_text() == "keep"


def test_checkout_refuses_to_overwrite_a_changed_file_unless_forced(
    tmp_path: Path, objects: ObjectStore
) -> None:
    root = build_repo(tmp_path / "d", FILES)
    info = put_tree(objects, root)
    out = build_repo(tmp_path / "out", {"b.csv": "edited\n"})
    with pytest.raises(PathError) as err:
        checkout_tree(objects, info.digest, out)
    assert err.value.code == "checkout-conflict"
    assert "--force" in (err.value.hint or "")
    assert (out / "b.csv").read_text() == "edited\n"
    assert not (out / "a").exists()  # nothing was written before the refusal
    checkout_tree(objects, info.digest, out, force=True)
    assert (out / "b.csv").read_text() == FILES["b.csv"]


def test_checkout_never_writes_through_a_link_out_of_the_destination(
    tmp_path: Path, objects: ObjectStore
) -> None:
    root = build_repo(tmp_path / "d", FILES)
    info = put_tree(objects, root)
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathError) as err:
        checkout_tree(objects, info.digest, out, force=True)
    assert err.value.code == "path-outside"
    assert list(outside.iterdir()) == []


def test_checkout_never_removes_a_directory(tmp_path: Path, objects: ObjectStore) -> None:
    info = put_tree(objects, build_repo(tmp_path / "d", {"x": "1"}))
    out = build_repo(tmp_path / "out", {"x": {"inner.txt": "mine"}})
    with pytest.raises(PathError) as err:
        checkout_tree(objects, info.digest, out, force=True)
    assert err.value.code == "checkout-conflict"
    assert (out / "x" / "inner.txt").read_text() == "mine"


def test_checkout_file_conflict_and_force(tmp_path: Path, objects: ObjectStore) -> None:
    stored = objects.put_bytes(b"v1")
    dest = tmp_path / "f.txt"
    assert checkout_file(objects, stored.digest, 2, dest).written == 1
    assert checkout_file(objects, stored.digest, 2, dest).unchanged == 1
    dest.write_bytes(b"mine")
    with pytest.raises(PathError) as err:
        checkout_file(objects, stored.digest, 2, dest)
    assert err.value.code == "checkout-conflict"
    checkout_file(objects, stored.digest, 2, dest, force=True)
    assert dest.read_bytes() == b"v1"


def test_manifest_bytes_sorts_entries() -> None:
    raw = manifest_bytes([TreeEntry("b", 1, H), TreeEntry("a", 2, H)])
    assert [f["path"] for f in json.loads(raw)["files"]] == ["a", "b"]


def test_hash_cache_hits_only_for_the_same_old_state(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    os.utime(path, (1_000_000_000, 1_000_000_000))  # long ago: not racily clean
    st = path.lstat()
    cache = HashCache(tmp_path / "cache.db")
    cache.put(path, st, H, started=2_000_000_000)
    assert cache.get(path, st) == H
    path.write_bytes(b"datb")
    os.utime(path, (1_000_000_000, 1_000_000_000))  # same size and mtime; ctime moved
    assert cache.get(path, path.lstat()) is None
    fresh = tmp_path / "fresh"
    fresh.write_bytes(b"new")
    cache.put(fresh, fresh.lstat(), H, started=fresh.lstat().st_mtime)  # racy: not kept
    assert cache.get(fresh, fresh.lstat()) is None
    cache.close()


def test_put_tree_with_a_cache_gives_the_same_tree(tmp_path: Path, objects: ObjectStore) -> None:
    root = build_repo(tmp_path / "d", FILES)
    for p in root.rglob("*"):
        os.utime(p, (1_000_000_000, 1_000_000_000))
    cache = HashCache(tmp_path / "cache.db")
    first = put_tree(objects, root, cache=cache)
    assert cache.get(root / "b.csv", (root / "b.csv").lstat()) is not None
    second = put_tree(objects, root, cache=cache)
    assert first == second
    cache.close()
