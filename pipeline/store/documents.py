"""Documents and their pages/fields and status history: saving a pipeline result (keeping a
reviewer's corrections when a document is processed again), reading it back, listing and counting.

Every public method is one transaction of its own and returns plain values (dataclasses,
`DocumentResult`s, or detached rows), never a live session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, selectinload

from pipeline.result import DocumentResult, FieldResult, PageResult, Route
from pipeline.store.db import Database
from pipeline.store.outbox import Target, enqueue_deliveries
from pipeline.store.review_tables import ensure_acceptable, qa_selected
from pipeline.store.tables import (
    STATUSES,
    DocumentRow,
    FieldRow,
    PageRow,
    StatusHistory,
    utcnow,
)

MY_NUMBER_KIND = "my_number"

DocKey = int | str  # documents.id or sha256


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
        double_entry=f.double_entry,
        threshold=f.threshold,
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
        "double_entry": bool(r.double_entry),
        "threshold": r.threshold,
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


class DocumentStore(Database):
    """Documents, their pages and fields, and their status history. A document that becomes
    `accepted` (by the pipeline or by a person) gets its outbox rows in the same transaction."""

    # Legacy targets an accepted document is delivered to (outbox.configured_targets; open_store sets it).
    delivery_targets: tuple[Target, ...] = ()

    # Share of auto-accepted documents routed to review as QA samples (open_store sets it from Settings).
    qa_sample_rate: float = 0.0

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
            if result.route == Route.accepted and (
                doc.qa_sample or qa_selected(result.sha256, self.qa_sample_rate)
            ):
                doc.status, doc.qa_sample = str(Route.review), True  # QA: a person checks it first
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

    def list_documents(
        self, status: str | None = None, limit: int = 100, *, newest_first: bool = False
    ) -> list[DocumentSummary]:
        """Oldest first (queue order), or the `limit` newest, newest first."""
        order = DocumentRow.id.desc() if newest_first else DocumentRow.id
        q = _summary_select().order_by(order).limit(limit)
        if status is not None:
            q = q.where(DocumentRow.status == status)
        with self.session() as s:
            return [_summary(*r) for r in s.execute(q)]

    def counts_by_status(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status))
            return {status: int(n) for status, n in rows}

    def set_status(self, doc: DocKey, to_status: str, actor: str, note: str | None = None) -> bool:
        """Move a document to `to_status`; returns False (and records nothing) if already there.
        A person accepting a document writes its outbox rows in this same transaction."""
        if to_status not in STATUSES:
            raise ValueError(f"unknown status {to_status!r}; expected one of {sorted(STATUSES)}")
        with self.transaction() as s:
            row = s.scalar(select(DocumentRow).where(_doc_filter(doc)))
            if row is None:
                raise RecordNotFound(f"no document {doc!r}")
            if row.status == to_status:
                return False
            if to_status == "accepted":
                ensure_acceptable(s, row.id)  # no route or API accepts an unsettled flagged field
            _record_status(s, row.id, row.status, to_status, actor, note)
            row.status, row.updated_at = to_status, utcnow()
            if to_status == "accepted" and self.delivery_targets:
                s.flush()
                enqueue_deliveries(s, row.id, self.delivery_targets)
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
