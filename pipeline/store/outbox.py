"""The outbox: one `deliveries` row per accepted record (document page) and target, written in the
same transaction that accepts the document (`enqueue_deliveries`), and the state changes the relay
(`pipeline/intake/relay.py`) makes while sending them.

States: pending → sending → delivered → verified, or failed (a person must act: the target
rejected the record, or read-back differed) or unknown (sent, outcome not known: a crash between
submit and receipt). `claim` moves pending rows to sending (on PostgreSQL with FOR UPDATE SKIP
LOCKED, so workers on several machines never take the same row); `sweep_stale` turns a sending row
whose lease ran out into unknown; only `reconcile` (read the target back) moves unknown on.

Each row's idempotency key is derived from the document's sha256, the page and the target, so the
same record always carries the same key to the same target, and a target can be searched for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.result import DeliveryRecord
from pipeline.settings import Settings
from pipeline.store.audit import append_audit
from pipeline.store.db import Database
from pipeline.store.tables import DeliveryRow, DocumentRow, FieldRow, PageRow, StatusHistory, utcnow
from pipeline.targets import target_profile

STATES = ("pending", "sending", "delivered", "verified", "failed", "unknown")
Target = str | tuple[str, str | None]  # a profile name, or (name, the only form_id it takes)


@dataclass(frozen=True)
class Delivery:
    """A deliveries row as plain values."""

    id: int
    document_id: int
    page_index: int
    target: str
    key: str
    state: str
    attempts: int
    receipt: dict[str, Any] | None
    last_error: str | None
    unencodable: list[dict[str, str]] | None
    sent: list[dict[str, Any]] | None
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    verified_at: datetime | None


def _plain(r: DeliveryRow) -> Delivery:
    return Delivery(
        r.id,
        r.document_id,
        r.page_index,
        r.target,
        r.idempotency_key,
        r.state,
        r.attempts,
        r.receipt,
        r.last_error,
        r.unencodable,
        r.sent,
        r.claimed_by,
        r.created_at,
        r.updated_at,
        r.delivered_at,
        r.verified_at,
    )


def idempotency_key(sha256: str, page_index: int, target: str) -> str:
    """Short, ASCII, stable: fits a legacy screen's reference field and a file manifest."""
    digest = hashlib.sha256(f"{sha256}:{page_index}:{target}".encode()).hexdigest()
    return "SN" + digest[:18].upper()


