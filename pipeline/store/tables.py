"""Tables of the store (SQLAlchemy 2 declarative). The schema itself is created by Alembic
(`pipeline/store/migrations`); a change here needs a new revision there.

Every timestamp is timezone-aware UTC (`UTCDateTime`), on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Document workflow states. The first four are the pipeline's routes (`pipeline.result.Route`).
# `review` is the review page's "to_review"; in_review/postponed/rejected are set by the review page.
STATUSES: frozenset[str] = frozenset(
    {"accepted", "review", "quarantined", "unknown_form", "processing", "exported"}
    | {"in_review", "postponed", "rejected"}
)
# Where a document can rest: every status but `processing` (which a worker or the sweeper moves on).
FINAL_STATUSES: frozenset[str] = STATUSES - {"processing"}

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns an aware UTC datetime. Naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store keeps timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(String(512))
    stored_path: Mapped[str | None] = mapped_column(String(1024))
    kind: Mapped[str | None] = mapped_column(String(16))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer)
    # `status` is the workflow state (STATUSES); `route` is the pipeline's last verdict (a Route).
    status: Mapped[str] = mapped_column(String(32), index=True)
    route: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    form_id: Mapped[str | None] = mapped_column(String(128), index=True)
    form_version: Mapped[str | None] = mapped_column(String(64))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Queue bookkeeping while `processing` (pipeline/intake/jobs.py): the task delivery holding the document
    # (Celery task id), the process it ran in and since when; when it was last queued; how many
    # times a worker started it since then (capped by settings.task_max_attempts).
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The claim holds until then; the holder's heartbeat (pipeline/intake/heartbeat.py) moves it on
    # while the document runs, so a dead holder's claim runs out within one lease.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    task_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Review page (web/): a QA sample of an auto-accepted document; its deadline; who has it open
    # and until when (a lease: an abandoned document returns to the queue when it runs out).
    qa_sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    deadline: Mapped[date | None] = mapped_column(Date)
    review_claimed_by: Mapped[str | None] = mapped_column(String(128))
    review_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    pages: Mapped[list[PageRow]] = relationship(
        back_populates="document",
        order_by="PageRow.index",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class PageRow(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column("index", Integer)
    form_id: Mapped[str | None] = mapped_column(String(128))
    form_version: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(32))
    orientation: Mapped[int] = mapped_column(Integer, default=0)
    skew_deg: Mapped[float] = mapped_column(Float, default=0.0)
    match_score: Mapped[float] = mapped_column(Float, default=0.0)
    issues: Mapped[Any] = mapped_column(JSON)

    document: Mapped[DocumentRow] = relationship(back_populates="pages")
    fields: Mapped[list[FieldRow]] = relationship(
        back_populates="page",
        order_by="FieldRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class FieldRow(Base):
    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("page_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order on the page, as the pipeline produced it
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    chars: Mapped[Any] = mapped_column(JSON)  # [[char, prob], ...]
    issues: Mapped[Any] = mapped_column(JSON)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    crop_path: Mapped[str | None] = mapped_column(String(1024))
    box_px: Mapped[Any] = mapped_column(JSON, nullable=True)
    # `review: double` in the template: settled only by two matching keyings of two different people.
    double_entry: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)  # the cut it was judged against
    # A reviewer's edit. `corrected_at IS NOT NULL` means "corrected" (the value itself may be null).
    corrected_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    corrected_by: Mapped[str | None] = mapped_column(String(128))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    page: Mapped[PageRow] = relationship(back_populates="fields")

    @property
    def final_value(self) -> Any:
        return self.corrected_value if self.corrected_at is not None else self.value


class StatusHistory(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))  # "pipeline", "batch" or a username
    note: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Append-only, hash-chained. `detail` never holds a 個人番号. No FK to documents on purpose:
    the log must outlive any document row."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int | None] = mapped_column(Integer, index=True)
    field_name: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[Any] = mapped_column(JSON)
    my_number_accessed: Mapped[bool] = mapped_column(Boolean, default=False)
    terminal: Mapped[str | None] = mapped_column(String(128))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class FailedTaskRow(Base):
    __tablename__ = "failed_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_name: Mapped[str] = mapped_column(String(128))
    document_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    page_index: Mapped[int | None] = mapped_column(Integer)
    exception_type: Mapped[str] = mapped_column(String(256))
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """The outbox: one row per accepted record and legacy target (pipeline/store/outbox.py)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_target_state", "target", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    page_index: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # the report and others insert without it
    target: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    receipt: Mapped[Any] = mapped_column(JSON, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    unencodable: Mapped[Any] = mapped_column(JSON, nullable=True)  # [{field, column, char, codepoint}]
    sent: Mapped[Any] = mapped_column(JSON, nullable=True)  # [{column, source, as_written, as_sent, flags}]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
