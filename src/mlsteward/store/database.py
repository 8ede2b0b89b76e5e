"""`Store`: the metadata store's connection, transactions and schema version.

SQLite (the default, ``.steward/steward.db``) runs in WAL mode so readers never wait for
a writer; every write transaction starts with ``BEGIN IMMEDIATE`` so two writers queue
on the lock (up to ``timeout`` seconds) instead of failing half-way. PostgreSQL takes the
same code path. A store is created on first use by running the migrations under the
write lock (an advisory lock on PostgreSQL), so processes starting together do not race;
a store at an older schema asks for ``steward store upgrade``, one at a newer schema
refuses to be touched, and a database that holds someone else's tables is never written.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    inspect,
    select,
    table,
    text,
)
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

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD",
    "REVISIONS",
    "Store",
    "StoreInfo",
    "alembic_config",
    "dispose_all",
    "open_store",
    "project_store",
]

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
_COUNTED = ("runs", "datasets", "artifacts", "events")  # what `steward store info` counts
_UPGRADE_HINT = "run `steward store upgrade` (back up the store first if it matters)"


@dataclass(frozen=True)
class StoreInfo:
    """What `steward store info` shows: where the store is, its schema, what it holds."""

    url: str  # password masked
    backend: str
    revision: str | None  # None: no store there yet
    head: str
    counts: dict[str, int] = field(default_factory=dict)
    size: int | None = None  # SQLite: bytes on disk (database and write-ahead log)

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


class Store:
    """One metadata store. The constructor stores; `Store.connect` opens and checks."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._engine: Engine | None = None
        self._path: Path | None = None

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL with any password masked: safe for messages and logs."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            return "<unparseable store URL>"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite database file once opened; None for PostgreSQL."""
        return self._path

    @classmethod
    def connect(cls, url: str, *, timeout: float = 30.0, create: bool = True) -> Store:
        """Open the store at ``url`` and check its schema; create it if ``create``.

        Raises:
            ConfigError: the URL is not a database URL mlsteward can use.
            StoreSchemaError: the store needs ``steward store upgrade`` (code
                ``store-schema``), was written by a newer mlsteward (``store-too-new``),
                or the database holds another application's tables (``store-foreign``).
            StoreLockedError: another process held the write lock past ``timeout``.
            StoreCorruptError: the file is not a database or is damaged.
            StoreError: the server cannot be reached (``store-unreachable``), or the file
                cannot be opened (``store-access``).
        """
        store = cls(url, timeout=timeout)
        try:
            store.open()
            store.check_schema(create=create)
        except BaseException:
            store.close()  # a failed check must not leave pooled connections behind
            raise
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
        """Create the engine (no schema check, nothing created on disk); idempotent."""
        if self._engine is not None:
            return
        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError) as exc:
            raise ConfigError(
                "the store URL is not a database URL",
                code="config-value",
                hint='use "sqlite:///path/steward.db" or "postgresql+psycopg://user@host/db"',
            ) from exc
        backend = url.get_backend_name()
        if backend == "sqlite":
            if not url.database or url.database == ":memory:" or "memory" in url.query.values():
                raise ConfigError(
                    "an in-memory SQLite store would lose every record at exit",
                    code="config-value",
                    hint='give a file: store = "sqlite:///.steward/steward.db"',
                )
            self._path = Path(url.database)
            _check_header(self._path)
            self._engine = self._sqlite_engine(self._path)
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

    def _sqlite_engine(self, path: Path) -> Engine:
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
        with self._translated(), self._connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction: committed on exit, rolled back on error."""
        with self._translated(), self._connect() as conn:
            conn.execution_options(steward_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            error = self._translate(exc)
            if error is exc and self._path is None:
                # any failure to open a session with the server: unreachable or refused
                error = self._unreachable(exc)
            raise error from exc

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            raise self._translate(exc) from exc

    def _detail(self, exc: DBAPIError) -> str:
        """The driver's message, with the URL's password (should it appear) masked."""
        detail = str(exc.orig).strip().partition("\n")[0]  # not the SQL echo that follows
        with suppress(ArgumentError, ValueError):
            password = make_url(self.url).password
            if password:
                detail = detail.replace(str(password), "***")
        return detail

    def _unreachable(self, exc: DBAPIError) -> StoreError:
        return StoreError(
            f"cannot reach the store {self.display_url}: {self._detail(exc)}",
            code="store-unreachable",
            hint="check the URL in [tool.steward] store (or STEWARD_STORE), the password "
            "(PGPASSWORD or ~/.pgpass) and that the server is running",
        )

    def _translate(self, exc: DBAPIError) -> StoreError | DBAPIError:
        detail = self._detail(exc)
        message = detail.lower()
        if "locked" in message or "busy" in message:
            return StoreLockedError(
                f"the store {self.display_url} stayed locked for {self.timeout:g} s",
                code="store-locked",
                hint="another process is writing; wait for it, or raise the timeout",
            )
        if "not a database" in message or "malformed" in message or "corrupt" in message:
            return StoreCorruptError(
                f"the store {self.display_url} is damaged: {detail}",
                code="store-corrupt",
                hint="restore it from a backup; `sqlite3 FILE .recover` may save what is left",
            )
        if self._path is not None and any(
            words in message
            for words in ("unable to open", "readonly database", "disk i/o", "disk is full")
        ):
            return StoreError(
                f"cannot use the store file {self._path}: {detail}",
                code="store-access",
                hint="check that its folder exists, is writable and has free space",
            )
        if "permission denied" in message:  # PostgreSQL 15+: no CREATE on schema public
            return StoreError(
                f"the store {self.display_url} refuses: {detail}",
                code="store-access",
                hint="make mlsteward's user the database's owner "
                "(CREATE DATABASE records OWNER steward), or grant it what the message names",
            )
        if exc.connection_invalidated or "connection" in message or "password" in message:
            return self._unreachable(exc)
        return exc

    # -- schema -----------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the store is at, as recorded; None for an empty database."""
        if self._path is not None and not self._path.exists():
            return None
        with self.read() as conn:
            return _revision(conn)

    def check_schema(self, *, create: bool = True) -> None:
        """Make sure the schema is the one this code reads (creating it if empty)."""
        if self._path is not None and not self._path.exists():
            current = None
        else:
            with self.read() as conn:
                current = self._state(conn)
        if current is None:
            if not create:
                raise StoreSchemaError(
                    f"{self.display_url} holds no mlsteward store",
                    code="store-schema",
                    hint="run `steward store upgrade` to create it",
                )
            self.upgrade()
        elif current != HEAD:
            raise StoreSchemaError(
                f"{self.display_url} is at schema {current}; this mlsteward needs {HEAD}",
                code="store-schema",
                hint=_UPGRADE_HINT,
            )
        elif self._path is not None:
            with self._translated(), self._connect() as conn:
                _use_wal(conn)

    def _state(self, conn: Connection) -> str | None:
        """The store's revision; None for an empty database; raise for one not ours."""
        tables = set(inspect(conn).get_table_names())
        current = _revision(conn) if "alembic_version" in tables else None
        if current is None:
            tables.discard("alembic_version")
            if {"runs", "events"} <= tables:
                raise StoreCorruptError(
                    f"{self.display_url} has mlsteward's tables but no schema revision",
                    code="store-corrupt",
                    hint="restore the store from a backup",
                )
            if tables:
                raise self._foreign(f"holds other tables ({', '.join(sorted(tables)[:5])})")
            return None
        if current in REVISIONS:
            return current
        if re.fullmatch(r"\d{4}", current) and current > HEAD:
            raise StoreSchemaError(
                f"{self.display_url} is at schema {current}, newer than this mlsteward "
                f"(which reads up to {HEAD})",
                code="store-too-new",
                hint="upgrade mlsteward; a store is never downgraded",
            )
        raise self._foreign(f"is at schema revision {current!r}, which is not mlsteward's")

    def _foreign(self, what: str) -> StoreSchemaError:
        return StoreSchemaError(
            f"{self.display_url} {what}: it is not an mlsteward store, and is left untouched",
            code="store-foreign",
            hint="give mlsteward a database of its own ([tool.steward] store); an empty "
            "one is set up on first use",
        )

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema under the write lock; return (from, to).

        Raises:
            StoreSchemaError: the store is newer than this code, or not an mlsteward store.
        """
        from alembic import command

        if self._path is not None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of the store {self._path}: {exc.strerror}",
                    code="store-access",
                    hint="check the permissions, or point [tool.steward] store elsewhere",
                ) from exc
        with self._translated(), self._connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.driver_connection
            if sqlite:
                _use_wal(conn)
                # A migration that rebuilds a table (alembic's batch mode) drops the old one;
                # with foreign keys on, that drop would cascade-delete the rows that point
                # at it. The pragma only takes effect outside a transaction: set it here.
                raw.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            try:
                conn.execution_options(steward_write=True)
                with conn.begin():
                    if not sqlite:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                    before = self._state(conn)
                    if before != HEAD:
                        command.upgrade(alembic_config(conn), "head")
                        if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                            raise StoreCorruptError(
                                f"migrating {self.display_url} left dangling references",
                                code="store-corrupt",
                                hint="nothing was changed; report this as a bug",
                            )
            finally:
                if sqlite:
                    with suppress(Exception):
                        raw.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
        return before, HEAD

    def info(self) -> StoreInfo:
        """Where the store is, its schema revision and how many records it holds.

        Reads only: a store that does not exist yet is not created.
        """
        self.open()
        backend = self.engine.dialect.name
        if self._path is not None and not self._path.exists():
            return StoreInfo(self.display_url, backend, None, HEAD)
        with self.read() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = _revision(conn) if "alembic_version" in tables else None
            counts = {
                name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
                for name in _COUNTED
                if name in tables and revision is not None
            }
        size = None
        if self._path is not None:
            wal = self._path.with_name(self._path.name + "-wal")
            size = sum(p.stat().st_size for p in (self._path, wal) if p.exists())
        return StoreInfo(self.display_url, backend, revision, HEAD, counts, size)


def alembic_config(conn: Connection) -> Config:
    """The alembic configuration that migrates the store behind ``conn`` (in its transaction)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _use_wal(conn: Connection) -> None:
    """Put an SQLite store in WAL mode (kept in the file) so readers never wait for writers.

    Only done to a database known to be a store, or about to become one: opening
    someone else's database must not change it.
    """
    raw: Any = conn.connection.driver_connection
    # Switching needs the file to itself, and SQLite answers "locked" at once, without its
    # busy handler, while another process has it open mid-switch (two first uses racing):
    # retry for the busy timeout, as any other lock would wait.
    deadline = time.monotonic() + float(raw.execute("PRAGMA busy_timeout").fetchone()[0]) / 1000
    while raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            raw.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database before SQLite touches it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(
            f"cannot read the store file {path}: {exc.strerror}",
            code="store-access",
            hint="point [tool.steward] store at an SQLite file you can read and write",
        ) from exc
    if head and head != _SQLITE_MAGIC:
        raise StoreCorruptError(
            f"{path} is not an SQLite database (it starts with {head[:8]!r})",
            code="store-corrupt",
            hint="point [tool.steward] store at the right file, or move this one away",
        )


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


_OPEN: dict[str, Store] = {}


def project_store(project: Project, *, workspace: bool = True) -> Store:
    """The project's store, opened but not checked (what `steward store` works on).

    Args:
        project: the project whose store it is.
        workspace: create ``.steward/`` (git-ignored) when the SQLite file lives in it.
    """
    store = Store(project.store_url)
    store.open()
    if workspace and store.path is not None:
        where = (Path.cwd() / store.path).resolve()
        if where.is_relative_to(project.workspace.resolve()):
            project.ensure_workspace()
    return store


def open_store(project: Project, *, create: bool = True) -> Store:
    """The project's store, connected and checked once per process and URL."""
    url = project.store_url
    store = _OPEN.get(url)
    if store is None:
        store = project_store(project, workspace=create)
        try:
            store.check_schema(create=create)
        except BaseException:
            store.close()
            raise
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
