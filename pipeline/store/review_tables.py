"""Tables of the review web page: users, review events and login sessions (SQLAlchemy 2).

Created by Alembic revision 0003 (`pipeline/store/migrations/versions/0003_review.py`). The review
columns on `documents` (qa_sample, deadline, review_claimed_by, review_claimed_until) live on
`DocumentRow` itself. A review event keeps the machine's value and the clerk's value side by side;
for a 個人番号 both are stored encrypted (`pipeline.store.crypto`), never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipeline.errors import BusinessRuleError
from pipeline.store.tables import Base, DocumentRow, FieldRow, PageRow, UTCDateTime, utcnow

ROLES: tuple[str, ...] = ("reviewer", "supervisor", "admin")

# What a clerk did to one field or document (review_events.action).
ACTIONS: frozenset[str] = frozenset(
    {
        "confirm",
        "correct",
        "double_entry",
        "double_mismatch",
        "supervisor_resolve",
        "postpone",
        "reject_document",
        "accept_document",
        "qa_confirm",
        "qa_correct",
    }
)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewEventRow(Base):
    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    page_index: Mapped[int | None] = mapped_column(Integer)
    field_name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    machine_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    final_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    auto_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    qa: Mapped[bool] = mapped_column(Boolean, default=False)
    ms_spent: Mapped[int | None] = mapped_column(Integer)
    keystrokes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebSessionRow(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of the
    database cannot be used to log in."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # my_number fields this session may see in clear (granted by a logged "reveal"), as "doc:page:field".
    revealed: Mapped[Any] = mapped_column(JSON, nullable=True, default=list)


class ReviewIncomplete(BusinessRuleError):
    """A document cannot be accepted: flagged fields are not settled yet."""

    reason = "review_incomplete"

    def __init__(self, document_id: int, fields: list[tuple[int, str]]) -> None:
        self.document_id, self.fields = document_id, fields
        names = ", ".join(f"p{p + 1}:{n}" for p, n in fields[:10])
        super().__init__(f"document {document_id} has {len(fields)} unsettled flagged field(s): {names}")


def unsettled_fields(session: Session, document_id: int) -> list[tuple[int, str]]:
    """(page index, field name) of each field a person must still settle: flagged by the pipeline
    (or every field of a QA sample) and not yet confirmed or corrected."""
    qa = session.scalar(select(DocumentRow.qa_sample).where(DocumentRow.id == document_id))
    q = (
        select(PageRow.index, FieldRow.name)
        .join(PageRow, FieldRow.page_id == PageRow.id)
        .where(PageRow.document_id == document_id, FieldRow.corrected_at.is_(None))
        .order_by(PageRow.index, FieldRow.position)
    )
    if not qa:
        q = q.where(FieldRow.accepted.is_(False))
    return [(int(p), str(n)) for p, n in session.execute(q)]


def ensure_acceptable(session: Session, document_id: int) -> None:
    """Raise ReviewIncomplete unless every flagged field of the document is settled."""
    left = unsettled_fields(session, document_id)
    if left:
        raise ReviewIncomplete(document_id, left)


def qa_selected(sha256: str, rate: float) -> bool:
    """Whether an auto-accepted document is drawn for QA: a fixed share by its sha256, so the same
    file is always drawn the same way (re-runs do not re-draw) and the draw cannot be steered."""
    if rate <= 0:
        return False
    return int(sha256[:12] or "0", 16) / float(16**12) < rate
