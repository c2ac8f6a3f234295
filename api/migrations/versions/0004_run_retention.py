"""Run retention: an allocation run past the retention settings keeps its summary only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `runs.compacted_at`, and the index the retention pass finds its rows by."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("compacted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_runs_retention", "runs", ["kind", "compacted_at", "created_at"])


def downgrade() -> None:
    """Drop the index and `runs.compacted_at` again."""
    op.drop_index("ix_runs_retention", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("compacted_at")
