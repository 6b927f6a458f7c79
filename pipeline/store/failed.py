"""Failed tasks: our dead-letter table (Redis has none). A task that gave up is written here with
its error and whether a retry may help; `shinsei failed list|retry` and the nightly batch read it.
"""

from __future__ import annotations

import traceback as tb
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pipeline.errors import TransientError
from pipeline.privacy import redact
from pipeline.store.db import Database
from pipeline.store.documents import RecordNotFound
from pipeline.store.tables import (
    FailedTaskRow,
    utcnow,
)


@dataclass(frozen=True)
class FailedTask:
    id: int
    task_name: str
    document_sha256: str | None
    page_index: int | None
    exception_type: str
    message: str
    traceback: str | None
    attempts: int
    retryable: bool
    created_at: datetime
    resolved_at: datetime | None


def _failed_task(r: FailedTaskRow) -> FailedTask:
    return FailedTask(
        id=r.id,
        task_name=r.task_name,
        document_sha256=r.document_sha256,
        page_index=r.page_index,
        exception_type=r.exception_type,
        message=r.message,
        traceback=r.traceback,
        attempts=r.attempts,
        retryable=r.retryable,
        created_at=r.created_at,
        resolved_at=r.resolved_at,
    )


class FailedTaskStore(Database):
    """The failed_tasks table."""

    def record_failed_task(
        self,
        task_name: str,
        *,
        exc: BaseException | None = None,
        document_sha256: str | None = None,
        page_index: int | None = None,
        exception_type: str | None = None,
        message: str | None = None,
        traceback: str | None = None,
        attempts: int = 1,
        retryable: bool | None = None,
    ) -> int:
        """Record a task that gave up. With `exc`, type/message/traceback/retryable are taken from it
        (retryable: a TransientError). Digit runs that could be a 個人番号 are redacted."""
        if exc is not None:
            exception_type = exception_type or f"{type(exc).__module__}.{type(exc).__qualname__}"
            message = message if message is not None else str(exc)
            if traceback is None:
                traceback = "".join(tb.format_exception(exc))
            if retryable is None:
                retryable = isinstance(exc, TransientError)
        row = FailedTaskRow(
            task_name=task_name,
            document_sha256=document_sha256,
            page_index=page_index,
            exception_type=exception_type or "unknown",
            message=redact(message or ""),
            traceback=redact(traceback) if traceback is not None else None,
            attempts=attempts,
            retryable=bool(retryable),
            created_at=utcnow(),
        )
        with self.transaction() as s:
            s.add(row)
            s.flush()
            return row.id

    def list_failed_tasks(self, unresolved_only: bool = True, limit: int = 100) -> list[FailedTask]:
        q = select(FailedTaskRow).order_by(FailedTaskRow.id).limit(limit)
        if unresolved_only:
            q = q.where(FailedTaskRow.resolved_at.is_(None))
        with self.session() as s:
            return [_failed_task(r) for r in s.scalars(q)]

    def resolve_failed_task(self, task_id: int) -> None:
        with self.transaction() as s:
            row = s.get(FailedTaskRow, task_id)
            if row is None:
                raise RecordNotFound(f"no failed task {task_id}")
            row.resolved_at = row.resolved_at or utcnow()

    def get_failed_task(self, task_id: int) -> FailedTask:
        with self.session() as s:
            row = s.get(FailedTaskRow, task_id)
            if row is None:
                raise RecordNotFound(f"no failed task {task_id}")
            return _failed_task(row)
