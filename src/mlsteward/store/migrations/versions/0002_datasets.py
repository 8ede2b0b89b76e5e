"""Datasets and their versions, with slots for the profile and schema of each version.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("code_commit", sa.String(40)),
        sa.Column("code_dirty", sa.Boolean),
        sa.Column("run_id", ID),
        sa.Column("profile_artifact_id", ID),
        sa.Column("schema_artifact_id", ID),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_versions"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_versions_dataset_id_datasets"
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_dataset_versions_artifact_id_artifacts"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_dataset_versions_run_id_runs", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["profile_artifact_id"],
            ["artifacts.id"],
            name="fk_dataset_versions_profile_artifact_id_artifacts",
        ),
        sa.ForeignKeyConstraint(
            ["schema_artifact_id"],
            ["artifacts.id"],
            name="fk_dataset_versions_schema_artifact_id_artifacts",
        ),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
    )


def downgrade() -> None:
    op.drop_table("dataset_versions")
    op.drop_table("datasets")
