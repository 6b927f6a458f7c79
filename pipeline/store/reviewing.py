"""The store's side of the review page: users, login sessions, the review queue, claims with a
lease, review events (machine value and clerk value kept side by side) and the document lifecycle

    review (to_review) → in_review (one user, lease) → postponed | rejected | accepted

Each method is one transaction and returns plain values. Accepting goes through the same guard as
`Store.set_status` (`review_tables.ensure_acceptable`): an unsettled flagged field refuses it.
For a 個人番号 field, values in review events are encrypted with the store's `FieldCipher`
(masked when none is installed), never kept in clear.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from pipeline.jp.calendar import add_business_days, jst_date
from pipeline.store.audit import append_audit
from pipeline.store.crypto import MY_NUMBER_KIND
from pipeline.store.documents import RecordNotFound, _record_status
from pipeline.store.facade import Store
from pipeline.store.outbox import enqueue_deliveries
from pipeline.store.review import Keying, double_entry_step, needs_two, protect_value, reveal_value
from pipeline.store.review_tables import (
    ACTIONS,
    ROLES,
    ReviewEventRow,
    UserRow,
    WebSessionRow,
    ensure_acceptable,
    unsettled_fields,
)
from pipeline.store.tables import AuditLog, DocumentRow, FieldRow, PageRow, StatusHistory, utcnow

TO_REVIEW = "review"  # the pipeline's route; the shared schema calls this state to_review
IN_REVIEW = "in_review"
POSTPONED = "postponed"
REJECTED = "rejected"
ACCEPTED = "accepted"
OPEN_STATUSES = (TO_REVIEW, IN_REVIEW, POSTPONED)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    active: bool


@dataclass(frozen=True)
class LoginSession:
    user: User
    csrf_token: str
    revealed: frozenset[str]
    expires_at: datetime


@dataclass(frozen=True)
class QueueItem:
    id: int
    source_name: str
    status: str
    form_id: str | None
    created_at: datetime
    deadline: date | None
    qa_sample: bool
    to_settle: int
    mismatches: int
    claimed_by: str | None
    claimed_until: datetime | None


@dataclass(frozen=True)
class Claim:
    ok: bool
    status: str
    held_by: str | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FieldTask:
    """One field to settle outside its document page: a second keying or a cell of a group grid."""

    document_id: int
    page_index: int
    name: str
    kind: str
    form_id: str | None
    source_name: str
    value: Any  # the machine's value (for a 個人番号: decrypted; never shown)
    first_by: str | None = None  # second keying: who keyed it first
    # field verification (/fields): why it was flagged and how sure each character was
    confidence: float = 1.0
    issues: tuple[dict[str, Any], ...] = ()
    chars: tuple[tuple[str, float], ...] = ()
    threshold: float | None = None  # the cut it was judged against when read


# Kinds whose values come from a short closed list: crops read as the same value can be checked
# together in a grid (a tick or not, a circled option, a signature present or not).
GROUP_KINDS: tuple[str, ...] = ("checkbox", "choice", "signature")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    document_id: int | None
    field_name: str | None
    detail: Any
    my_number_accessed: bool


def _user(r: UserRow) -> User:
    return User(r.id, r.name, r.role, bool(r.active))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ReviewDesk:
    """Review operations over a `Store` (same engine and sessions)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- values kept in review events ---

    def protect(self, kind: str | None, value: Any) -> Any:
        """A value as stored in review_events: a 個人番号 encrypted (or masked without a key)."""
        return protect_value(self.store.engine, kind, value)

    def reveal(self, kind: str | None, value: Any) -> Any:
        return reveal_value(self.store.engine, kind, value)

    # --- users ---

    def add_user(self, name: str, role: str, password_hash: str) -> User:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        with self.store.transaction() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                row = UserRow(
                    name=name, role=role, password_hash=password_hash, active=True, created_at=utcnow()
                )
                s.add(row)
            else:
                row.role, row.password_hash, row.active = role, password_hash, True
            s.flush()
            append_audit(s, actor="admin-cli", action="user_add", detail={"user": name, "role": role})
            return _user(row)

    def user_with_hash(self, name: str) -> tuple[User, str] | None:
        with self.store.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name, UserRow.active.is_(True)))
            return (_user(row), row.password_hash) if row is not None else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.store.transaction() as s:
            row = s.get(UserRow, user_id)
            if row is not None:
                row.password_hash = password_hash

    def list_users(self) -> list[User]:
        with self.store.session() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    # --- login sessions ---

    def create_session(self, user: User, hours: float) -> tuple[str, str]:
        """A new login: returns (cookie token, CSRF token). Only the token's hash is stored."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        with self.store.transaction() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            s.add(
                WebSessionRow(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                    revealed=[],
                )
            )
            append_audit(s, actor=user.name, action="login")
        return token, csrf

    def session_of(self, token: str) -> LoginSession | None:
        with self.store.session() as s:
            found = s.execute(
                select(WebSessionRow, UserRow)
                .join(UserRow, WebSessionRow.user_id == UserRow.id)
                .where(WebSessionRow.token_hash == token_hash(token))
            ).first()
            if found is None:
                return None
            sess, user = found
            if sess.expires_at < utcnow() or not user.active:
                return None
            return LoginSession(_user(user), sess.csrf_token, frozenset(sess.revealed or ()), sess.expires_at)

    def end_session(self, token: str) -> None:
        with self.store.transaction() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token)))

    def grant_reveal(self, token: str, user: str, document_id: int, page: int, field: str) -> None:
        """Let this login see one 個人番号 in clear, and audit that it was revealed."""
        key = f"{document_id}:{page}:{field}"
        with self.store.transaction() as s:
            sess = s.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token)))
            if sess is None:
                return
            sess.revealed = sorted({*(sess.revealed or []), key})
            append_audit(
                s,
                actor=user,
                action="reveal_my_number",
                document_id=document_id,
                field_name=field,
                detail={"page_index": page, "via": "web"},
                my_number_accessed=True,
            )

    # --- queue ---

    def queue(
        self,
        *,
        user: str,
        form_id: str | None = None,
        reason: str | None = None,
        older_than_days: int | None = None,
        due_by: date | None = None,
        limit: int = 100,
    ) -> list[QueueItem]:
        """Documents waiting for a person, by deadline (when set) then oldest first. `reason`:
        "qa" (QA samples), "mismatch" (double entries that disagree: supervisors), "postponed",
        "fields" (flagged fields, not QA)."""
        now = utcnow()
        to_settle = (
            select(func.count(FieldRow.id))
            .join(PageRow, FieldRow.page_id == PageRow.id)
            .where(
                PageRow.document_id == DocumentRow.id,
                FieldRow.corrected_at.is_(None),
                or_(FieldRow.accepted.is_(False), DocumentRow.qa_sample.is_(True)),
            )
            .correlate(DocumentRow)
            .scalar_subquery()
        )
        mismatches = (
            select(func.count(ReviewEventRow.id))
            .where(ReviewEventRow.document_id == DocumentRow.id, ReviewEventRow.action == "double_mismatch")
            .correlate(DocumentRow)
            .scalar_subquery()
        )
        q = select(DocumentRow, to_settle, mismatches).where(DocumentRow.status.in_(OPEN_STATUSES))
        if form_id:
            q = q.where(DocumentRow.form_id == form_id)
        if older_than_days:
            q = q.where(DocumentRow.created_at < now - timedelta(days=older_than_days))
        if due_by is not None:
            q = q.where(DocumentRow.deadline <= due_by)
        if reason == "qa":
            q = q.where(DocumentRow.qa_sample.is_(True))
        elif reason == "postponed":
            q = q.where(DocumentRow.status == POSTPONED)
        elif reason == "fields":
            q = q.where(DocumentRow.qa_sample.is_(False))
        elif reason == "mismatch":
            q = q.where(mismatches > 0)
        q = q.order_by(DocumentRow.deadline.is_(None), DocumentRow.deadline, DocumentRow.id).limit(limit)
        with self.store.session() as s:
            return [
                QueueItem(
                    id=d.id,
                    source_name=d.source_name,
                    status=d.status,
                    form_id=d.form_id,
                    created_at=d.created_at,
                    deadline=d.deadline,
                    qa_sample=bool(d.qa_sample),
                    to_settle=int(n or 0),
                    mismatches=int(m or 0),
                    claimed_by=d.review_claimed_by
                    if d.review_claimed_until and d.review_claimed_until > now
                    else None,
                    claimed_until=d.review_claimed_until,
                )
                for d, n, m in s.execute(q)
            ]

    def queue_counts(self) -> dict[str, int]:
        with self.store.session() as s:
            rows = s.execute(
                select(DocumentRow.status, DocumentRow.qa_sample, func.count())
                .where(DocumentRow.status.in_(OPEN_STATUSES))
                .group_by(DocumentRow.status, DocumentRow.qa_sample)
            )
            out: dict[str, int] = {"total": 0, "qa": 0}
            for status, qa, n in rows:
                out[status] = out.get(status, 0) + int(n)
                out["total"] += int(n)
                if qa:
                    out["qa"] += int(n)
            return out

    def fill_deadlines(self, rules: Mapping[str, int]) -> int:
        """Give each open document of a form with a deadline rule (form_id -> business days after
        the day it was received, in Japan) its deadline, once. Returns how many were set."""
        if not rules:
            return 0
        with self.store.transaction() as s:
            rows = s.execute(
                select(DocumentRow.id, DocumentRow.form_id, DocumentRow.created_at).where(
                    DocumentRow.deadline.is_(None),
                    DocumentRow.form_id.in_(list(rules)),
                    DocumentRow.status.in_(OPEN_STATUSES),
                )
            ).all()
            for doc_id, form_id, received in rows:
                due = add_business_days(jst_date(received), rules[form_id])
                s.execute(update(DocumentRow).where(DocumentRow.id == doc_id).values(deadline=due))
            return len(rows)

    def forms_in_queue(self) -> list[str]:
        with self.store.session() as s:
            q = (
                select(DocumentRow.form_id)
                .where(DocumentRow.status.in_(OPEN_STATUSES), DocumentRow.form_id.is_not(None))
                .distinct()
            )
            return sorted(f for f in s.scalars(q) if f)

    def next_in_queue(
        self, user: str, after_id: int | None = None, *, include_mismatch: bool = False
    ) -> int | None:
        """The next document this user can open, queue order: not held by someone else, not
        postponed, not waiting only for a second clerk's keying that this user cannot give, and
        (unless a supervisor asks) without a double-entry mismatch."""
        for item in self.queue(user=user, limit=200):
            if item.id == after_id or item.status == POSTPONED or item.claimed_by not in (None, user):
                continue
            if item.mismatches and not include_mismatch:
                continue
            if self.only_waits_for_other(item.id, user) or self.only_waits_for_second(item.id):
                continue
            return item.id
        return None

    def only_waits_for_other(self, document_id: int, user: str) -> bool:
        """True when every unsettled field of the document is a double entry this user keyed first."""
        with self.store.session() as s:
            left = set(unsettled_fields(s, document_id))
            if not left:
                return False
            mine = {
                (p, n)
                for p, n in s.execute(
                    select(ReviewEventRow.page_index, ReviewEventRow.field_name).where(
                        ReviewEventRow.document_id == document_id,
                        ReviewEventRow.actor == user,
                        ReviewEventRow.action == "double_entry",
                    )
                )
            }
            return left <= mine

    # --- documents ---

    def load(self, document_id: int) -> DocumentRow:
        """The document with its pages and fields (detached; 個人番号 decrypted: mask before display)."""
        with self.store.session() as s:
            row = s.scalar(
                select(DocumentRow)
                .where(DocumentRow.id == document_id)
                .options(selectinload(DocumentRow.pages).selectinload(PageRow.fields))
            )
            if row is None:
                raise RecordNotFound(f"no document {document_id}")
            return row

    def claim(self, document_id: int, user: str, lease_s: int) -> Claim:
        """Open a document for `user`: to_review/postponed/expired → in_review with a lease. A live
        lease held by someone else refuses it."""
        now = utcnow()
        with self.store.transaction() as s:
            row = s.scalar(select(DocumentRow).where(DocumentRow.id == document_id).with_for_update())
            if row is None:
                raise RecordNotFound(f"no document {document_id}")
            if row.status not in OPEN_STATUSES:
                return Claim(False, row.status)
            live = row.review_claimed_until is not None and row.review_claimed_until > now
            if row.status == IN_REVIEW and live and row.review_claimed_by != user:
                return Claim(False, row.status, row.review_claimed_by, row.review_claimed_until)
            if row.status != IN_REVIEW:
                _record_status(s, row.id, row.status, IN_REVIEW, user, None)
            row.status = IN_REVIEW
            row.review_claimed_by, row.review_claimed_until = user, now + timedelta(seconds=lease_s)
            return Claim(True, IN_REVIEW, user, row.review_claimed_until)

    def holds(self, s: Session, document_id: int, user: str) -> DocumentRow:
        """The document row, locked, when `user` holds its live claim; else ClaimLost."""
        row = s.scalar(select(DocumentRow).where(DocumentRow.id == document_id).with_for_update())
        if row is None:
            raise RecordNotFound(f"no document {document_id}")
        now = utcnow()
        if (
            row.status != IN_REVIEW
            or row.review_claimed_by != user
            or row.review_claimed_until is None
            or row.review_claimed_until < now
        ):
            raise ClaimLost(document_id, row.review_claimed_by)
        return row

    def free(self, s: Session, document_id: int, user: str) -> DocumentRow:
        """The document row, locked, when it waits for review and no one else holds a live claim."""
        row = s.scalar(select(DocumentRow).where(DocumentRow.id == document_id).with_for_update())
        if row is None:
            raise RecordNotFound(f"no document {document_id}")
        live = row.review_claimed_until is not None and row.review_claimed_until > utcnow()
        if row.status not in OPEN_STATUSES or (live and row.review_claimed_by not in (None, user)):
            raise ClaimLost(document_id, row.review_claimed_by)
        return row

    # --- field queues: second keying and group grids ---

    def _open_query(self, user: str, extra: Any) -> Any:
        now = utcnow()
        return (
            select(FieldRow, PageRow, DocumentRow)
            .join(PageRow, FieldRow.page_id == PageRow.id)
            .join(DocumentRow, PageRow.document_id == DocumentRow.id)
            .where(
                DocumentRow.status.in_(OPEN_STATUSES),
                DocumentRow.status != POSTPONED,
                FieldRow.corrected_at.is_(None),
                FieldRow.accepted.is_(False),
                or_(
                    DocumentRow.review_claimed_until.is_(None),
                    DocumentRow.review_claimed_until < now,
                    DocumentRow.review_claimed_by == user,
                ),
                extra,
            )
        )

    def _open_fields(self, s: Session, user: str, extra: Any) -> list[tuple[FieldRow, PageRow, DocumentRow]]:
        q = self._open_query(user, extra).order_by(
            DocumentRow.deadline.is_(None), DocumentRow.deadline, DocumentRow.id, PageRow.index
        )
        return [(f, p, d) for f, p, d in s.execute(q)]

    def second_entries(self, user: str, limit: int = 200) -> list[FieldTask]:
        """Double-entry fields keyed once by someone else and waiting for a second person, queue
        order: this user keys them one after another from the crops, without opening documents."""
        with self.store.session() as s:
            firsts: dict[tuple[int, int, str], str] = {}
            mismatched: set[tuple[int, int, str]] = set()
            rows = self._open_fields(s, user, FieldRow.double_entry.is_(True))
            ids = {d.id for _f, _p, d in rows}
            if not ids:
                return []
            for e in s.scalars(
                select(ReviewEventRow)
                .where(
                    ReviewEventRow.document_id.in_(ids),
                    ReviewEventRow.action.in_(("double_entry", "double_mismatch")),
                )
                .order_by(ReviewEventRow.id)
            ):
                key = (e.document_id, e.page_index or 0, e.field_name or "")
                if e.action == "double_mismatch":
                    mismatched.add(key)
                elif e.note == "first":
                    firsts[key] = e.actor
            out = []
            for f, p, d in rows:
                key = (d.id, p.index, f.name)
                if key in firsts and key not in mismatched and firsts[key] != user:
                    out.append(
                        FieldTask(
                            d.id, p.index, f.name, f.kind, d.form_id, d.source_name, f.value, firsts[key]
                        )
                    )
            return out[:limit]

    def field_tasks(self, user: str, limit: int = 100, window: int = 40) -> list[FieldTask]:
        """Field verification across documents: flagged fields that can be settled from their crop
        alone, at most `limit` to a page (one long page: the clerk moves down it with Enter, and each
        page load breaks the run). The documents come in queue order (deadline, then oldest),
        `window` documents at a time; within a window their fields are ordered as printed on the
        form, so a clerk checks a run of phone numbers, then of addresses, without opening each
        document. Left out: the grids' kinds,
        double entries already keyed once (the second-keying queue has them), QA samples (checked
        whole, on the document page) and fields that a cross-field rule names with another field
        (the clerk needs the document to judge those)."""
        now = utcnow()
        docs_q = (
            select(DocumentRow.id)
            .where(
                DocumentRow.status.in_(OPEN_STATUSES),
                DocumentRow.status != POSTPONED,
                DocumentRow.qa_sample.is_(False),
                or_(
                    DocumentRow.review_claimed_until.is_(None),
                    DocumentRow.review_claimed_until < now,
                    DocumentRow.review_claimed_by == user,
                ),
            )
            .order_by(DocumentRow.deadline.is_(None), DocumentRow.deadline, DocumentRow.id)
        )
        out: list[FieldTask] = []
        with self.store.session() as s:
            for offset in range(0, 10_000_000, window):
                ids = list(s.scalars(docs_q.limit(window).offset(offset)))
                if not ids:
                    break
                rows = self._open_fields(
                    s, user, FieldRow.kind.not_in(list(GROUP_KINDS)) & DocumentRow.id.in_(ids)
                )
                keyed: set[tuple[int, int, str]] = set()
                doubles = {d.id for f, _p, d in rows if f.double_entry}
                if doubles:
                    for d_id, pg, name in s.execute(
                        select(
                            ReviewEventRow.document_id, ReviewEventRow.page_index, ReviewEventRow.field_name
                        ).where(
                            ReviewEventRow.document_id.in_(doubles),
                            ReviewEventRow.action.in_(("double_entry", "double_mismatch")),
                        )
                    ):
                        keyed.add((d_id, int(pg or 0), str(name)))
                rank = {d: i for i, d in enumerate(ids)}
                rows.sort(key=lambda r: (r[2].form_id or "", r[0].position, rank[r[2].id], r[1].index))
                for f, p, d in rows:
                    if f.double_entry and (d.id, p.index, f.name) in keyed:
                        continue
                    issues = tuple(f.issues or [])
                    if any(set(i.get("fields") or ()) - {f.name} for i in issues):
                        continue
                    # a double entry is keyed blind: neither its value nor its characters leave the store
                    blind = f.double_entry or f.kind == MY_NUMBER_KIND
                    value = None if f.double_entry else self.reveal(f.kind, f.value)
                    chars = () if blind else tuple((str(t), float(c)) for t, c in (f.chars or []))
                    out.append(
                        FieldTask(
                            d.id,
                            p.index,
                            f.name,
                            f.kind,
                            d.form_id,
                            d.source_name,
                            value,
                            confidence=float(f.confidence),
                            issues=issues,
                            chars=chars,
                            threshold=f.threshold,
                        )  # fmt: skip
                    )
                if len(out) >= limit:
                    break
        return out[:limit]  # the rest of a window's fields come on the next page

    def groups(self, user: str, kinds: Sequence[str] = GROUP_KINDS) -> list[list[FieldTask]]:
        """Flagged fields of closed-list kinds, grouped by form, field and the machine's value,
        largest group first: one grid each, where a clerk spots the crop that differs."""
        with self.store.session() as s:
            rows = self._open_fields(
                s, user, FieldRow.kind.in_(list(kinds)) & FieldRow.double_entry.is_(False)
            )
            by: dict[tuple[str, str, str], list[FieldTask]] = {}
            for f, p, d in rows:
                key = (d.form_id or "", f.name, repr(f.value))
                by.setdefault(key, []).append(
                    FieldTask(d.id, p.index, f.name, f.kind, d.form_id, d.source_name, f.value)
                )
            return sorted(by.values(), key=lambda g: (-len(g), g[0].name, repr(g[0].value)))

    def only_waits_for_second(self, document_id: int) -> bool:
        """True when every unsettled field of the document is a double entry keyed once, without a
        mismatch: the second keying happens in the field queue, not on the document page."""
        with self.store.session() as s:
            left = set(unsettled_fields(s, document_id))
            if not left:
                return False
            keyed: set[tuple[int, str]] = set()
            for p, n, action in s.execute(
                select(ReviewEventRow.page_index, ReviewEventRow.field_name, ReviewEventRow.action).where(
                    ReviewEventRow.document_id == document_id,
                    ReviewEventRow.action.in_(("double_entry", "double_mismatch")),
                )
            ):
                if action == "double_mismatch":
                    return False
                keyed.add((int(p or 0), str(n)))
            return left <= keyed

    def accept_settled(self, document_id: int, user: str, note: str) -> bool:
        """Accept a document nobody else holds once nothing is left to settle (after a field queue
        settled its last field). The caller has checked the cross-field rules. Returns whether
        it was accepted."""
        with self.store.transaction() as s:
            try:
                row = self.free(s, document_id, user)
            except ClaimLost:
                return False
            if unsettled_fields(s, document_id):
                return False
            ev = self._event(s, document_id, user, "accept_document", note, bool(row.qa_sample))
            ev.auto_accepted = False
            self._accept_row(s, row, user, note)
            append_audit(s, actor=user, action="accept", document_id=document_id, detail={"via": note})
            return True

    def settle_field(
        self,
        document_id: int,
        page_index: int,
        field_name: str,
        *,
        user: str,
        action: str,
        value: Any,
        settle: bool = True,
        ms_spent: int | None = None,
        keystrokes: int | None = None,
        note: str | None = None,
        lease_s: int = 900,
        claimed: bool = True,
    ) -> Keying | None:
        """Record one clerk action on a field. With `settle`, the field's reviewed value becomes
        `value` (the machine's value stays in `fields.value`). Audited as `edit` (or `review` for
        a confirm), never with a 個人番号 in clear.

        A `review: double` field ignores `action` and `settle`: `review.double_entry_step` decides
        (first keying waits, a second person's equal value settles, a different one goes to a
        supervisor) and the `Keying` is returned; the same person twice raises DoubleEntryRefused."""
        if action not in ACTIONS:
            raise ValueError(f"unknown review action {action!r}")
        with self.store.transaction() as s:
            # claimed=False: a field queue (second keying, group grid) settles one field of a
            # document nobody else holds, without opening (claiming) the document.
            doc = self.holds(s, document_id, user) if claimed else self.free(s, document_id, user)
            f = _field(s, document_id, page_index, field_name)
            is_mn = f.kind == MY_NUMBER_KIND
            keying: Keying | None = None
            if needs_two(f):
                keying = double_entry_step(
                    s, document_id, page_index, f, user, value, lambda v: self.reveal(f.kind, v)
                )
                action, settle, note = keying.action, keying.settles, keying.note
            s.add(
                ReviewEventRow(
                    document_id=document_id,
                    page_index=page_index,
                    field_name=field_name,
                    kind=f.kind,
                    actor=user,
                    action=action,
                    machine_value=self.protect(f.kind, f.value),
                    final_value=self.protect(f.kind, value),
                    auto_accepted=bool(f.accepted),
                    qa=bool(doc.qa_sample),
                    ms_spent=ms_spent,
                    keystrokes=keystrokes,
                    note=note,
                    created_at=utcnow(),
                )
            )
            if settle:
                old = f.final_value
                f.corrected_value, f.corrected_by, f.corrected_at = value, user, utcnow()
                detail: dict[str, Any] = {"page_index": page_index, "kind": f.kind, "action": action}
                detail |= {"changed": old != value} if is_mn else {"old": old, "new": value}
            else:
                detail = {"page_index": page_index, "kind": f.kind, "action": action}
            append_audit(
                s,
                actor=user,
                action="edit" if action not in ("confirm", "qa_confirm") else "review",
                document_id=document_id,
                field_name=field_name,
                detail=detail,
                my_number_accessed=is_mn,
            )
            if claimed:
                doc.review_claimed_until = utcnow() + timedelta(seconds=lease_s)
            return keying

    def events(
        self, document_id: int, page_index: int | None = None, field_name: str | None = None
    ) -> list[ReviewEventRow]:
        q = (
            select(ReviewEventRow)
            .where(ReviewEventRow.document_id == document_id)
            .order_by(ReviewEventRow.id)
        )
        if page_index is not None:
            q = q.where(ReviewEventRow.page_index == page_index)
        if field_name is not None:
            q = q.where(ReviewEventRow.field_name == field_name)
        with self.store.session() as s:
            return list(s.scalars(q))

    def unsettled(self, document_id: int) -> list[tuple[int, str]]:
        with self.store.session() as s:
            return unsettled_fields(s, document_id)

    def postpone(self, document_id: int, user: str, note: str | None = None) -> None:
        with self.store.transaction() as s:
            row = self.holds(s, document_id, user)
            self._event(s, document_id, user, "postpone", note, bool(row.qa_sample))
            _record_status(s, row.id, row.status, POSTPONED, user, note)
            row.status, row.review_claimed_by, row.review_claimed_until = POSTPONED, None, None
            append_audit(
                s, actor=user, action="postpone", document_id=document_id, detail={"note": note or ""}
            )

    def reject(self, document_id: int, user: str, reason: str) -> None:
        if not reason.strip():
            raise ValueError("a rejection needs a reason")
        with self.store.transaction() as s:
            row = self.holds(s, document_id, user)
            self._event(s, document_id, user, "reject_document", reason, bool(row.qa_sample))
            _record_status(s, row.id, row.status, REJECTED, user, reason)
            row.status, row.review_claimed_by, row.review_claimed_until = REJECTED, None, None
            append_audit(s, actor=user, action="reject", document_id=document_id, detail={"reason": reason})

    def accept(self, document_id: int, user: str, ms_spent: int | None = None) -> None:
        """Accept a document the user holds; ReviewIncomplete while a flagged field is unsettled."""
        with self.store.transaction() as s:
            row = self.holds(s, document_id, user)
            ensure_acceptable(s, document_id)
            ev = self._event(s, document_id, user, "accept_document", None, bool(row.qa_sample))
            ev.ms_spent = ms_spent
            self._accept_row(s, row, user, "review")
            append_audit(s, actor=user, action="accept", document_id=document_id)

    def _accept_row(self, s: Session, row: DocumentRow, user: str, note: str) -> None:
        """The document becomes `accepted` and, in the same transaction, one outbox row per
        configured delivery target (as `DocumentStore.set_status` does for the Python API)."""
        _record_status(s, row.id, row.status, ACCEPTED, user, note)
        row.status, row.review_claimed_by, row.review_claimed_until = ACCEPTED, None, None
        row.updated_at = utcnow()
        if self.store.delivery_targets:
            s.flush()
            enqueue_deliveries(s, row.id, self.store.delivery_targets)

    def release(self, document_id: int, user: str) -> None:
        """Give a held document back to the queue untouched."""
        with self.store.transaction() as s:
            row = s.scalar(select(DocumentRow).where(DocumentRow.id == document_id).with_for_update())
            if row is not None and row.status == IN_REVIEW and row.review_claimed_by == user:
                _record_status(s, row.id, row.status, TO_REVIEW, user, "released")
                row.status, row.review_claimed_by, row.review_claimed_until = TO_REVIEW, None, None

    def _event(
        self, s: Session, document_id: int, user: str, action: str, note: str | None, qa: bool
    ) -> ReviewEventRow:
        ev = ReviewEventRow(
            document_id=document_id,
            actor=user,
            action=action,
            note=note,
            qa=qa,
            auto_accepted=False,
            created_at=utcnow(),
        )
        s.add(ev)
        return ev

    # --- audit ---

    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        document_id: int | None = None,
        my_number_only: bool = False,
        limit: int = 200,
    ) -> list[AuditEntry]:
        q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if actor:
            q = q.where(AuditLog.actor == actor)
        if action:
            q = q.where(AuditLog.action == action)
        if document_id is not None:
            q = q.where(AuditLog.document_id == document_id)
        if my_number_only:
            q = q.where(AuditLog.my_number_accessed.is_(True))
        with self.store.session() as s:
            return [
                AuditEntry(
                    r.id, r.at, r.actor, r.action, r.document_id, r.field_name, r.detail, r.my_number_accessed
                )
                for r in s.scalars(q)
            ]

    # --- productivity ---

    def productivity(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Per user: fields shown and corrected, keystrokes, time, documents accepted."""
        q = select(
            ReviewEventRow.actor,
            ReviewEventRow.action,
            func.count(),
            func.coalesce(func.sum(ReviewEventRow.keystrokes), 0),
            func.coalesce(func.sum(ReviewEventRow.ms_spent), 0),
        ).group_by(ReviewEventRow.actor, ReviewEventRow.action)
        if since is not None:
            q = q.where(ReviewEventRow.created_at >= since)
        out: dict[str, dict[str, Any]] = {}
        with self.store.session() as s:
            for actor, action, n, keys, ms in s.execute(q):
                u = out.setdefault(
                    actor,
                    {"user": actor, "fields": 0, "corrected": 0, "keystrokes": 0, "ms": 0, "accepted": 0},
                )
                if action in (
                    "confirm",
                    "correct",
                    "double_entry",
                    "qa_confirm",
                    "qa_correct",
                    "supervisor_resolve",
                ):
                    u["fields"] += int(n)
                if action in ("correct", "qa_correct"):
                    u["corrected"] += int(n)
                if action == "accept_document":
                    u["accepted"] += int(n)
                u["keystrokes"] += int(keys)
                u["ms"] += int(ms)
        return sorted(out.values(), key=lambda u: u["user"])

    def qa_outcomes(self) -> tuple[int, int]:
        """(QA-checked fields the machine had accepted, of which corrected)."""
        with self.store.session() as s:
            q = (
                select(ReviewEventRow.action, func.count())
                .where(ReviewEventRow.qa.is_(True), ReviewEventRow.auto_accepted.is_(True))
                .where(ReviewEventRow.action.in_(["qa_confirm", "qa_correct"]))
                .group_by(ReviewEventRow.action)
            )
            counts = dict(s.execute(q).all())
        return int(counts.get("qa_confirm", 0)) + int(counts.get("qa_correct", 0)), int(
            counts.get("qa_correct", 0)
        )


class ClaimLost(PermissionError):
    """The user does not (or no longer) hold the document: someone else opened it or the lease ran out."""

    def __init__(self, document_id: int, holder: str | None) -> None:
        self.document_id, self.holder = document_id, holder
        super().__init__(f"document {document_id} is not held by this user")


def _field(s: Session, document_id: int, page_index: int, name: str) -> FieldRow:
    f = s.scalar(
        select(FieldRow)
        .join(PageRow, FieldRow.page_id == PageRow.id)
        .where(PageRow.document_id == document_id, PageRow.index == page_index, FieldRow.name == name)
    )
    if f is None:
        raise RecordNotFound(f"no field {name!r} on page {page_index} of document {document_id}")
    return f


def history(store: Store, document_id: int) -> list[StatusHistory]:
    with store.session() as s:
        return list(
            s.scalars(
                select(StatusHistory)
                .where(StatusHistory.document_id == document_id)
                .order_by(StatusHistory.id)
            )
        )


__all__: Sequence[str] = (
    "ReviewDesk",
    "ClaimLost",
    "User",
    "LoginSession",
    "QueueItem",
    "Claim",
)
