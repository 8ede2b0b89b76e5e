"""Reading an MLflow tracking store without MLflow: its SQL tables, or its ``mlruns`` files.

mlsteward does not depend on MLflow, so the importer reads what MLflow leaves on disk:

- a SQL store (``sqlite:///mlflow.db``, ``postgresql://...``): the tables ``experiments``,
  ``runs``, ``params``, ``metrics`` and ``tags``, through plain SQL on a read-only
  connection;
- a file store (``./mlruns``, ``file:///.../mlruns``): one folder per experiment with a
  ``meta.yaml``, in it one folder per run with a ``meta.yaml`` and the folders ``params/``,
  ``tags/`` (one file per key, the file holds the value) and ``metrics/`` (one file per key,
  one line ``timestamp value step`` per point). Deleted experiments sit in ``.trash/``.

Both read as a `Source`. Times stay in MLflow's milliseconds here; the importer converts.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from mlsteward.errors import NotFoundError, PathError, StewardError, UsageError
from mlsteward.store.runs import MetricPoint

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = ["Source", "SourceExperiment", "SourceRun", "open_source", "unknown_experiments"]

# MLflow's RunStatus enum, as the file store writes it in meta.yaml
_STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
# MLflow's SQL store cannot hold infinities and writes the largest double instead
_DBL_MAX = sys.float_info.max
_SQL_TABLES = ("experiments", "runs", "params", "metrics", "tags")
_SUPPORTED = (
    "sqlite:///path/mlflow.db, postgresql://user@host/db, a directory such as ./mlruns, "
    "or file:///abs/path/mlruns; for a tracking server (http://...), point at the "
    "server's --backend-store-uri instead"
)


@dataclass(frozen=True, slots=True)
class SourceExperiment:
    """An active MLflow experiment."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SourceRun:
    """One MLflow run's info (times in milliseconds, status as MLflow spells it)."""

    uuid: str
    experiment_id: str
    experiment: str
    name: str | None
    status: str
    start_ms: int | None
    end_ms: int | None
    user: str | None
    artifact_uri: str | None
    deleted: bool


class Source(Protocol):
    """What the importer reads from an MLflow store, whatever its kind."""

    description: str

    def experiments(self) -> list[SourceExperiment]: ...
    def runs(self, experiments: Sequence[SourceExperiment]) -> list[SourceRun]: ...
    def params(self, run: SourceRun) -> dict[str, str]: ...
    def tags(self, run: SourceRun) -> dict[str, str]: ...
    def metrics(self, run: SourceRun) -> Iterator[MetricPoint]: ...
    def close(self) -> None: ...


def open_source(uri: str) -> Source:
    """Open the MLflow store at ``uri`` for reading.

    Raises:
        UsageError: ``uri`` is not a form the importer reads (code ``import-source``), or
            names something that is not an MLflow store (``import-not-mlflow``).
        PathError: the file or directory does not exist (``path-missing``).
        StewardError: the database cannot be reached or read (``import-unreadable``).
    """
    scheme = urlparse(uri).scheme.lower()
    if scheme.startswith(("sqlite", "postgres")):
        source: SqlSource | FileSource = SqlSource(uri)
    elif scheme == "file":
        source = FileSource(Path(unquote(urlparse(uri).path)))
    elif scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive
        raise UsageError(
            f"cannot import from {uri.split('://')[0]}:// URIs",
            code="import-source",
            hint=f"give an MLflow store as {_SUPPORTED}",
        )
    else:
        # a bare path to a file reads as sqlite:///that-file (mlflow.db)
        path = Path(uri).expanduser()
        source = SqlSource(f"sqlite:///{path}") if path.is_file() else FileSource(path)
    source.open()
    return source


def _not_mlflow(what: str, why: str) -> UsageError:
    return UsageError(
        f"{what} is not an MLflow tracking store: {why}",
        code="import-not-mlflow",
        hint=f"give the store MLflow writes runs to: {_SUPPORTED}",
    )


