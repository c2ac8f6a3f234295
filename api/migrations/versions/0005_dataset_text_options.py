"""Dataset reading options: the column mapping, decimal separator and timestamp format an
upload was read with.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `datasets.columns` (no mapping for the datasets stored so far), `datasets.decimal`
    ('.') and `datasets.timestamp_format` (none)."""
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("columns", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("decimal", sa.String(1), nullable=False, server_default="."))
        batch.add_column(sa.Column("timestamp_format", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the two columns again."""
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("timestamp_format")
        batch.drop_column("decimal")
        batch.drop_column("columns")
