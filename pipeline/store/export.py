"""Export and retention: the accepted records an export reads, the nightly batch's marking of
documents as exported, the retention purge's candidates and records, and the lock that keeps two
nightly batches from overlapping.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import selectinload

from pipeline.privacy import mask_my_number
from pipeline.store.audit import append_audit
from pipeline.store.db import PG_LOCK_NAMESPACE, PG_LOCK_NIGHTLY, Database
from pipeline.store.documents import (
    DocumentSummary,
    RecordNotFound,
    _record_status,
    _summary,
    _summary_select,
)
from pipeline.store.tables import (
    DocumentRow,
    FieldRow,
    PageRow,
    StatusHistory,
    utcnow,
)

_BATCH = 100  # rows per query when streaming records out


class ExportStore(Database):
    """What the CSV export and the nightly batch read and mark."""

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

    def documents_for_integration(self, *, include_my_number: bool = False) -> Iterator[dict[str, Any]]:
        """Every document with its pages and fields, as plain dicts for `shinsei export --jsonl`:
        per field the final value (a reviewer's correction applied) and the machine's, its
        confidence, whether the machine accepted it, the reasons it was held (issue codes), and per
        page the template's form id. 個人番号 is masked unless `include_my_number`. Read in batches
        of documents; no session is held while yielding."""
        last_id = 0
        while True:
            q = (
                select(DocumentRow)
                .where(DocumentRow.id > last_id)
                .order_by(DocumentRow.id)
                .limit(_BATCH)
                .options(selectinload(DocumentRow.pages).selectinload(PageRow.fields))
            )
            with self.session() as s:
                rows = list(s.scalars(q))
                batch = [_integration_record(r, include_my_number) for r in rows]
            yield from batch
            if len(rows) < _BATCH:
                return
            last_id = rows[-1].id

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
            append_audit(s, actor=actor, action="purge", document_id=doc_id, detail={"files": files})

    @contextlib.contextmanager
    def nightly_lock(self, data_dir: Path) -> Iterator[bool]:
        """Yields True while this process holds the nightly lock, False if another holds it:
        a PostgreSQL advisory (session) lock, or a file lock next to the SQLite database."""
        if self.dialect == "postgresql":
            args = {"ns": PG_LOCK_NAMESPACE, "key": PG_LOCK_NIGHTLY}
            with self.engine.connect() as conn:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"), args).scalar())
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), args)
                        conn.commit()
            return
        path = data_dir / "locks" / "nightly.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _integration_record(row: DocumentRow, include_my_number: bool) -> dict[str, Any]:
    def shown(kind: str, value: Any) -> Any:
        return value if include_my_number or kind != "my_number" else mask_my_number(value)

    pages = []
    for p in sorted(row.pages, key=lambda p: p.index):
        fields = [
            {
                "name": f.name,
                "kind": f.kind,
                "value": shown(f.kind, f.final_value),
                "machine_value": shown(f.kind, f.value),
                "confidence": f.confidence,
                "accepted": bool(f.accepted),
                "corrected": f.corrected_at is not None,
                "reasons": [i.get("code") for i in f.issues or [] if isinstance(i, dict)],
            }
            for f in p.fields
        ]
        pages.append(
            {
                "index": p.index,
                "form_id": p.form_id,
                "form_version": p.form_version,
                "route": p.route,
                "reasons": [i.get("code") for i in p.issues or [] if isinstance(i, dict)],
                "fields": fields,
            }
        )
    return {
        "id": row.id,
        "sha256": row.sha256,
        "source_name": row.source_name,
        "status": row.status,
        "form_id": row.form_id,
        "reason": row.reason,
        "message": row.message,
        "pages": pages,
    }
