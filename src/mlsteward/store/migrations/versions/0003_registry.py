"""The model registry: registered models, versions, their data, aliases, moves, verdicts.

Alias moves and gate verdicts are the registry's audit trail: like the events, the
database refuses to change or delete them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(32)
HASH = sa.String(64)
SERIAL = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_GUARDED = ("alias_moves", "verdicts")

_SQLITE_GUARD = """
CREATE TRIGGER {table}_append_only_{op} BEFORE {OP} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END
"""
_PG_GUARD_FN = """
CREATE FUNCTION steward_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql
"""
_PG_GUARD = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION steward_append_only()
"""
_PG_GUARD_TRUNCATE = """
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION steward_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registered_models"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("trust", sa.Text, nullable=False),
        sa.Column("run_id", ID),
        sa.Column("git_commit", sa.String(40)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("deleted", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name="fk_model_versions_model_id_registered_models",
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_model_versions_artifact_id_artifacts"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_model_versions_run_id_runs", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    )
    op.create_table(
        "model_datasets",
        sa.Column("version_id", ID, nullable=False),
        sa.Column("dataset_version_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint(
            "version_id", "dataset_version_id", "role", name="pk_model_datasets"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name="fk_model_datasets_version_id_model_versions",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name="fk_model_datasets_dataset_version_id_dataset_versions",
        ),
    )
    op.create_table(
        "aliases",
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("moved", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_aliases"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["registered_models.id"], name="fk_aliases_model_id_registered_models"
        ),
    )
    op.create_table(
        "alias_moves",
        sa.Column("id", SERIAL, nullable=False, autoincrement=True),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("verdict_id", ID),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alias_moves"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["registered_models.id"], name="fk_alias_moves_model_id_registered_models"
        ),
    )
    op.create_index("ix_alias_moves_model_id_alias_id", "alias_moves", ["model_id", "alias", "id"])
    op.create_table(
        "verdicts",
        sa.Column("id", ID, nullable=False),
        sa.Column("version_id", ID, nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("policy_hash", HASH, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("dataset_version_id", ID),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verdicts"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["model_versions.id"], name="fk_verdicts_version_id_model_versions"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name="fk_verdicts_dataset_version_id_dataset_versions",
        ),
    )
    op.create_index("ix_verdicts_version_id_policy", "verdicts", ["version_id", "policy"])
    if op.get_bind().dialect.name == "sqlite":
        for table in _GUARDED:
            for name in ("update", "delete"):
                op.execute(_SQLITE_GUARD.format(table=table, op=name, OP=name.upper()))
    else:
        op.execute(_PG_GUARD_FN)
        for table in _GUARDED:
            op.execute(_PG_GUARD.format(table=table))
            op.execute(_PG_GUARD_TRUNCATE.format(table=table))


def downgrade() -> None:
    for table in (
        "verdicts", "alias_moves", "aliases", "model_datasets", "model_versions",
        "registered_models",
    ):  # fmt: skip
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION steward_append_only()")
