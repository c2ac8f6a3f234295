"""Dataset contact column mapping: how the upload's contacts file names our columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `datasets.contact_columns` (no mapping for the datasets stored so far)."""
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("contact_columns", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop `datasets.contact_columns` again."""
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("contact_columns")
