"""`Store`: the metadata store's connection, transactions and schema version.

SQLite (the default, ``.steward/steward.db``) runs in WAL mode so readers never wait for
a writer; every write transaction starts with ``BEGIN IMMEDIATE`` so two writers queue
on the lock (up to ``timeout`` seconds) instead of failing half-way. PostgreSQL takes the
same code path. A store is created on first use by running the migrations under the
write lock (an advisory lock on PostgreSQL), so processes starting together do not race;
a store at an older schema asks for ``steward store upgrade``, one at a newer schema
refuses to be touched.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from mlsteward.errors import (
    ConfigError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreSchemaError,
)
from mlsteward.project import Project

__all__ = ["HEAD", "REVISIONS", "Store", "dispose_all", "open_store"]

_MIGRATIONS = Path(__file__).parent / "migrations"
REVISIONS: tuple[str, ...] = tuple(
    sorted(
        m.group(1)
        for p in (_MIGRATIONS / "versions").glob("*.py")
        if (m := re.match(r"(\d{4})_", p.name))
    )
)
HEAD = REVISIONS[-1]
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_LOCK = 0x57E3A2D  # advisory lock id for creating or upgrading the schema


class Store:
    """One metadata store. The constructor stores; `Store.connect` opens and checks."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL with any password masked: safe for messages and logs."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<unparseable store URL>"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def connect(cls, url: str, *, timeout: float = 30.0, create: bool = True) -> Store:
        """Open the store at ``url`` and check its schema; create it if ``create``.

        Raises:
            ConfigError: the URL is not a database URL mlsteward can use.
            StoreSchemaError: the store needs ``steward store upgrade`` (code
                ``store-schema``) or was written by a newer mlsteward (``store-too-new``).
            StoreLockedError: another process held the write lock past ``timeout``.
            StoreCorruptError: the file is not a database or is damaged.
            StoreError: the server cannot be reached (``store-unreachable``).
        """
        store = cls(url, timeout=timeout)
        store.open()
        store.check_schema(create=create)
        return store

    # -- connections ------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError(
                f"{self!r} is not open",
                code="store-error",
                hint="use Store.connect(url), or call open() first",
            )
        return self._engine

    def open(self) -> None:
        """Create the engine (no schema check); idempotent."""
        if self._engine is not None:
            return
        try:
            url = make_url(self.url)
        except ArgumentError as exc:
            raise ConfigError(
                f"store URL {self.url!r} is not a database URL",
                code="config-value",
                hint='use "sqlite:///path/steward.db" or "postgresql+psycopg://user@host/db"',
            ) from exc
        backend = url.get_backend_name()
        if backend == "sqlite":
            self._engine = self._sqlite_engine(url.database)
        elif backend == "postgresql":
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            try:
                self._engine = create_engine(
                    url, pool_pre_ping=True, connect_args={"connect_timeout": 10}
                )
            except NoSuchModuleError as exc:
                raise ConfigError(
                    f"store URL {self.display_url} names a driver that is not installed",
                    code="config-value",
                    hint="install the PostgreSQL driver: pip install 'mlsteward[postgres]'",
                ) from exc
            except ModuleNotFoundError as exc:
                raise ConfigError(
                    f"the PostgreSQL driver for {self.display_url} is not installed ({exc.name})",
                    code="config-value",
                    hint="install it: pip install 'mlsteward[postgres]'",
                ) from exc
        else:
            raise ConfigError(
                f"store URL {self.display_url} uses {backend!r}; expected sqlite or postgresql",
                code="config-value",
                hint="mlsteward keeps its records in SQLite or PostgreSQL",
            )
        _dispose_in_forked_children(self._engine)

    def _sqlite_engine(self, database: str | None) -> Engine:
        if not database or database == ":memory:":
            raise ConfigError(
                "an in-memory SQLite store would lose every record at exit",
                code="config-value",
                hint='give a file: store = "sqlite:///.steward/steward.db"',
            )
        path = Path(database)
        if path.exists():
            with path.open("rb") as fh:
                head = fh.read(16)
            if head and head != _SQLITE_MAGIC:
                raise StoreCorruptError(
                    f"{path} is not an SQLite database (it starts with {head[:8]!r})",
                    code="store-corrupt",
                    hint="point [tool.steward] store at the right file, or move this one away",
                )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            f"sqlite+pysqlite:///{path}",
            connect_args={"check_same_thread": False, "timeout": self.timeout},
        )
        timeout_ms = int(self.timeout * 1000)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("steward_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot)."""
        with self._translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction: committed on exit, rolled back on error."""
        with self._translated(), self.engine.connect() as conn:
            conn.execution_options(steward_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: DBAPIError) -> StoreError | DBAPIError:
        message = str(exc.orig).lower()
        if "locked" in message or "busy" in message:
            return StoreLockedError(
                f"the store {self.display_url} stayed locked for {self.timeout:g} s",
                code="store-locked",
                hint="another process is writing; wait for it, or raise the timeout",
            )
        if "not a database" in message or "malformed" in message or "corrupt" in message:
            return StoreCorruptError(
                f"the store {self.display_url} is damaged: {exc.orig}",
                code="store-corrupt",
                hint="restore it from a backup; `sqlite3 FILE .recover` may save what is left",
            )
        if exc.connection_invalidated or "connection" in message or "password" in message:
            return StoreError(
                f"cannot reach the store {self.display_url}: {str(exc.orig).strip()}",
                code="store-unreachable",
                hint="check the URL in [tool.steward] store and that the server is running",
            )
        return exc

    # -- schema -----------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the store is at; None for an empty database."""
        with self.read() as conn:
            return _revision(conn)

    def check_schema(self, *, create: bool = True) -> None:
        """Make sure the schema is the one this code reads (creating it if empty)."""
        current = self.revision()
        if current is None:
            if not create:
                raise StoreSchemaError(
                    f"{self.display_url} holds no mlsteward store",
                    code="store-schema",
                    hint="run `steward store upgrade` to create it",
                )
            self.upgrade()
            return
        if current not in REVISIONS:
            raise StoreSchemaError(
                f"{self.display_url} is at schema {current}, newer than this mlsteward "
                f"(which reads up to {HEAD})",
                code="store-too-new",
                hint="upgrade mlsteward; a store is never downgraded",
            )
        if current != HEAD:
            raise StoreSchemaError(
                f"{self.display_url} is at schema {current}; this mlsteward needs {HEAD}",
                code="store-schema",
                hint="run `steward store upgrade` (back up the store first if it matters)",
            )

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema under the write lock; return (from, to)."""
        from alembic import command
        from alembic.config import Config

        with self.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            before = _revision(conn)
            if before is None and inspect(conn).has_table("runs"):
                raise StoreCorruptError(
                    f"{self.display_url} has mlsteward's tables but no schema revision",
                    code="store-corrupt",
                    hint="restore the store from a backup",
                )
            if before is not None and before not in REVISIONS:
                raise StoreSchemaError(
                    f"{self.display_url} is at schema {before}, newer than this mlsteward",
                    code="store-too-new",
                    hint="upgrade mlsteward; a store is never downgraded",
                )
            if before != HEAD:
                config = Config()
                config.set_main_option("script_location", str(_MIGRATIONS))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        return before, HEAD


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


_OPEN: dict[str, Store] = {}


def open_store(project: Project, *, create: bool = True) -> Store:
    """The project's store, connected and checked once per process and URL."""
    url = project.store_url
    store = _OPEN.get(url)
    if store is None:
        if url == f"sqlite:///{project.workspace / 'steward.db'}":
            project.ensure_workspace()
        store = Store.connect(url, create=create)
        _OPEN[url] = store
    return store


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_FORK_HOOK: list[bool] = []


def _dispose_in_forked_children(engine: Engine) -> None:
    """A forked child must not reuse its parent's pooled connections (SQLAlchemy's advice)."""
    if not _FORK_HOOK:
        os.register_at_fork(after_in_child=_after_fork)
        _FORK_HOOK.append(True)
    _ENGINES.add(engine)


def dispose_all() -> None:
    """Close every pooled connection of every open store (tests, and before exec)."""
    _OPEN.clear()
    for engine in list(_ENGINES):
        engine.dispose()


def _after_fork() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)
