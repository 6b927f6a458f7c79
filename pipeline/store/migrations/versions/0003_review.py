"""review web page: users, review_events, web_sessions; review columns on documents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("documents") as b:
        b.add_column(sa.Column("qa_sample", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        b.add_column(sa.Column("review_claimed_by", sa.String(length=128), nullable=True))
        b.add_column(sa.Column("review_claimed_until", UTC_TS, nullable=True))
    with op.batch_alter_table("fields") as b:
        b.add_column(sa.Column("double_entry", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Rows stored before this revision did not say; the bundled templates key 個人番号 twice.
    op.execute(sa.text("UPDATE fields SET double_entry = :t WHERE kind = 'my_number'").bindparams(t=True))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=True),
        sa.Column("field_name", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("machine_value", sa.JSON(), nullable=True),
        sa.Column("final_value", sa.JSON(), nullable=True),
        sa.Column("auto_accepted", sa.Boolean(), nullable=False),
        sa.Column("qa", sa.Boolean(), nullable=False),
        sa.Column("ms_spent", sa.Integer(), nullable=True),
        sa.Column("keystrokes", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=512), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_review_events_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_events")),
    )
    op.create_index(op.f("ix_review_events_document_id"), "review_events", ["document_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("expires_at", UTC_TS, nullable=False),
        sa.Column("revealed", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_review_events_document_id"), table_name="review_events")
    op.drop_table("review_events")
    op.drop_table("users")
    with op.batch_alter_table("fields") as b:
        b.drop_column("double_entry")
    with op.batch_alter_table("documents") as b:
        b.drop_column("review_claimed_until")
        b.drop_column("review_claimed_by")
        b.drop_column("deadline")
        b.drop_column("qa_sample")