def enqueue_deliveries(session: Session, document_id: int, targets: Sequence[Target]) -> int:
    """Write one pending delivery per identified page of the document and per target, inside the
    caller's accepting transaction (call it after the document's pages are flushed). A record that
    already has a row keeps it; one whose earlier delivery was refused (`failed`, sent back to
    review) is made pending again. Returns the number of rows made pending."""
    if not targets:
        return 0
    doc = session.get(DocumentRow, document_id)
    if doc is None:
        raise LookupError(f"no document {document_id}")
    pages = session.execute(
        select(PageRow.index, PageRow.form_id).where(
            PageRow.document_id == document_id, PageRow.form_id.is_not(None)
        )
    ).all()
    now, n = utcnow(), 0
    for t in targets:
        name, form = (t, None) if isinstance(t, str) else t
        for index, form_id in pages:
            if form is not None and form_id != form:
                continue
            key = idempotency_key(doc.sha256, index, name)
            row = session.scalar(select(DeliveryRow).where(DeliveryRow.idempotency_key == key))
            if row is None:
                session.add(
                    DeliveryRow(
                        document_id=document_id,
                        page_index=index,
                        target=name,
                        idempotency_key=key,
                        state="pending",
                        attempts=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                n += 1
            elif row.state == "failed":
                row.state, row.last_error, row.next_attempt_at, row.updated_at = "pending", None, None, now
                n += 1
    session.flush()
    return n


class Outbox:
    """State changes on `deliveries`, each its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- relay ---

    def claim(self, target: str, limit: int, worker: str) -> list[Delivery]:
        """Up to `limit` due pending rows of `target`, now `sending` and held by `worker`."""
        now = utcnow()
        q = (
            select(DeliveryRow)
            .where(
                DeliveryRow.target == target,
                DeliveryRow.state == "pending",
                (DeliveryRow.next_attempt_at.is_(None)) | (DeliveryRow.next_attempt_at <= now),
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        with self.db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(s.scalars(q))
            out = []
            for r in rows:
                out.append(_plain(r))  # attempts as before this claim: >0 means "tried before"
                r.state, r.claimed_by, r.claimed_at = "sending", worker[:128], now
                r.attempts, r.updated_at = (r.attempts or 0) + 1, now
            return out

    def records(self, rows: Sequence[Delivery]) -> dict[int, DeliveryRecord]:
        """The record each delivery row sends: final values (reviewer corrections applied)."""
        out: dict[int, DeliveryRecord] = {}
        with self.db.session() as s:
            for d in rows:
                doc = s.get(DocumentRow, d.document_id)
                page = s.scalar(
                    select(PageRow).where(PageRow.document_id == d.document_id, PageRow.index == d.page_index)
                )
                if doc is None or page is None:
                    continue
                fields = list(
                    s.scalars(select(FieldRow).where(FieldRow.page_id == page.id).order_by(FieldRow.position))
                )
                out[d.id] = DeliveryRecord(
                    key=d.key,
                    document_id=d.document_id,
                    sha256=doc.sha256,
                    page_index=d.page_index,
                    form_id=page.form_id or "",
                    values={f.name: f.final_value for f in fields},
                    kinds={f.name: f.kind for f in fields},
                )
        return out

    def delivered(
        self,
        items: Sequence[tuple[int, dict[str, Any], list[dict[str, Any]] | None, list[dict[str, str]] | None]],
        actor: str,
    ) -> None:
        """Rows now in their target: (id, receipt, sent, unencodable) each. One audit row per
        delivered record (a delivery is an export of that record)."""
        now = utcnow()
        with self.db.transaction() as s:
            for did, receipt, sent, unencodable in items:
                r = s.get(DeliveryRow, did)
                if r is None:
                    continue
                r.state, r.receipt, r.delivered_at, r.updated_at = "delivered", receipt, now, now
                r.last_error, r.claimed_by, r.claimed_at = None, None, None
                if sent is not None:
                    r.sent = sent
                if unencodable:
                    r.unencodable = unencodable
                append_audit(
                    s,
                    actor=actor,
                    action="deliver",
                    document_id=r.document_id,
                    detail={
                        "target": r.target,
                        "page_index": r.page_index,
                        "receipt": receipt.get("ref"),
                        "key": r.idempotency_key,
                    },
                )

    def verified(self, ids: Sequence[int]) -> None:
        now = utcnow()
        with self.db.transaction() as s:
            s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(list(ids)), DeliveryRow.state == "delivered")
                .values(state="verified", verified_at=now, updated_at=now)
            )

    def failed(self, did: int, error: str) -> None:
        """A person must look (read-back differed, a profile or target error)."""
        self._set(did, state="failed", last_error=error[:4000], claimed_by=None, claimed_at=None)

    def unknown(self, did: int, error: str) -> None:
        self._set(did, state="unknown", last_error=error[:4000])

    def retry_later(self, did: int, error: str, after_s: float) -> None:
        """Back to pending, not before `after_s` from now (the target was unreachable)."""
        due = utcnow() + timedelta(seconds=after_s)
        self._set(
            did,
            state="pending",
            last_error=error[:4000],
            next_attempt_at=due,
            claimed_by=None,
            claimed_at=None,
        )

    def rejected(
        self,
        did: int,
        message: str,
        unencodable: list[dict[str, str]] | None,
        actor: str,
        reason: str = "delivery_rejected",
    ) -> None:
        """The record cannot go as it stands: the delivery fails and, in the same transaction, the
        document goes back to review with `reason` (unencodable_character, value_too_long,
        target_rejected, ...) and `message` (which names the character and the field, or quotes the
        target). Nothing was written to the target."""
        now = utcnow()
        with self.db.transaction() as s:
            r = s.get(DeliveryRow, did)
            if r is None:
                return
            r.state, r.last_error, r.updated_at = "failed", message[:4000], now
            r.unencodable, r.claimed_by, r.claimed_at = unencodable or None, None, None
            doc = s.get(DocumentRow, r.document_id)
            if doc is not None:
                if doc.status != "review":
                    s.add(
                        StatusHistory(
                            document_id=doc.id,
                            from_status=doc.status,
                            to_status="review",
                            actor=actor,
                            note=f"delivery {r.target}",
                        )
                    )
                doc.status, doc.reason, doc.message, doc.updated_at = (
                    "review",
                    reason,
                    message[:4000],
                    now,
                )

    def _set(self, did: int, **values: Any) -> None:
        with self.db.transaction() as s:
            s.execute(update(DeliveryRow).where(DeliveryRow.id == did).values(updated_at=utcnow(), **values))

    def sweep_stale(self, lease_s: float, target: str | None = None) -> int:
        """`sending` rows whose holder has been gone longer than `lease_s` become `unknown`: the
        record may have reached the target, so only a read-back may decide."""
        cutoff = utcnow() - timedelta(seconds=lease_s)
        q = update(DeliveryRow).where(DeliveryRow.state == "sending", DeliveryRow.claimed_at < cutoff)
        if target is not None:
            q = q.where(DeliveryRow.target == target)
        with self.db.transaction() as s:
            res = s.execute(
                q.values(state="unknown", last_error="sender stopped before the receipt", updated_at=utcnow())
            )
            return int(res.rowcount or 0)

    def found(self, did: int, receipt: dict[str, Any], actor: str) -> None:
        """Reconciled: the target had it. Delivered (then verified by the caller)."""
        self.delivered([(did, receipt, None, None)], actor)

    def not_found(self, did: int) -> None:
        """Reconciled: the target does not have it, so sending it is safe."""
        self._set(did, state="pending", next_attempt_at=None, claimed_by=None, claimed_at=None)

    # --- people (CLI) ---

    def list(self, state: str | None = None, target: str | None = None, limit: int = 100) -> list[Delivery]:
        q = select(DeliveryRow).order_by(DeliveryRow.id).limit(limit)
        if state:
            q = q.where(DeliveryRow.state == state)
        if target:
            q = q.where(DeliveryRow.target == target)
        with self.db.session() as s:
            return [_plain(r) for r in s.scalars(q)]

    def get(self, did: int) -> Delivery | None:
        with self.db.session() as s:
            r = s.get(DeliveryRow, did)
            return _plain(r) if r is not None else None

    def by_key(self, key: str) -> Delivery | None:
        with self.db.session() as s:
            r = s.scalar(select(DeliveryRow).where(DeliveryRow.idempotency_key == key))
            return _plain(r) if r is not None else None

    def counts(self) -> dict[tuple[str, str], int]:
        with self.db.session() as s:
            rows = s.execute(
                select(DeliveryRow.target, DeliveryRow.state, func.count()).group_by(
                    DeliveryRow.target, DeliveryRow.state
                )
            )
            return {(t, st): int(n) for t, st, n in rows}

    def retry(self, ids: Sequence[int] | None = None, state: str = "failed", actor: str = "cli") -> int:
        """Make failed rows (or the given ids, if failed) pending again. Unknown rows are never
        re-sent from here: `reconcile` decides them."""
        now = utcnow()
        q = update(DeliveryRow).where(DeliveryRow.state == state)
        if ids is not None:
            q = q.where(DeliveryRow.id.in_(list(ids)))
        with self.db.transaction() as s:
            res = s.execute(q.values(state="pending", next_attempt_at=None, updated_at=now))
            n = int(res.rowcount or 0)
            if n:
                append_audit(
                    s,
                    actor=actor,
                    action="delivery_retry",
                    detail={"state": state, "ids": list(ids or []), "rows": n},
                )
            return n

    def targets_with(self, states: Sequence[str]) -> list[str]:
        with self.db.session() as s:
            return list(
                s.scalars(select(DeliveryRow.target).where(DeliveryRow.state.in_(list(states))).distinct())
            )


def configured_targets(settings: Settings) -> tuple[Target, ...]:
    """settings.delivery_targets with each profile's form filter; an unknown profile fails here, at
    start-up, rather than when the first document is accepted."""
    out: list[Target] = []
    for name in settings.delivery_targets:
        out.append((name, target_profile(name, settings).form_id))
    return tuple(out)
