"""Scenario runs: a run may be carried out by a background job (its status and progress).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `runs.job_id` (no foreign key: a run outlives the job rows of a deleted dataset)."""
    op.add_column("runs", sa.Column("job_id", sa.String(32), nullable=True))
    op.create_index("ix_runs_job_id", "runs", ["job_id"])


def downgrade() -> None:
    """Drop `runs.job_id`."""
    op.drop_index("ix_runs_job_id", table_name="runs")
    op.drop_column("runs", "job_id")
