"""The hash-chained audit log: who viewed, changed or exported what, each row linked to the
previous one by a SHA-256 over its content. 12+ digit runs (a possible 個人番号) are redacted before
they are written.

`append_audit` and `verify_audit_chain` take a `Session`, so a caller can put the audit row in the
same transaction as the change it records; `AuditStore.audit` is the one-transaction form.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pipeline.privacy import redact
from pipeline.store.db import PG_LOCK_AUDIT, PG_LOCK_NAMESPACE, Database
from pipeline.store.tables import (
    AuditLog,
    utcnow,
)

GENESIS_HASH = "0" * 64


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


class AuditStore(Database):
    """The audit log, each call one transaction."""

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
