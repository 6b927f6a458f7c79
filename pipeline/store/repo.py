"""The store's API: documents and their pages/fields, status history, reviewer corrections, the
hash-chained audit log and failed tasks.

Every public `Store` method is one transaction of its own and returns plain values (dataclasses,
`DocumentResult`s, or detached rows), never a live session. To combine several steps atomically, use
`store.transaction()` and the module-level functions that take a `Session` (`append_audit`,
`verify_audit_chain`).
"""

from __future__ import annotations

import hashlib
import json
import re
import traceback as tb
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from pipeline.errors import TransientError
from pipeline.models import DocumentResult, FieldResult, PageResult, Route
from pipeline.store.db import PG_LOCK_AUDIT, PG_LOCK_NAMESPACE, Database
from pipeline.store.models import (
    STATUSES,
    AuditLog,
    DocumentRow,
    FailedTaskRow,
    FieldRow,
    PageRow,
    StatusHistory,
    utcnow,
)

GENESIS_HASH = "0" * 64
MY_NUMBER_KIND = "my_number"
REDACTED = "[redacted]"
# 12 or more digits (ASCII or full-width), optionally split by spaces or dashes: a possible 個人番号.
_LONG_DIGIT_RUN = re.compile(r"\d(?:[\s\-‐‑‒–—―－ー]?\d){11,}")
_BATCH = 100

DocKey = int | str  # documents.id or sha256
PROCESSING = "processing"
PARKED_REASON = "processing_failed"  # a document the queue gave up on (see `Store.begin_attempt`)


class RecordNotFound(LookupError):
    """No document / field matches the given key."""


@dataclass(frozen=True)
class DocumentSummary:
    id: int
    sha256: str
    source_name: str
    status: str
    reason: str | None
    message: str | None
    form_id: str | None
    pages: int
    fields_in_review: int  # not accepted by the pipeline and not yet corrected by a reviewer
    created_at: datetime


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


@dataclass(frozen=True)
class Attempt:
    """What a worker may do with a delivered document (`Store.begin_attempt`).

    action: "run" (claimed: process it), "done" (already in a final state), "busy" (another delivery
    holds a live claim), "missing" (no such document) or "parked" (too many starts: now quarantined
    with reason `processing_failed` and a failed_tasks row)."""

    action: str
    sha256: str
    status: str | None = None
    source_name: str = ""
    stored_path: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class DocState:
    status: str
    route: str | None
    reason: str | None
    pages: int


# --- audit chain (functions on a Session, so callers can include them in their own transaction) ---


