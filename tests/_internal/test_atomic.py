"""Atomic writes replace regular files whole, and never replace a device or a pipe."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from mlsteward._internal.atomic import write_text_atomic


def test_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.json"
    write_text_atomic(target, "one")
    write_text_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"], "no temp files left"


def test_a_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_text_atomic(fifo, "through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the pipe itself must survive"


def test_dev_null_stays_a_device(tmp_path: Path) -> None:
    devnull = Path(os.devnull)
    write_text_atomic(devnull, "discarded")
    assert stat.S_ISCHR(devnull.stat().st_mode)


def test_new_files_follow_the_umask_and_old_files_keep_their_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.html"
        write_text_atomic(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        fresh.chmod(0o600)
        write_text_atomic(fresh, "y")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    finally:
        os.umask(old)
