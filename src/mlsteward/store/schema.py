"""The metadata store's tables (SQLAlchemy Core), as the latest migration leaves them.

Times are seconds since the epoch (UTC) as doubles: portable between SQLite and
PostgreSQL, sortable, and what ``time.time()`` gives. Ids are server-made hex strings;
no record is ever addressed by a user's path. Changing a table means adding an alembic
migration under ``migrations/versions``; a test checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "alias_moves",
    "aliases",
    "artifacts",
    "dataset_versions",
    "datasets",
    "edges",
    "environments",
    "events",
    "latest_metrics",
    "metadata",
    "metrics",
    "model_datasets",
    "model_versions",
    "params",
    "registered_models",
    "runs",
    "tags",
    "verdicts",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
HASH = String(64)
KEY = String(250)
SERIAL = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

environments = Table(
    "environments",
    metadata,
    Column("hash", HASH, primary_key=True),
    Column("python", String(64), nullable=False),
    Column("packages", Text, nullable=False),  # JSON: {"name": "version", ...}
    Column("created", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(250), nullable=False),
    Column("experiment", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float),
    Column("heartbeat", Float),
    Column("git_commit", String(40)),
    Column("git_branch", String(250)),
    Column("git_dirty", Boolean),
    Column("git_diff_hash", HASH),
    Column("lock_file", String(250)),
    Column("lock_hash", HASH),
    Column("environment", HASH, ForeignKey("environments.hash")),
    Column("python", String(64)),
    Column("command", Text),
    Column("seeds", Text),  # JSON: {"random": 1, "numpy": 1, "torch": 1}
    Column("host", String(250)),
    Column("user", String(250)),
    Column("pid", Integer),
    Column("pid_start", BigInteger),  # the process's start time, so a reused pid is not alive
    Column("error", Text),
    Index(None, "start_time"),
    Index(None, "status"),
    Index(None, "name"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
    Column("value_num", Float),  # the value read as a number, when it is one
    Index(None, "key", "value_num"),
)

metrics = Table(
    "metrics",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", KEY, nullable=False),
    Column("value", Float),  # NULL only for NaN, which SQLite cannot hold as a REAL
    Column("is_nan", Boolean, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("time", Float, nullable=False),
    Index(None, "run_id", "key", "step"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Float),
    Column("is_nan", Boolean, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("time", Float, nullable=False),
    Index(None, "key", "value"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(16), nullable=False),  # dataset, model, profile, schema, report, file
    Column("hash", HASH, nullable=False),  # sha256 of the bytes, or of the tree manifest
    Column("is_tree", Boolean, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("files", Integer, nullable=False),
    Column("uri", Text, nullable=False),  # where the object store holds it
    Column("name", Text, nullable=False),  # the path it came from, for people to read
    Column("created", Float, nullable=False),
    Index(None, "hash"),
)

edges = Table(
    "edges",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("artifact_id", ID, ForeignKey("artifacts.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # consumed | produced
    Column("time", Float, nullable=False),
    UniqueConstraint("run_id", "artifact_id", "direction"),
    Index(None, "artifact_id"),
)

events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("time", Float, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("kind", String(64), nullable=False),  # run.start, dataset.version, ...
    Column("subject", String(250), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Index(None, "subject"),
    Index(None, "kind"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("dataset_id", ID, ForeignKey("datasets.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("artifact_id", ID, ForeignKey("artifacts.id"), nullable=False),
    Column("path", Text, nullable=False),  # where it sat in the project, for checkout
    Column("source", Text, nullable=False),
    Column("code_commit", String(40)),
    Column("code_dirty", Boolean),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="SET NULL")),  # the run that made it
    Column("profile_artifact_id", ID, ForeignKey("artifacts.id")),  # the data issue fills these
    Column("schema_artifact_id", ID, ForeignKey("artifacts.id")),
    Column("created", Float, nullable=False),
    UniqueConstraint("dataset_id", "version"),
)

# -- the model registry (migration 0003) -------------------------------------------------------

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("registered_models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("artifact_id", ID, ForeignKey("artifacts.id"), nullable=False),
    Column("format", String(32), nullable=False),  # a model format id: skops, onnx, pickle, ...
    Column("signature", Text, nullable=False),  # JSON: {"inputs": [...], "outputs": [...]}
    Column("trust", Text, nullable=False),  # JSON: types trusted to load it, and who said so
    Column("run_id", ID, ForeignKey("runs.id", ondelete="SET NULL")),  # the producing run
    Column("git_commit", String(40)),
    Column("git_dirty", Boolean),
    Column("forced", Boolean, nullable=False),  # registered without provenance: marked for ever
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("actor", String(250), nullable=False),
    Column("deleted", Float),  # when it was deleted; the row stays for the history
    UniqueConstraint("model_id", "version"),
)

model_datasets = Table(
    "model_datasets",
    metadata,
    Column("version_id", ID, ForeignKey("model_versions.id"), primary_key=True),
    Column("dataset_version_id", ID, ForeignKey("dataset_versions.id"), primary_key=True),
    Column("role", String(16), primary_key=True),  # train | eval
)

aliases = Table(
    "aliases",
    metadata,
    Column("model_id", ID, ForeignKey("registered_models.id"), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("revision", Integer, nullable=False),  # bumped by every move: compare-and-set
    Column("moved", Float, nullable=False),
)

alias_moves = Table(
    "alias_moves",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("model_id", ID, ForeignKey("registered_models.id"), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version", Integer),  # None: the alias is new
    Column("to_version", Integer),  # None: the alias was removed
    Column("kind", String(16), nullable=False),  # promote | rollback | remove
    Column("reason", Text, nullable=False),
    Column("verdict_id", ID),  # the passing verdict the move relied on, if a policy asked
    Column("time", Float, nullable=False),
    Column("actor", String(250), nullable=False),
    Index(None, "model_id", "alias", "id"),
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("version_id", ID, ForeignKey("model_versions.id"), nullable=False),
    Column("policy", String(64), nullable=False),  # the alias whose policy was checked
    Column("policy_hash", HASH, nullable=False),  # sha256 of the policy's canonical JSON
    Column("passed", Boolean, nullable=False),
    Column("checks", Text, nullable=False),  # JSON: [{check, passed, measured, expected}]
    Column("dataset_version_id", ID, ForeignKey("dataset_versions.id")),  # evaluation data
    Column("time", Float, nullable=False),
    Column("actor", String(250), nullable=False),
    Index(None, "version_id", "policy"),
)