def _malformed(where: str, why: str) -> StewardError:
    return StewardError(
        f"the MLflow store has a malformed record at {where}: {why}",
        code="import-malformed",
        hint="check that MLflow itself can read this store (mlflow ui); nothing was imported "
        "for this run, and the runs before it are kept",
    )


class SqlSource:
    """An MLflow SQL store, read through plain SQL on a read-only connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = url.split("://")[0] + "://..."  # until parsed: never a password
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._columns: dict[str, set[str]] = {}

    def open(self) -> None:
        """Connect read-only and check the MLflow tables are there."""
        from sqlalchemy import inspect

        try:
            self._engine = self._create_engine()
            self._conn = self._engine.connect()
            inspector = inspect(self._conn)
            tables = set(inspector.get_table_names())
            missing = [t for t in _SQL_TABLES if t not in tables]
            if missing:
                raise _not_mlflow(self.description, f"it has no table {', '.join(missing)}")
            for table in ("runs", "metrics", "experiments"):
                self._columns[table] = {c["name"] for c in inspector.get_columns(table)}
        except Exception as exc:
            self.close()
            raise self._unreadable(exc) from exc

    def _unreadable(self, exc: Exception) -> Exception:
        """A database error as ``import-unreadable``; anything else as it is."""
        from sqlalchemy.exc import ArgumentError, DBAPIError

        if not isinstance(exc, ArgumentError | DBAPIError):
            return exc
        return StewardError(
            f"cannot read the MLflow store {self.description}: {_first_line(exc)}",
            code="import-unreadable",
            hint="check the URL, that the server runs, and that this user may read it",
        )

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raised = self._unreadable(exc)
            if raised is exc:
                raise
            raise raised from exc

    def _create_engine(self) -> Engine:
        import sqlite3

        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        self.description = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "").expanduser()
            if not url.database or not path.is_file():
                raise PathError(
                    f"the MLflow database {path} does not exist",
                    code="path-missing",
                    hint="give the file MLflow was started with: sqlite:///path/mlflow.db",
                )
            with path.open("rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise _not_mlflow(str(path), "it is not an SQLite database")
            ro_uri = path.resolve().as_uri() + "?mode=ro"
            return create_engine(
                "sqlite+pysqlite://", creator=lambda: sqlite3.connect(ro_uri, uri=True)
            )
        if url.get_backend_name() not in ("postgresql", "postgres"):
            raise UsageError(
                f"cannot import from {url.get_backend_name()} databases",
                code="import-source",
                hint=f"give an MLflow store as {_SUPPORTED}",
            )
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        try:
            return create_engine(
                url,
                connect_args={
                    "connect_timeout": 10,
                    "options": "-c default_transaction_read_only=on",
                },
            )
        except ModuleNotFoundError as exc:
            raise UsageError(
                f"the PostgreSQL driver for {self.description} is not installed ({exc.name})",
                code="import-source",
                hint="install it: pip install 'mlsteward[postgres]'",
            ) from exc

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "SqlSource.open() first"
        return self._conn

    def experiments(self) -> list[SourceExperiment]:
        from sqlalchemy import text

        stage = "lifecycle_stage" if "lifecycle_stage" in self._columns["experiments"] else "NULL"
        query = f"SELECT experiment_id, name, {stage} FROM experiments ORDER BY experiment_id"  # noqa: S608
        with self._reading():
            rows = self.conn.execute(text(query)).all()
        return [SourceExperiment(str(r[0]), str(r[1])) for r in rows if r[2] in (None, "active")]

    def runs(self, experiments: Sequence[SourceExperiment]) -> list[SourceRun]:
        from sqlalchemy import bindparam, text

        if not experiments:
            return []
        names = {e.id: e.name for e in experiments}
        have = self._columns["runs"]
        name = "name" if "name" in have else "NULL"
        artifact = "artifact_uri" if "artifact_uri" in have else "NULL"
        stage = "lifecycle_stage" if "lifecycle_stage" in have else "'active'"
        query = text(
            f"SELECT run_uuid, experiment_id, {name}, status, start_time, end_time, "  # noqa: S608
            f"user_id, {artifact}, {stage} FROM runs WHERE experiment_id IN :ids "
            "ORDER BY start_time, run_uuid"
        ).bindparams(bindparam("ids", expanding=True))
        ids: list[Any] = [int(i) if i.isdigit() else i for i in names]
        with self._reading():
            rows = self.conn.execute(query, {"ids": ids}).all()
        return [
            SourceRun(
                uuid=r[0],
                experiment_id=str(r[1]),
                experiment=names[str(r[1])],
                name=r[2],
                status=str(r[3] or "RUNNING"),
                start_ms=r[4],
                end_ms=r[5],
                user=r[6],
                artifact_uri=r[7],
                deleted=r[8] == "deleted",
            )
            for r in rows
        ]

    def params(self, run: SourceRun) -> dict[str, str]:
        return self._pairs("params", run)

    def tags(self, run: SourceRun) -> dict[str, str]:
        return self._pairs("tags", run)

    def _pairs(self, table: str, run: SourceRun) -> dict[str, str]:
        from sqlalchemy import text

        query = text(f"SELECT key, value FROM {table} WHERE run_uuid = :r")  # noqa: S608
        with self._reading():
            rows = self.conn.execute(query, {"r": run.uuid}).all()
        return {r[0]: "" if r[1] is None else str(r[1]) for r in rows}

    def metrics(self, run: SourceRun) -> Iterator[MetricPoint]:
        from sqlalchemy import text

        have = self._columns["metrics"]
        step = "step" if "step" in have else "0"  # MLflow before 1.0 had no steps
        is_nan = "is_nan" if "is_nan" in have else "0"
        query = text(
            f"SELECT key, value, timestamp, {step}, {is_nan} FROM metrics "  # noqa: S608
            "WHERE run_uuid = :r ORDER BY key, timestamp" + (", step" if step == "step" else "")
        ).execution_options(yield_per=5000)
        with self._reading():
            for key, value, ts, st, nan in self.conn.execute(query, {"r": run.uuid}):
                yield MetricPoint(key, _sql_value(value, nan), int(st or 0), (ts or 0) / 1000)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _sql_value(value: float | None, is_nan: Any) -> float:
    if is_nan or value is None:
        return math.nan
    # MLflow wrote +/-inf as +/-DBL_MAX because SQL cannot hold infinities; undo that
    if abs(value) == _DBL_MAX:
        return math.copysign(math.inf, value)
    return float(value)


class FileSource:
    """An MLflow file store (``mlruns``): folders of YAML and plain-text files."""

    _RESERVED = frozenset({"tags", "datasets", "traces", "models", "outputs", "inputs"})

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)

    def open(self) -> None:
        """Check the folder looks like an MLflow file store."""
        root = self.root.expanduser()
        if not root.exists():
            raise PathError(
                f"the MLflow store {root} does not exist",
                code="path-missing",
                hint="give the folder MLflow wrote (./mlruns by default)",
            )
        if not root.is_dir():
            raise _not_mlflow(str(root), "it is neither a folder nor an SQLite database")
        self.root = root.resolve()
        self.description = str(self.root)
        if not any((d / "meta.yaml").is_file() for d in self._experiment_dirs()):
            raise _not_mlflow(self.description, "no experiment folder with a meta.yaml in it")

    def _experiment_dirs(self) -> list[Path]:
        return sorted(
            d
            for d in self.root.iterdir()
            if d.is_dir()
            and not d.is_symlink()
            and not d.name.startswith(".")
            and d.name != "models"  # the model registry's folder
        )

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for d in self._experiment_dirs():
            meta = self._meta(d / "meta.yaml")
            if meta is None or meta.get("lifecycle_stage", "active") != "active":
                continue
            if "name" not in meta:
                raise _malformed(str(d / "meta.yaml"), "it has no experiment name")
            found.append(SourceExperiment(d.name, str(meta["name"])))
        return found

    def runs(self, experiments: Sequence[SourceExperiment]) -> list[SourceRun]:
        found = []
        for exp in experiments:
            for d in sorted((self.root / exp.id).iterdir()):
                if d.name in self._RESERVED or not d.is_dir() or d.is_symlink():
                    continue
                meta = self._meta(d / "meta.yaml")
                if meta is None or str(meta.get("run_id", meta.get("run_uuid"))) != d.name:
                    continue  # not a run folder (MLflow checks the same way)
                found.append(_file_run(meta, exp))
        found.sort(key=lambda r: (r.start_ms or 0, r.uuid))
        return found

    def _run_dir(self, run: SourceRun) -> Path:
        return self.root / run.experiment_id / run.uuid

    def params(self, run: SourceRun) -> dict[str, str]:
        return self._texts(self._run_dir(run) / "params")

    def tags(self, run: SourceRun) -> dict[str, str]:
        return self._texts(self._run_dir(run) / "tags")

    def metrics(self, run: SourceRun) -> Iterator[MetricPoint]:
        for key, path in self._files(self._run_dir(run) / "metrics"):
            with path.open(encoding="utf-8") as lines:  # line by line: histories get long
                for number, line in enumerate(lines, 1):
                    if line.strip():
                        where = f"metrics/{key} line {number} of run {run.uuid}"
                        yield _metric_line(key, line, where)

    def _texts(self, folder: Path) -> dict[str, str]:
        return {key: path.read_text(encoding="utf-8") for key, path in self._files(folder)}

    def _files(self, folder: Path) -> Iterator[tuple[str, Path]]:
        """(key, path) of each file under ``folder``; a key with ``/`` is a subfolder."""
        if not folder.is_dir():
            return
        for top, dirs, files in os.walk(folder):  # never follows links
            dirs.sort()
            for name in sorted(files):
                path = Path(top) / name
                if path.is_symlink():  # MLflow writes none; never read outside the store
                    continue
                yield path.relative_to(folder).as_posix(), path

    def _meta(self, path: Path) -> dict[str, Any] | None:
        import yaml

        if not path.is_file() or path.is_symlink():
            return None
        try:
            meta = yaml.load(path.read_text(encoding="utf-8"), Loader=_yaml_loader())  # noqa: S506
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise _malformed(str(path), f"it is not valid YAML ({exc})") from exc
        if not isinstance(meta, dict):
            raise _malformed(str(path), "it is not a YAML mapping")
        return meta

    def close(self) -> None:
        """Nothing to release: files are opened and closed one at a time."""


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _file_run(meta: dict[str, Any], experiment: SourceExperiment) -> SourceRun:
    status = meta.get("status", 1)
    return SourceRun(
        uuid=str(meta.get("run_id", meta.get("run_uuid"))),
        experiment_id=experiment.id,
        experiment=experiment.name,
        name=meta.get("run_name") or None,
        status=_STATUS_NUMBERS.get(status, str(status)) if isinstance(status, int) else str(status),
        start_ms=_int_or_none(meta.get("start_time")),
        end_ms=_int_or_none(meta.get("end_time")),
        user=meta.get("user_id") or None,
        artifact_uri=meta.get("artifact_uri") or None,
        deleted=meta.get("lifecycle_stage", "active") == "deleted",
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _metric_line(key: str, line: str, where: str) -> MetricPoint:
    """One line of a metric file: ``timestamp value [step [dataset digest]]``."""
    parts = line.split()
    if len(parts) not in (2, 3, 5):
        raise _malformed(where, f"expected 'timestamp value step', got {line.strip()!r}")
    try:
        return MetricPoint(
            key, float(parts[1]), int(parts[2]) if len(parts) > 2 else 0, int(parts[0]) / 1000
        )
    except ValueError as exc:
        raise _malformed(where, f"{line.strip()!r} does not hold numbers") from exc


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def unknown_experiments(wanted: Sequence[str], have: Sequence[SourceExperiment]) -> None:
    """Raise for experiment names the store does not hold, listing the ones it does."""
    names = {e.name for e in have}
    missing = [w for w in wanted if w not in names]
    if missing:
        raise NotFoundError(
            f"the MLflow store has no active experiment {', '.join(map(repr, missing))}",
            code="not-found",
            hint="its experiments are: " + (", ".join(sorted(names)) or "(none)"),
        )
