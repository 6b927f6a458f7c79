"""deliveries: the outbox of records for legacy targets (pipeline/store/outbox.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("unencodable", sa.JSON(), nullable=True),
        sa.Column("sent", sa.JSON(), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", UTC_TS, nullable=True),
        sa.Column("next_attempt_at", UTC_TS, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.Column("delivered_at", UTC_TS, nullable=True),
        sa.Column("verified_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_deliveries_document_id_documents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
    )
    op.create_index("ix_deliveries_document_id", "deliveries", ["document_id"])
    op.create_index("ix_deliveries_target_state", "deliveries", ["target", "state"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_target_state", table_name="deliveries")
    op.drop_index("ix_deliveries_document_id", table_name="deliveries")
    op.drop_table("deliveries")