def redact(value: Any) -> Any:
    """Replace every run of 12+ digits (a possible 個人番号) in strings, ints and dict keys."""
    if isinstance(value, str):
        return _LONG_DIGIT_RUN.sub(REDACTED, value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return REDACTED if len(str(abs(value))) >= 12 else value
    if isinstance(value, dict):
        return {redact(str(k)): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return redact(str(value))


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _audit_payload(row: AuditLog) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(timespec="microseconds"),
        "actor": row.actor,
        "action": row.action,
        "document_id": row.document_id,
        "field_name": row.field_name,
        "detail": row.detail,
        "my_number_accessed": bool(row.my_number_accessed),
        "terminal": row.terminal,
    }


def audit_hash(prev_hash: str, row: AuditLog) -> str:
    return hashlib.sha256((prev_hash + _canonical_json(_audit_payload(row))).encode()).hexdigest()


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    document_id: int | None = None,
    field_name: str | None = None,
    detail: dict[str, Any] | None = None,
    my_number_accessed: bool = False,
    terminal: str | None = None,
) -> int:
    """Append one audit row to the chain. `session` must be a write transaction
    (`Store.transaction()`): SQLite holds the write lock, PostgreSQL takes an advisory lock here."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": PG_LOCK_NAMESPACE, "key": PG_LOCK_AUDIT}
        )
    prev = session.scalar(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)) or GENESIS_HASH
    clean = json.loads(json.dumps(redact(detail or {}), ensure_ascii=False))  # JSON-normal form
    row = AuditLog(
        at=utcnow(),
        actor=actor,
        action=action,
        document_id=document_id,
        field_name=field_name,
        detail=clean,
        my_number_accessed=my_number_accessed,
        terminal=terminal,
        prev_hash=prev,
    )
    row.hash = audit_hash(prev, row)
    session.add(row)
    session.flush()
    return row.id


def verify_audit_chain(session: Session) -> bool:
    """True when every audit row links to its predecessor and its hash matches its content.
    (Deleting the newest rows is not detectable from the chain alone.)"""
    prev = GENESIS_HASH
    for row in session.scalars(select(AuditLog).order_by(AuditLog.id).execution_options(yield_per=500)):
        if row.prev_hash != prev or row.hash != audit_hash(prev, row):
            return False
        prev = row.hash
    return True


# --- row <-> model conversion ---


def _field_row(position: int, f: FieldResult) -> FieldRow:
    return FieldRow(
        position=position,
        name=f.name,
        kind=f.kind,
        raw=f.raw,
        value=f.value,
        confidence=f.confidence,
        chars=[[c.text, c.prob] for c in f.chars],
        issues=[i.export() for i in f.issues],
        accepted=f.accepted,
        crop_path=f.crop_path,
        box_px=list(f.box_px) if f.box_px else None,
    )


def _page_row(document_id: int, p: PageResult) -> PageRow:
    return PageRow(
        document_id=document_id,
        index=p.index,
        form_id=p.form_id,
        form_version=p.form_version,
        route=str(p.route),
        orientation=p.orientation,
        skew_deg=p.skew_deg,
        match_score=p.match_score,
        aligned_path=p.aligned_path,
        issues=[i.export() for i in p.issues],
        fields=[_field_row(n, f) for n, f in enumerate(p.fields)],
    )


def _field_dict(r: FieldRow) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": r.kind,
        "raw": r.raw,
        "value": r.value,
        "confidence": r.confidence,
        "chars": r.chars,
        "issues": r.issues,
        "accepted": r.accepted,
        "box_px": r.box_px,
        "crop_path": r.crop_path,
    }


def _page_dict(r: PageRow) -> dict[str, Any]:
    return {
        "index": r.index,
        "form_id": r.form_id,
        "form_version": r.form_version,
        "route": r.route,
        "orientation": r.orientation,
        "skew_deg": r.skew_deg,
        "match_score": r.match_score,
        "fields": [_field_dict(f) for f in r.fields],
        "issues": r.issues,
        "aligned_path": r.aligned_path,
    }


def _document_result(r: DocumentRow) -> DocumentResult:
    return DocumentResult.from_dict(
        {
            "sha256": r.sha256,
            "source_name": r.source_name,
            # A document never routed by the pipeline (status "processing") needs a person.
            "route": r.route or str(Route.review),
            "pages": [_page_dict(p) for p in r.pages],
            "reason": r.reason,
            "message": r.message,
            "extra": r.extra or {},
        }
    )


# --- query helpers ---


def _doc_filter(key: DocKey) -> Any:
    if isinstance(key, int) and not isinstance(key, bool):
        return DocumentRow.id == key
    return DocumentRow.sha256 == key


def _summary_select() -> Select[Any]:
    pages = select(func.count(PageRow.id)).where(PageRow.document_id == DocumentRow.id).scalar_subquery()
    in_review = (
        select(func.count(FieldRow.id))
        .join(PageRow, FieldRow.page_id == PageRow.id)
        .where(
            PageRow.document_id == DocumentRow.id,
            FieldRow.accepted.is_(False),
            FieldRow.corrected_at.is_(None),
        )
        .scalar_subquery()
    )
    return select(DocumentRow, func.coalesce(DocumentRow.page_count, pages), in_review)


def _summary(row: DocumentRow, pages: int, in_review: int) -> DocumentSummary:
    return DocumentSummary(
        id=row.id,
        sha256=row.sha256,
        source_name=row.source_name,
        status=row.status,
        reason=row.reason,
        message=row.message,
        form_id=row.form_id,
        pages=int(pages or 0),
        fields_in_review=int(in_review or 0),
        created_at=row.created_at,
    )


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


def _record_status(
    s: Session, document_id: int, from_status: str | None, to_status: str, actor: str, note: str | None
) -> None:
    s.add(
        StatusHistory(
            document_id=document_id, from_status=from_status, to_status=to_status, actor=actor, note=note
        )
    )


Correction = tuple[Any, str | None, datetime]  # corrected_value, corrected_by, corrected_at


def _corrections(s: Session, document_id: int) -> dict[tuple[int, str], Correction]:
    """A document's reviewer corrections as plain values (no ORM objects: the rows get deleted)."""
    rows = s.execute(
        select(
            PageRow.index,
            FieldRow.name,
            FieldRow.corrected_value,
            FieldRow.corrected_by,
            FieldRow.corrected_at,
        )
        .join(PageRow, FieldRow.page_id == PageRow.id)
        .where(PageRow.document_id == document_id, FieldRow.corrected_at.is_not(None))
    )
    return {(index, name): (value, by, at) for index, name, value, by, at in rows}


