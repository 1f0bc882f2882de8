"""round messages and reasoning, task calibration

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("messages_zlib", sa.LargeBinary(), nullable=True))
    op.add_column("predictions", sa.Column("reasoning", sa.JSON(), nullable=True))
    op.add_column("failures", sa.Column("messages_zlib", sa.LargeBinary(), nullable=True))
    op.add_column("tasks", sa.Column("calibration", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "calibration")
    op.drop_column("failures", "messages_zlib")
    op.drop_column("predictions", "reasoning")
    op.drop_column("predictions", "messages_zlib")
