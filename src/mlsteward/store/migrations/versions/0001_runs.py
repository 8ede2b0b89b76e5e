"""Runs, params, metrics, tags, artifacts, edges and the append-only event log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(32)
HASH = sa.String(64)
KEY = sa.String(250)
SERIAL = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# The event log is the audit trail: the database itself refuses to change or drop a row.
_SQLITE_GUARD = """
CREATE TRIGGER events_append_only_{op} BEFORE {OP} ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
"""
_PG_GUARD_FN = """
CREATE FUNCTION steward_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END $$ LANGUAGE plpgsql
"""
_PG_GUARD = """
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION steward_events_append_only()
"""
_PG_GUARD_TRUNCATE = """
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION steward_events_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("hash", HASH, nullable=False),
        sa.Column("python", sa.String(64), nullable=False),
        sa.Column("packages", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_environments"),
    )
    op.create_table(
        "runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("experiment", sa.String(250), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float),
        sa.Column("heartbeat", sa.Float),
        sa.Column("git_commit", sa.String(40)),
        sa.Column("git_branch", sa.String(250)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("git_diff_hash", HASH),
        sa.Column("lock_file", sa.String(250)),
        sa.Column("lock_hash", HASH),
        sa.Column("environment", HASH),
        sa.Column("python", sa.String(64)),
        sa.Column("command", sa.Text),
        sa.Column("seeds", sa.Text),
        sa.Column("host", sa.String(250)),
        sa.Column("user", sa.String(250)),
        sa.Column("pid", sa.Integer),
        sa.Column("pid_start", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["environment"], ["environments.hash"], name="fk_runs_environment_environments"
        ),
    )
    op.create_index("ix_runs_start_time", "runs", ["start_time"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_name", "runs", ["name"])
    op.create_table(
        "params",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("value_num", sa.Float),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_params"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_params_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_params_key_value_num", "params", ["key", "value_num"])
    op.create_table(
        "metrics",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_metrics_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_metrics_run_id_key_step", "metrics", ["run_id", "key", "step"])
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_latest_metrics_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.create_table(
        "tags",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_tags"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_tags_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("is_tree", sa.Boolean, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
    )
    op.create_index("ix_artifacts_hash", "artifacts", ["hash"])
    op.create_table(
        "edges",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_edges"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_edges_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_edges_artifact_id_artifacts"
        ),
        sa.UniqueConstraint(
            "run_id", "artifact_id", "direction", name="uq_edges_run_id_artifact_id_direction"
        ),
    )
    op.create_index("ix_edges_artifact_id", "edges", ["artifact_id"])
    op.create_table(
        "events",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_subject", "events", ["subject"])
    op.create_index("ix_events_kind", "events", ["kind"])
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(_SQLITE_GUARD.format(op=name, OP=name.upper()))
    else:
        op.execute(_PG_GUARD_FN)
        op.execute(_PG_GUARD)
        op.execute(_PG_GUARD_TRUNCATE)


def downgrade() -> None:
    for table in (
        "events", "edges", "artifacts", "tags", "latest_metrics", "metrics", "params", "runs",
        "environments",
    ):  # fmt: skip
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION steward_events_append_only()")
