"""Review: a person's correction of one field, audit-logged in the same transaction; and the rule
for fields the template marks `review: double` (個人番号 first), which one person can never settle.

A double-entry field is settled only when two different people keyed the same value, or, after
their values disagreed, by a supervisor (or admin) who was neither of them. `double_entry_step`
decides what one keying does; `Store.correct_field` and the review page (`reviewing.ReviewDesk`)
both go through it, so neither the Python API nor the web can settle such a field alone. Keyed
values are kept in `review_events`, encrypted for a 個人番号 (masked when no key is installed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.errors import BusinessRuleError
from pipeline.privacy import mask_my_number
from pipeline.store.audit import append_audit
from pipeline.store.crypto import cipher_of
from pipeline.store.db import Database
from pipeline.store.documents import MY_NUMBER_KIND, DocKey, RecordNotFound, _doc_filter
from pipeline.store.review_tables import ReviewEventRow, UserRow
from pipeline.store.tables import (
    DocumentRow,
    FieldRow,
    PageRow,
    utcnow,
)

SUPERVISOR_ROLES = ("supervisor", "admin")
DOUBLE_ACTIONS = ("double_entry", "double_mismatch", "supervisor_resolve")


class DoubleEntryRefused(BusinessRuleError):
    """This keying of a `review: double` field is not allowed (the same person twice, or a
    mismatch that only another supervisor may settle). `message` is in Japanese for the clerk."""

    reason = "double_entry_refused"


@dataclass(frozen=True)
class Keying:
    """What one keying of a double-entry field did."""

    action: str  # review_events.action: double_entry | double_mismatch | supervisor_resolve
    note: str | None  # "first" or "second" for double_entry
    settles: bool

    @property
    def outcome(self) -> str:
        """first | matched | mismatch | resolved"""
        if self.action == "double_mismatch":
            return "mismatch"
        if self.action == "supervisor_resolve":
            return "resolved"
        return "matched" if self.settles else "first"


def needs_two(f: FieldRow) -> bool:
    """Whether settling `f` takes two people: the template marks it `review: double` and it went
    to review (a QA sample's auto-accepted field is checked by one person, like any other)."""
    return bool(f.double_entry) and not f.accepted


def role_of(s: Session, actor: str) -> str | None:
    return s.scalar(select(UserRow.role).where(UserRow.name == actor, UserRow.active.is_(True)))


def double_entry_step(
    s: Session,
    document_id: int,
    page_index: int,
    f: FieldRow,
    actor: str,
    value: Any,
    reveal: Callable[[Any], Any],
) -> Keying:
    """Decide what `actor` keying `value` into double-entry field `f` does (nothing is written).
    `reveal` opens a stored keyed value (decrypts a 個人番号)."""
    events = list(
        s.scalars(
            select(ReviewEventRow)
            .where(
                ReviewEventRow.document_id == document_id,
                ReviewEventRow.page_index == page_index,
                ReviewEventRow.field_name == f.name,
                ReviewEventRow.action.in_(DOUBLE_ACTIONS),
            )
            .order_by(ReviewEventRow.id)
        )
    )
    keyers = {e.actor for e in events if e.action in ("double_entry", "double_mismatch")}
    supervisor = role_of(s, actor) in SUPERVISOR_ROLES
    if any(e.action == "double_mismatch" for e in events) or f.corrected_at is not None:
        # Two keyings disagreed (or the field is settled and someone keys it again): only a
        # supervisor who keyed none of it settles it.
        if not supervisor:
            raise DoubleEntryRefused("入力が一致しなかった項目です。監督者が確定します。")
        if actor in keyers:
            raise DoubleEntryRefused("自分で入力した項目は確定できません。別の監督者が確定します。")
        return Keying("supervisor_resolve", None, True)
    firsts = [e for e in events if e.action == "double_entry" and e.note == "first"]
    if not firsts:
        return Keying("double_entry", "first", False)
    first = firsts[-1]
    if first.actor == actor:
        raise DoubleEntryRefused("同じ職員が2回入力することはできません。別の職員に回してください。")
    if reveal(first.final_value) == value:
        return Keying("double_entry", "second", True)
    return Keying("double_mismatch", None, False)


def protect_value(engine: Any, kind: str | None, value: Any) -> Any:
    """A value as kept in review_events: a 個人番号 encrypted (or masked without a key)."""
    if kind != MY_NUMBER_KIND or value is None:
        return value
    cipher = cipher_of(engine)
    return cipher.encrypt(value) if cipher is not None else mask_my_number(value)


def reveal_value(engine: Any, kind: str | None, value: Any) -> Any:
    if kind != MY_NUMBER_KIND:
        return value
    cipher = cipher_of(engine)
    return cipher.decrypt(value) if cipher is not None else value


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
    ) -> str:
        """Store a reviewer's value for one field and audit it as `edit`. For a my_number field the
        audit row says only that it changed (never the value) and sets my_number_accessed.

        A `review: double` field is not settled by one call: the first person's value waits
        (returns "first"), a second person's equal value settles it ("matched"), a different one
        sends it to a supervisor ("mismatch"), who settles it ("resolved"); the same person twice
        raises DoubleEntryRefused. Any other field returns "settled"."""
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
            is_my_number = f.kind == MY_NUMBER_KIND
            outcome = "settled"
            settle = True
            double = needs_two(f)
            if double:
                step = double_entry_step(
                    s,
                    document_id,
                    page_index,
                    f,
                    actor,
                    value,
                    lambda v: reveal_value(self.engine, f.kind, v),
                )
                s.add(
                    ReviewEventRow(
                        document_id=document_id,
                        page_index=page_index,
                        field_name=field_name,
                        kind=f.kind,
                        actor=actor,
                        action=step.action,
                        machine_value=protect_value(self.engine, f.kind, f.value),
                        final_value=protect_value(self.engine, f.kind, value),
                        auto_accepted=bool(f.accepted),
                        note=step.note,
                        created_at=utcnow(),
                    )
                )
                outcome, settle = step.outcome, step.settles
            old = f.final_value
            detail: dict[str, Any] = {"page_index": page_index, "kind": f.kind}
            if settle:
                f.corrected_value, f.corrected_by, f.corrected_at = value, actor, utcnow()
                detail |= {"changed": old != value} if is_my_number else {"old": old, "new": value}
            if double:
                detail["double_entry"] = outcome
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
            return outcome
