"""pages.aligned_path dropped: nothing ever wrote it (aligned pages are not kept)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as b:
        b.drop_column("aligned_path")


def downgrade() -> None:
    with op.batch_alter_table("pages") as b:
        b.add_column(sa.Column("aligned_path", sa.String(length=1024), nullable=True))
