"""Queue claims: a submitted document is `processing` until a worker claims it
(`begin_attempt`), finishes it, or gives up and parks it. A claim names its holder (host:pid) and
holds until `lease_until`, which the holder's heartbeat moves on (`renew_lease`) while the document
runs; a claim whose lease ran out is a dead holder's, and `requeue_stuck` queues the document again.
pipeline/intake/jobs.py drives these; see docs/deploy.md for the crash and redelivery cases they cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.store.db import Database
from pipeline.store.documents import _record_status
from pipeline.store.tables import (
    DocumentRow,
    FailedTaskRow,
    PageRow,
    utcnow,
)

PROCESSING = "processing"
PARKED_REASON = "processing_failed"  # a document the queue gave up on (see `ClaimStore.begin_attempt`)


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


@dataclass(frozen=True)
class InFlight:
    """A `processing` document as the queue sees it (`Store.in_flight`), for `shinsei status` and
    the re-queue sweep. `claimed_by` is None when no delivery has started it since it was queued."""

    id: int
    sha256: str
    source_name: str
    submitted_at: datetime | None  # when it was (last) queued
    claimed_by: str | None
    claimed_at: datetime | None
    lease_until: datetime | None
    task_attempts: int
    failed_task: bool  # an unresolved failed task: left to `shinsei failed retry`, never re-queued
    claim_token: str | None = None


class ClaimStore(Database):
    """Submitting, claiming, releasing, parking and re-queueing documents."""

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
        redelivered message keeps). A claim whose lease has not run out, held by another token, means a
        duplicate message while the first is still running: "busy". The same token, or a lapsed
        claim, is taken over (its holder died). The claim holds for `lease_s`; the holder's
        heartbeat renews it (`renew_lease`). Each claim counts one start; starting more than
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
            live = row.lease_until is not None and row.lease_until > now
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
            row.lease_until = now + timedelta(seconds=lease_s)
            row.task_attempts = (row.task_attempts or 0) + 1
            return Attempt("run", **(base | {"attempts": row.task_attempts}))

    def renew_lease(self, sha256: str, token: str, lease_s: float) -> bool:
        """The holder is alive: `token`'s claim now holds until `lease_s` from now. False when the
        claim is no longer `token`'s (the lease ran out and the document was queued again, or it
        is final)."""
        with self.transaction() as s:
            done = s.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.sha256 == sha256,
                    DocumentRow.claim_token == token,
                    DocumentRow.status == PROCESSING,
                )
                .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            )
            return bool(done.rowcount)

    def release_claim(self, sha256: str, token: str) -> None:
        """Drop `token`'s claim (after a failure was recorded), so the document can be taken again."""
        with self.transaction() as s:
            s.execute(
                update(DocumentRow)
                .where(DocumentRow.sha256 == sha256, DocumentRow.claim_token == token)
                .values(claim_token=None, claimed_at=None, lease_until=None)
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

    def in_flight(self, limit: int = 1000) -> list[InFlight]:
        """The `processing` documents, oldest first: who holds each and until when."""
        failed = (
            exists()
            .where(FailedTaskRow.document_sha256 == DocumentRow.sha256, FailedTaskRow.resolved_at.is_(None))
            .correlate(DocumentRow)
        )
        q = (
            select(DocumentRow, failed)
            .where(DocumentRow.status == PROCESSING)
            .order_by(DocumentRow.id)
            .limit(limit)
        )
        with self.session() as s:
            return [
                InFlight(
                    r.id,
                    r.sha256,
                    r.source_name,
                    r.submitted_at,
                    r.claimed_by if r.claim_token else None,
                    r.claimed_at if r.claim_token else None,
                    r.lease_until if r.claim_token else None,
                    r.task_attempts or 0,
                    bool(f),
                    r.claim_token,
                )
                for r, f in s.execute(q)
            ]

    def requeue_stuck(
        self,
        *,
        queued_before: datetime,
        now: datetime | None = None,
        shas: Sequence[str] | None = None,
        gone: Mapping[str, tuple[str, str]] | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """`processing` documents to queue again: never started and queued before `queued_before`
        (its message looks lost), claimed with a lease that ran out by `now` (the holder is gone),
        or still held by the (claim token, holder) `gone` names for it (a holder known dead before
        its lease ran out; a redelivery of the same task id in a new process does not match). Documents with an unresolved failed task are left to `failed retry`. Each is marked
        queued now (claim cleared) in this transaction; the caller enqueues them after it commits.
        Rows another sweeper holds are skipped (PostgreSQL SKIP LOCKED), and the conditions are
        read under the row lock, so two sweepers racing queue each document once. Returns their
        sha256s."""
        now = now or utcnow()
        failed = exists().where(
            FailedTaskRow.document_sha256 == DocumentRow.sha256, FailedTaskRow.resolved_at.is_(None)
        )
        never_started = DocumentRow.claim_token.is_(None) & (
            DocumentRow.submitted_at.is_(None) | (DocumentRow.submitted_at < queued_before)
        )
        # A claim from before leases existed (no lease_until) counts as lapsed.
        lapsed = DocumentRow.claim_token.is_not(None) & (
            DocumentRow.lease_until.is_(None) | (DocumentRow.lease_until <= now)
        )
        if gone:
            lapsed = lapsed | or_(
                *(
                    and_(
                        DocumentRow.sha256 == sha,
                        DocumentRow.claim_token == token,
                        DocumentRow.claimed_by == by,
                    )
                    for sha, (token, by) in gone.items()
                )
            )
        q = select(DocumentRow).where(DocumentRow.status == PROCESSING, ~failed, never_started | lapsed)
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


def _park(s: Session, row: DocumentRow, message: str, actor: str) -> None:
    _record_status(s, row.id, row.status, "quarantined", actor, PARKED_REASON)
    row.status, row.reason, row.message = "quarantined", PARKED_REASON, message
    row.claim_token, row.claimed_at, row.lease_until = None, None, None


def _reset_claim(row: DocumentRow, keep_attempts: bool = False) -> None:
    row.claim_token, row.claimed_at, row.lease_until, row.submitted_at = None, None, None, utcnow()
    if not keep_attempts:
        row.task_attempts = 0
