"""A local cache of file hashes keyed by what ``stat`` says, so re-adding is cheap.

Adding a dataset hashes every byte. Adding it again unchanged (the common case: a new
version of a directory where a few files changed) need not: like DVC's state database,
the cache remembers ``(path, size, mtime_ns, ctime_ns, inode, device) -> sha256`` and a
file whose stat still matches is taken at its recorded hash, provided the object store
still holds that object. ``ctime`` cannot be set from user space, so a file rewritten
and given back its old mtime still misses.

A file changed within the same clock tick as it was hashed could keep every stat field
("racily clean", in git's words); entries are therefore only recorded for files whose
mtime is at least `RACY_SECONDS` older than the moment hashing began.

The cache lives in the workspace (``.steward/hashcache.db``, SQLite from the standard
library): it describes this machine's files, not the shared records, and losing it
costs only time. Any error opening or writing it turns the cache off for the call.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path

__all__ = ["RACY_SECONDS", "HashCache", "stat_key"]

RACY_SECONDS = 2.0

StatKey = tuple[int, int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    """What identifies one state of a file: size, mtime, ctime, inode, device."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class HashCache:
    """The stat -> hash cache at ``path``. The constructor stores; the first use opens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def __repr__(self) -> str:
        return f"HashCache({str(self.path)!r})"

    def _db(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._broken:
            try:
                conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = OFF")  # a lost entry only costs a re-hash
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER,"
                    " mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER, dev INTEGER,"
                    " digest TEXT NOT NULL)"
                )
                self._conn = conn
            except sqlite3.Error:
                self._broken = True
        return self._conn

    def get(self, path: Path, st: os.stat_result) -> str | None:
        """The recorded hash of ``path`` if its stat is still ``st``; else None."""
        db = self._db()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT size, mtime_ns, ctime_ns, ino, dev, digest FROM hashes WHERE path = ?",
                (str(path),),
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:5]) != stat_key(st):
            return None
        return str(row[5])

    def put(self, path: Path, st: os.stat_result, digest: str, started: float) -> None:
        """Remember that ``path`` in state ``st`` hashed to ``digest``.

        ``started`` is when hashing began (``time.time()``); a file modified too close to
        it is not recorded, see the module's note on racily clean files.
        """
        if st.st_mtime_ns / 1e9 > started - RACY_SECONDS:
            return
        db = self._db()
        if db is None:
            return
        with suppress(sqlite3.Error):
            db.execute(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?, ?)",
                (str(path), *stat_key(st), digest),
            )

    def close(self) -> None:
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
