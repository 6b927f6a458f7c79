"""queue bookkeeping on documents: claim token/holder/time, submitted_at, task_attempts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("documents") as b:
        b.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        b.add_column(sa.Column("claimed_at", UTC_TS, nullable=True))
        b.add_column(sa.Column("submitted_at", UTC_TS, nullable=True))
        b.add_column(sa.Column("task_attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("documents") as b:
        b.drop_column("task_attempts")
        b.drop_column("submitted_at")
        b.drop_column("claimed_at")
        b.drop_column("claimed_by")
        b.drop_column("claim_token")