def _delete_pages(s: Session, document_id: int) -> None:
    page_ids = select(PageRow.id).where(PageRow.document_id == document_id)
    opts = {"synchronize_session": False}
    s.execute(delete(FieldRow).where(FieldRow.page_id.in_(page_ids)).execution_options(**opts))
    s.execute(delete(PageRow).where(PageRow.document_id == document_id).execution_options(**opts))


def _carry_corrections(page: PageRow, old: dict[tuple[int, str], Correction]) -> None:
    for f in page.fields:
        prev = old.get((page.index, f.name))
        if prev is not None:
            f.corrected_value, f.corrected_by, f.corrected_at = prev


class Store(Database):
    """The typed API over the store. Each method runs in its own transaction."""

    # Legacy targets an accepted document is delivered to (outbox.configured_targets; set by open_store).
    delivery_targets: tuple[str | tuple[str, str | None], ...] = ()

    # --- documents ---

    def has_document(self, sha256: str) -> bool:
        with self.session() as s:
            return s.scalar(select(DocumentRow.id).where(DocumentRow.sha256 == sha256)) is not None

    def save_document_result(
        self,
        result: DocumentResult,
        *,
        stored_path: str | None,
        kind: str | None,
        size_bytes: int | None,
        page_count: int | None,
        actor: str = "pipeline",
    ) -> int:
        """Insert or (same sha256: a re-run) replace a document with its pages and fields, in one
        transaction. Reviewer corrections on fields that still exist (same page index and name) are
        kept. A status_history row is written only when the status changes. Returns documents.id."""
        now = utcnow()
        with self.transaction() as s:
            doc = s.scalar(select(DocumentRow).where(DocumentRow.sha256 == result.sha256))
            old_status: str | None = None
            kept: dict[tuple[int, str], Correction] = {}
            if doc is None:
                doc = DocumentRow(sha256=result.sha256, attempts=0, created_at=now)
                s.add(doc)
            else:
                old_status = doc.status
                kept = _corrections(s, doc.id)
                _delete_pages(s, doc.id)
            form = next((p for p in result.pages if p.form_id), None)
            doc.source_name = result.source_name
            doc.stored_path, doc.kind, doc.size_bytes, doc.page_count = (
                stored_path,
                kind,
                size_bytes,
                page_count,
            )
            doc.status = doc.route = str(result.route)
            doc.reason, doc.message, doc.extra = result.reason, result.message, dict(result.extra)
            doc.form_id = form.form_id if form else None
            doc.form_version = form.form_version if form else None
            doc.attempts = (doc.attempts or 0) + 1
            doc.updated_at = now
            s.flush()
            for p in result.pages:
                page = _page_row(doc.id, p)
                _carry_corrections(page, kept)
                s.add(page)
            if old_status != doc.status:
                _record_status(s, doc.id, old_status, doc.status, actor, None)
            s.flush()
            if doc.status == "accepted" and self.delivery_targets:
                from pipeline.store.outbox import enqueue_deliveries  # outbox imports this module

                enqueue_deliveries(s, doc.id, self.delivery_targets)
            return doc.id

    def record_quarantine(
        self,
        sha256: str,
        source_name: str,
        stored_path: str | None,
        kind: str | None,
        size: int | None,
        reason: str,
        message: str,
        *,
        page_count: int | None = None,
        actor: str = "pipeline",
    ) -> int:
        """A file that could not be read: a document with status `quarantined` and no pages."""
        result = DocumentResult(sha256, source_name, Route.quarantined, reason=reason, message=message)
        return self.save_document_result(
            result, stored_path=stored_path, kind=kind, size_bytes=size, page_count=page_count, actor=actor
        )

    def get_document_row(self, key: DocKey) -> DocumentRow | None:
        """The documents row (detached; its pages are not loaded)."""
        with self.session() as s:
            return s.scalar(select(DocumentRow).where(_doc_filter(key)))

    def get_document(self, key: DocKey) -> DocumentResult | None:
        """The pipeline's result as stored (without reviewer corrections; see `accepted_pages`)."""
        with self.session() as s:
            row = s.scalar(
                select(DocumentRow)
                .where(_doc_filter(key))
                .options(selectinload(DocumentRow.pages).selectinload(PageRow.fields))
            )
            return _document_result(row) if row is not None else None

    def list_documents(self, status: str | None = None, limit: int = 100) -> list[DocumentSummary]:
        """Oldest first (queue order)."""
        q = _summary_select().order_by(DocumentRow.id).limit(limit)
        if status is not None:
            q = q.where(DocumentRow.status == status)
        with self.session() as s:
            return [_summary(*r) for r in s.execute(q)]

    def counts_by_status(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status))
            return {status: int(n) for status, n in rows}

    def set_status(self, doc: DocKey, to_status: str, actor: str, note: str | None = None) -> bool:
        """Move a document to `to_status`; returns False (and records nothing) if already there."""
        if to_status not in STATUSES:
            raise ValueError(f"unknown status {to_status!r}; expected one of {sorted(STATUSES)}")
        with self.transaction() as s:
            row = s.scalar(select(DocumentRow).where(_doc_filter(doc)))
            if row is None:
                raise RecordNotFound(f"no document {doc!r}")
            if row.status == to_status:
                return False
            _record_status(s, row.id, row.status, to_status, actor, note)
            row.status, row.updated_at = to_status, utcnow()
            return True

    def status_history(self, doc: DocKey) -> list[StatusHistory]:
        with self.session() as s:
            q = (
                select(StatusHistory)
                .join(DocumentRow, StatusHistory.document_id == DocumentRow.id)
                .where(_doc_filter(doc))
                .order_by(StatusHistory.id)
            )
            return list(s.scalars(q))

    # --- review ---

    def correct_field(
        self,
        doc_id: DocKey,
        page_index: int,
        field_name: str,
        value: Any,
        actor: str,
        *,
        terminal: str | None = None,
    ) -> None:
        """Store a reviewer's value for one field and audit it as `edit`. For a my_number field the
        audit row says only that it changed (never the value) and sets my_number_accessed."""
        with self.transaction() as s:
            found = s.execute(
                select(FieldRow, DocumentRow.id)
                .join(PageRow, FieldRow.page_id == PageRow.id)
                .join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(_doc_filter(doc_id), PageRow.index == page_index, FieldRow.name == field_name)
            ).first()
            if found is None:
                raise RecordNotFound(f"no field {field_name!r} on page {page_index} of document {doc_id!r}")
            f, document_id = found
            old = f.final_value
            f.corrected_value, f.corrected_by, f.corrected_at = value, actor, utcnow()
            is_my_number = f.kind == MY_NUMBER_KIND
            detail: dict[str, Any] = {"page_index": page_index, "kind": f.kind}
            detail |= {"changed": old != value} if is_my_number else {"old": old, "new": value}
            append_audit(
                s,
                actor=actor,
                action="edit",
                document_id=document_id,
                field_name=field_name,
                detail=detail,
                my_number_accessed=is_my_number,
                terminal=terminal,
            )

    def accepted_pages(
        self,
        form_id: str | None = None,
        *,
        statuses: Sequence[str] = ("accepted",),
    ) -> Iterator[tuple[DocumentSummary, int, dict[str, Any]]]:
        """One record per identified page of accepted documents (a scanned file may hold several
        applications): (summary, page index, final values with reviewer corrections applied).
        Read in batches of documents; no session is held while yielding."""
        last_id = 0
        while True:
            q = _summary_select().where(DocumentRow.status.in_(statuses), DocumentRow.id > last_id)
            if form_id is not None:
                q = q.where(DocumentRow.form_id == form_id)
            q = (
                q.order_by(DocumentRow.id)
                .limit(_BATCH)
                .options(selectinload(DocumentRow.pages).selectinload(PageRow.fields))
            )
            with self.session() as s:
                rows = list(s.execute(q))
                batch = [
                    (_summary(row, n, r), p.index, {f.name: f.final_value for f in p.fields})
                    for row, n, r in rows
                    for p in sorted(row.pages, key=lambda p: p.index)
                    if p.form_id is not None and (form_id is None or p.form_id == form_id)
                ]
            yield from batch
            if len(rows) < _BATCH:
                return
            last_id = rows[-1][0].id

    # --- audit ---

    def audit(
        self,
        actor: str,
        action: str,
        document_id: int | None = None,
        field_name: str | None = None,
        detail: dict[str, Any] | None = None,
        my_number_accessed: bool = False,
        *,
        terminal: str | None = None,
    ) -> int:
        """Append an audit row (view, edit, export, reveal_my_number, ...). Never pass a 個人番号 in
        `detail`; runs of 12+ digits are redacted anyway."""
        with self.transaction() as s:
            return append_audit(
                s,
                actor=actor,
                action=action,
                document_id=document_id,
                field_name=field_name,
                detail=detail,
                my_number_accessed=my_number_accessed,
                terminal=terminal,
            )

    def verify_audit_chain(self) -> bool:
        with self.session() as s:
            return verify_audit_chain(s)

    # --- failed tasks ---

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

    # --- queue (pipeline/jobs.py drives these; see docs/deploy.md) ---

    def submit_document(
        self,
        sha256: str,
        source_name: str,
        stored_path: str | None,
        size_bytes: int | None = None,
        actor: str = "pipeline",
    ) -> bool:
        """Record a received file as `processing`, committed before it is queued. Returns False when
        the sha256 is already known (the same file seen before: nothing to queue)."""
        now = utcnow()
        try:
            with self.transaction() as s:
                if s.scalar(select(DocumentRow.id).where(DocumentRow.sha256 == sha256)) is not None:
                    return False
                row = DocumentRow(
                    sha256=sha256,
                    source_name=source_name,
                    stored_path=stored_path,
                    size_bytes=size_bytes,
                    status=PROCESSING,
                    attempts=0,
                    task_attempts=0,
                    submitted_at=now,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                _record_status(s, row.id, None, PROCESSING, actor, None)
        except IntegrityError:  # another process inserted the same sha256 between check and insert
            return False
        return True

    def begin_attempt(
        self,
        sha256: str,
        token: str,
        worker: str,
        *,
        lease_s: float,
        max_attempts: int,
        task_name: str = "shinsei.process_document",
    ) -> Attempt:
        """Claim a `processing` document for one task delivery (`token`: the Celery task id, which a
        redelivered message keeps). A claim younger than `lease_s` held by another token means a
        duplicate message while the first is still running: "busy". The same token, or an expired
        claim, is taken over (its holder died). Each claim counts one start; starting more than
        `max_attempts` times parks the document instead (no requeue loop on a file that kills workers)."""
        now = utcnow()
        with self.transaction() as s:
            row = s.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256).with_for_update())
            if row is None:
                return Attempt("missing", sha256)
            base = {"sha256": sha256, "status": row.status, "source_name": row.source_name}
            base |= {"stored_path": row.stored_path, "attempts": row.task_attempts or 0}
            if row.status != PROCESSING:
                return Attempt("done", **base)
            live = row.claimed_at is not None and row.claimed_at > now - timedelta(seconds=lease_s)
            if row.claim_token and row.claim_token != token and live:
                return Attempt("busy", **base)
            if (row.task_attempts or 0) >= max_attempts:
                message = (
                    f"処理が{row.task_attempts}回とも最後まで終わりませんでした（作業プロセスの停止など）。"
                    "ファイルを確かめてから `shinsei failed retry` でやり直してください。"
                )
                _park(s, row, message, "queue")
                s.add(
                    FailedTaskRow(
                        task_name=task_name,
                        document_sha256=sha256,
                        exception_type="shinsei.TooManyAttempts",
                        message=f"started {row.task_attempts} times without finishing; parked",
                        attempts=row.task_attempts or 0,
                        retryable=False,
                        created_at=now,
                    )
                )
                return Attempt("parked", **(base | {"status": row.status}))
            row.claim_token, row.claimed_by, row.claimed_at = token, worker[:128], now
            row.task_attempts = (row.task_attempts or 0) + 1
            return Attempt("run", **(base | {"attempts": row.task_attempts}))

    def release_claim(self, sha256: str, token: str) -> None:
        """Drop `token`'s claim (after a failure was recorded), so the document can be taken again."""
        with self.transaction() as s:
            s.execute(
                update(DocumentRow)
                .where(DocumentRow.sha256 == sha256, DocumentRow.claim_token == token)
                .values(claim_token=None, claimed_at=None)
            )

    def park_document(self, sha256: str, message: str, actor: str = "queue") -> bool:
        """Give up on a `processing` document: status quarantined, reason `processing_failed`.
        False if it was not `processing` (it finished meanwhile)."""
        with self.transaction() as s:
            row = s.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256).with_for_update())
            if row is None or row.status != PROCESSING:
                return False
            _park(s, row, message, actor)
            return True

    def resubmit_document(self, sha256: str, actor: str, note: str | None = None) -> bool:
        """Make a document ready to be queued again: a `processing` one, or one the queue parked.
        Resets its claim and start count. False (nothing to queue) for any other state."""
        with self.transaction() as s:
            row = s.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256).with_for_update())
            if row is None:
                return False
            parked = row.status == "quarantined" and row.reason == PARKED_REASON
            if row.status != PROCESSING and not parked:
                return False
            if parked:
                _record_status(s, row.id, row.status, PROCESSING, actor, note)
                row.status, row.reason, row.message = PROCESSING, None, None
            _reset_claim(row)
            return True

    def requeue_stuck(
        self,
        *,
        queued_before: datetime,
        claimed_before: datetime,
        shas: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """`processing` documents whose message looks lost: never started and queued before
        `queued_before`, or claimed before `claimed_before` (the holder is gone). Documents with an
        unresolved failed task are left to `failed retry`. Each is marked queued now (claim cleared)
        in this transaction; the caller enqueues them after it commits. Returns their sha256s."""
        failed = exists().where(
            FailedTaskRow.document_sha256 == DocumentRow.sha256, FailedTaskRow.resolved_at.is_(None)
        )
        never_started = DocumentRow.claim_token.is_(None) & (
            DocumentRow.submitted_at.is_(None) | (DocumentRow.submitted_at < queued_before)
        )
        abandoned = DocumentRow.claim_token.is_not(None) & (DocumentRow.claimed_at < claimed_before)
        q = select(DocumentRow).where(DocumentRow.status == PROCESSING, ~failed, never_started | abandoned)
        if shas is not None:
            if not shas:
                return []
            q = q.where(DocumentRow.sha256.in_(list(shas)))
        q = q.order_by(DocumentRow.id).limit(limit)
        with self.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(s.scalars(q))
            for row in rows:
                _reset_claim(row, keep_attempts=True)
            return [r.sha256 for r in rows]

    def document_states(self, shas: Sequence[str]) -> dict[str, DocState]:
        """Status, route, reason and page count of each known sha256 (for following progress)."""
        out: dict[str, DocState] = {}
        shas = list(shas)
        pages = select(func.count(PageRow.id)).where(PageRow.document_id == DocumentRow.id).scalar_subquery()
        with self.session() as s:
            for i in range(0, len(shas), 500):
                q = select(
                    DocumentRow.sha256, DocumentRow.status, DocumentRow.route, DocumentRow.reason, pages
                ).where(DocumentRow.sha256.in_(shas[i : i + 500]))
                for sha, status, route, reason, n in s.execute(q):
                    out[sha] = DocState(status, route, reason, int(n or 0))
        return out

    # --- nightly export and retention (pipeline/batch.py) ---

    def mark_exported(self, batch_key: str, until: datetime, actor: str = "batch") -> list[int]:
        """Move every `accepted` document last changed before `until` to `exported`, noting
        `batch_key` in its status history (the export file is then written from those notes, so
        re-running a batch rewrites the same file and no record lands in two batches)."""
        with self.transaction() as s:
            rows = list(
                s.scalars(
                    select(DocumentRow)
                    .where(DocumentRow.status == "accepted", DocumentRow.updated_at < until)
                    .order_by(DocumentRow.id)
                    .with_for_update()
                )
            )
            for row in rows:
                _record_status(s, row.id, row.status, "exported", actor, batch_key)
                row.status, row.updated_at = "exported", utcnow()
            return [r.id for r in rows]

    def exported_in(self, batch_key: str) -> list[int]:
        with self.session() as s:
            q = (
                select(StatusHistory.document_id)
                .where(StatusHistory.to_status == "exported", StatusHistory.note == batch_key)
                .distinct()
                .order_by(StatusHistory.document_id)
            )
            return list(s.scalars(q))

    def pages_of(self, doc_ids: Sequence[int]) -> Iterator[tuple[DocumentSummary, int, dict[str, Any]]]:
        """Like `accepted_pages`, for the given documents whatever their status: one record per
        identified page with final values (reviewer corrections applied), in id order."""
        ids = sorted(set(doc_ids))
        for i in range(0, len(ids), _BATCH):
            q = (
                _summary_select()
                .where(DocumentRow.id.in_(ids[i : i + _BATCH]))
                .order_by(DocumentRow.id)
                .options(selectinload(DocumentRow.pages).selectinload(PageRow.fields))
            )
            with self.session() as s:
                batch = [
                    (_summary(row, n, r), p.index, {f.name: f.final_value for f in p.fields})
                    for row, n, r in s.execute(q)
                    for p in sorted(row.pages, key=lambda p: p.index)
                    if p.form_id is not None
                ]
            yield from batch

    def purge_candidates(
        self, before: datetime, statuses: Sequence[str], limit: int = 1000
    ) -> list[tuple[int, str, str | None]]:
        """(id, sha256, stored_path) of documents in `statuses`, last changed before `before`,
        whose images have not been purged yet."""
        purged = DocumentRow.extra["purged_at"].as_string()
        with self.session() as s:
            q = (
                select(DocumentRow.id, DocumentRow.sha256, DocumentRow.stored_path, purged)
                .where(DocumentRow.status.in_(list(statuses)), DocumentRow.updated_at < before)
                .order_by(DocumentRow.id)
            )
            return [(i, sha, path) for i, sha, path, p in s.execute(q) if not p][:limit]

    def mark_purged(self, doc_id: int, files: int, actor: str = "batch") -> None:
        """After a document's scan and crops were deleted: forget their paths, note when, and audit
        it. The record, its values and its history stay."""
        with self.transaction() as s:
            row = s.get(DocumentRow, doc_id)
            if row is None:
                raise RecordNotFound(f"no document {doc_id}")
            now = utcnow()
            row.stored_path = None
            row.extra = {**(row.extra or {}), "purged_at": now.isoformat(timespec="seconds")}
            page_ids = select(PageRow.id).where(PageRow.document_id == doc_id)
            s.execute(
                update(FieldRow)
                .where(FieldRow.page_id.in_(page_ids))
                .values(crop_path=None)
                .execution_options(synchronize_session=False)
            )
            s.execute(
                update(PageRow)
                .where(PageRow.document_id == doc_id)
                .values(aligned_path=None)
                .execution_options(synchronize_session=False)
            )
            append_audit(s, actor=actor, action="purge", document_id=doc_id, detail={"files": files})


def _park(s: Session, row: DocumentRow, message: str, actor: str) -> None:
    _record_status(s, row.id, row.status, "quarantined", actor, PARKED_REASON)
    row.status, row.reason, row.message = "quarantined", PARKED_REASON, message
    row.claim_token, row.claimed_at = None, None


def _reset_claim(row: DocumentRow, keep_attempts: bool = False) -> None:
    row.claim_token, row.claimed_at, row.submitted_at = None, None, utcnow()
    if not keep_attempts:
        row.task_attempts = 0
