"""`review: double` is enforced by the store: `Store.correct_field` (the Python API) never settles
a double-entry field for one person; two different people must key the same value, and a mismatch
is settled only by a supervisor who keyed none of it. Real SQLite store, real encryption."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pipeline.result import Char, DocumentResult, FieldResult, PageResult, Route
from pipeline.store import Store
from pipeline.store.review import DoubleEntryRefused
from pipeline.store.review_tables import ReviewIncomplete
from pipeline.store.reviewing import ReviewDesk

NUMBER, OTHER = "123456789018", "987654321098"  # synthetic; 123456789018 passes the check digit


def _document(store: Store) -> int:
    mn = FieldResult(
        "child_my_number",
        "my_number",
        NUMBER,
        NUMBER,
        0.4,
        tuple(Char(c, 0.4) for c in NUMBER),
        accepted=False,
        double_entry=True,
    )
    name = FieldResult("child_name", "name_kanji", "山田太郎", "山田 太郎", 0.99, accepted=True)
    page = PageResult(0, "nursery_enrolment", "2026.1", Route.review, fields=(name, mn))
    doc = DocumentResult("d" * 64, "a.png", Route.review, (page,))
    return store.save_document_result(doc, stored_path=None, kind="png", size_bytes=1, page_count=1)


def _settled(store: Store, doc_id: int) -> bool:
    with store.session() as s:
        from pipeline.store.review_tables import unsettled_fields

        return not unsettled_fields(s, doc_id)


def test_one_person_cannot_settle_a_double_field(store: Store) -> None:
    doc_id = _document(store)
    assert store.correct_field(doc_id, 0, "child_my_number", NUMBER, "clerk1") == "first"
    assert not _settled(store, doc_id)
    with pytest.raises(DoubleEntryRefused):
        store.correct_field(doc_id, 0, "child_my_number", NUMBER, "clerk1")
    with pytest.raises(ReviewIncomplete):
        store.set_status(doc_id, "accepted", "clerk1")
    assert store.correct_field(doc_id, 0, "child_my_number", NUMBER, "clerk2") == "matched"
    assert _settled(store, doc_id)
    assert store.set_status(doc_id, "accepted", "clerk2")
    [(_summary, _index, values)] = list(store.accepted_pages())
    assert values["child_my_number"] == NUMBER


def test_mismatch_needs_a_supervisor_who_keyed_none_of_it(store: Store) -> None:
    from web.security import hash_password

    desk = ReviewDesk(store)
    desk.add_user("boss", "supervisor", hash_password("pw pw pw 1"))
    desk.add_user("boss2", "supervisor", hash_password("pw pw pw 1"))
    doc_id = _document(store)
    assert store.correct_field(doc_id, 0, "child_my_number", NUMBER, "boss") == "first"
    assert store.correct_field(doc_id, 0, "child_my_number", OTHER, "clerk2") == "mismatch"
    assert not _settled(store, doc_id)
    with pytest.raises(DoubleEntryRefused):  # a reviewer cannot settle a mismatch
        store.correct_field(doc_id, 0, "child_my_number", NUMBER, "clerk3")
    with pytest.raises(DoubleEntryRefused):  # nor a supervisor who keyed one side of it
        store.correct_field(doc_id, 0, "child_my_number", NUMBER, "boss")
    assert store.correct_field(doc_id, 0, "child_my_number", NUMBER, "boss2") == "resolved"
    assert _settled(store, doc_id)
    # keyed values are kept (encrypted), never in clear, in review_events and the audit log
    with store.engine.connect() as conn:
        dump = " ".join(
            str(v)
            for table in ("review_events", "audit_log", "fields")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for v in row
        )
    assert NUMBER not in dump and OTHER not in dump and "enc:v1:" in dump
    assert [e.action for e in desk.events(doc_id)] == [
        "double_entry",
        "double_mismatch",
        "supervisor_resolve",
    ]


def test_other_fields_settle_with_one_call(store: Store) -> None:
    doc_id = _document(store)
    assert store.correct_field(doc_id, 0, "child_name", "山田 太朗", "clerk1") == "settled"
