"""Review: a person's correction of one field, audit-logged in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pipeline.store.audit import append_audit
from pipeline.store.db import Database
from pipeline.store.documents import MY_NUMBER_KIND, DocKey, RecordNotFound, _doc_filter
from pipeline.store.tables import (
    DocumentRow,
    FieldRow,
    PageRow,
    utcnow,
)


class ReviewStore(Database):
    """Reviewer corrections."""

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
