"""Workspaces: every dataset, job and run belongs to the workspace of the key that made it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("datasets", "jobs", "runs")


def upgrade() -> None:
    """Add `workspace` (rows stored before belong to `default`) with an index per table."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("workspace", sa.String(64), nullable=False, server_default="default")
            )
        op.create_index(f"ix_{table}_workspace", table, ["workspace"])


def downgrade() -> None:
    """Drop `workspace` again."""
    for table in TABLES:
        op.drop_index(f"ix_{table}_workspace", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("workspace")
