"""The store against real databases: a SQLite file per test and one PostgreSQL database per session
(127.0.0.1:5432, user postgres, trust auth; CI starts the server). PostgreSQL is never skipped."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from pipeline.errors import TransientError
from pipeline.result import Char, DocumentResult, FieldResult, Issue, PageResult, Route
from pipeline.settings import Settings
from pipeline.store import RecordNotFound, Store, db, open_store, upgrade_database
from pipeline.store.review_tables import ReviewIncomplete
from pipeline.store.tables import Base

TABLES = {"documents", "pages", "fields", "status_history", "audit_log", "failed_tasks"}
MY_NUMBER = "123456789018"

pytestmark = pytest.mark.services  # PostgreSQL (and SQLite files)


# --- databases ---


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'shinsei.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = open_store(url)
    if s.dialect == "postgresql":  # one database for the session: start every test empty
        with s.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(sorted(TABLES))} RESTART IDENTITY CASCADE")
    try:
        yield s
    finally:
        s.close()


# --- sample data ---


def _field(name: str, kind: str, raw: str, value, probs=(0.99, 0.97), **kw) -> FieldResult:
    chars = tuple(Char(t, p) for t, p in zip(raw, probs * len(raw), strict=False))
    return FieldResult(name, kind, raw, value, min((c.prob for c in chars), default=1.0), chars, **kw)


def sample_result(sha: str = "a" * 64, route: Route = Route.accepted) -> DocumentResult:
    issue = Issue(
        "age_below_minimum", "入所予定日に生後57日未満です", ("birth_date", "start_date"), "warning"
    )
    page0 = PageResult(
        index=0,
        form_id="nursery_enrolment",
        form_version="2026.1",
        route=route,
        orientation=180,
        skew_deg=-0.4321,
        match_score=0.912345678,
        fields=(
            _field(
                "child_name",
                "name_kanji",
                "山田太郎",
                "山田 太郎",
                (0.991234567, 0.95),
                accepted=True,
                box_px=(10, 20, 300, 40),
                crop_path="crops/a/child_name.png",
            ),
            _field("birth_date", "date", "R6.4.1", "2024-04-01", accepted=True),
            _field("child_my_number", "my_number", MY_NUMBER, MY_NUMBER, (0.999,), accepted=True),
            _field("reasons", "checkboxes", "", ["就労", "妊娠"], (), accepted=True),
            _field("remarks", "text", "", None, (), accepted=True),
        ),
        issues=(issue,),
    )
    page1 = PageResult(
        index=1,
        form_id="nursery_enrolment",
        form_version="2026.1",
        route=route,
        fields=(
            _field(
                "phone",
                "phone",
                "090-1234-5678",
                "09012345678",
                (0.5, 0.99),
                accepted=route is Route.accepted,
                issues=(Issue("low_confidence", "読み取りに自信がありません", ("phone",)),),
            ),
            _field("siblings", "int", "2", 2, accepted=True),
        ),
    )
    return DocumentResult(
        sha, "申請書_山田.pdf", route, (page0, page1), extra={"qa_sample": False, "timings": {"ocr": 1.25}}
    )


def _records(store: Store, **kw: object) -> dict[int, dict]:
    """Per accepted document, its pages' final values merged by name (a later page wins)."""
    out: dict[int, dict] = {}
    for summary, _index, values in store.accepted_pages(**kw):
        out.setdefault(summary.id, {}).update(values)
    return out


def _save(store: Store, result: DocumentResult, **kw) -> int:
    args = {
        "stored_path": f"originals/{result.sha256[:2]}/{result.sha256}.pdf",
        "kind": "pdf",
        "size_bytes": 123_456,
        "page_count": len(result.pages),
    } | kw
    return store.save_document_result(result, **args)


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


# --- tests ---


def test_migration_from_empty_creates_every_table_and_matches_models(url: str) -> None:
    upgrade_database(url)  # PostgreSQL's session database may already be at head: start from base
    cfg = db.alembic_config(url=url)
    command.downgrade(cfg, "base")
    engine = create_engine(url)
    try:
        assert TABLES.isdisjoint(inspect(engine).get_table_names())
        upgrade_database(url)
        upgrade_database(url)  # idempotent
        assert TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert ctx.get_current_revision() == ScriptDirectory.from_config(cfg).get_current_head()
            assert compare_metadata(ctx, Base.metadata) == []  # the migration matches the models
    finally:
        engine.dispose()


def test_open_store_from_settings_uses_data_dir_with_wal(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nested" / "data")
    store = open_store(settings)
    try:
        assert (tmp_path / "nested" / "data" / "shinsei.sqlite3").is_file()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        store.close()


def test_round_trip_equals_original(store: Store) -> None:
    original = sample_result()
    doc_id = _save(store, original)
    assert store.has_document(original.sha256) and not store.has_document("f" * 64)
    for key in (doc_id, original.sha256):
        loaded = store.get_document(key)
        assert loaded is not None
        assert loaded.export() == original.export()
        assert loaded == original
    assert store.get_document("f" * 64) is None and store.get_document(doc_id + 1000) is None

    row = store.get_document_row(original.sha256)
    assert row is not None and row.id == doc_id
    assert (row.status, row.route, row.form_id, row.form_version) == (
        "accepted",
        "accepted",
        "nursery_enrolment",
        "2026.1",
    )
    assert (row.kind, row.size_bytes, row.page_count, row.attempts) == ("pdf", 123_456, 2, 1)
    for ts in (row.created_at, row.updated_at):
        assert ts.tzinfo is not None and ts.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - ts).total_seconds()) < 60


def test_resave_is_idempotent_and_history_only_on_change(store: Store) -> None:
    result = sample_result()
    doc_id = _save(store, result)
    counts = {t: _count(store, t) for t in ("documents", "pages", "fields")}
    assert _save(store, result) == doc_id
    assert {t: _count(store, t) for t in counts} == counts == {"documents": 1, "pages": 2, "fields": 7}
    assert [(h.from_status, h.to_status) for h in store.status_history(doc_id)] == [(None, "accepted")]

    store.correct_field(doc_id, 0, "child_name", "山田 太朗", "clerk1")
    review = sample_result(route=Route.review)
    assert _save(store, review) == doc_id
    assert store.get_document(doc_id) == review
    assert {t: _count(store, t) for t in counts} == counts
    history = store.status_history(doc_id)
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        (None, "accepted", "pipeline"),
        ("accepted", "review", "pipeline"),
    ]
    assert store.get_document_row(doc_id).attempts == 3
    # a re-run keeps the reviewer's correction of a field that is still there
    with pytest.raises(ReviewIncomplete):  # the flagged phone is not settled yet
        store.set_status(doc_id, "accepted", "clerk1", "checked")
    store.correct_field(doc_id, 1, "phone", "09012345678", "clerk1")
    store.set_status(doc_id, "accepted", "clerk1", "checked")
    [values] = _records(store).values()
    assert values["child_name"] == "山田 太朗"


def test_quarantine(store: Store) -> None:
    sha = "b" * 64
    doc_id = store.record_quarantine(
        sha,
        "broken.pdf",
        "quarantine/bb/broken.pdf",
        "pdf",
        99,
        "pdf_encrypted",
        "パスワード付きのPDFは読み取れません",
    )
    loaded = store.get_document(sha)
    assert loaded == DocumentResult(
        sha, "broken.pdf", Route.quarantined, (), "pdf_encrypted", "パスワード付きのPDFは読み取れません"
    )
    [summary] = store.list_documents(status="quarantined")
    assert (summary.id, summary.reason, summary.pages, summary.fields_in_review) == (
        doc_id,
        "pdf_encrypted",
        0,
        0,
    )
    assert store.get_document_row(sha).stored_path == "quarantine/bb/broken.pdf"
    assert store.record_quarantine(sha, "broken.pdf", None, "pdf", 99, "pdf_encrypted", "again") == doc_id
    assert len(store.status_history(sha)) == 1


def test_list_and_counts(store: Store) -> None:
    a = _save(store, sample_result("1" * 64))
    b = _save(store, sample_result("2" * 64, Route.review))
    store.record_quarantine("3" * 64, "x.png", "q/x.png", "png", 1, "not_an_image", "画像ではありません")
    assert store.counts_by_status() == {"accepted": 1, "review": 1, "quarantined": 1}
    docs = store.list_documents()
    assert [d.id for d in docs] == [a, b, b + 1]
    assert [d.status for d in docs] == ["accepted", "review", "quarantined"]
    assert docs[1].fields_in_review == 1 and docs[0].fields_in_review == 0
    assert docs[0].pages == 2 and docs[0].form_id == "nursery_enrolment"
    assert docs[0].source_name == "申請書_山田.pdf" and docs[0].created_at.tzinfo is not None
    assert [d.id for d in store.list_documents(status="review")] == [b]
    assert len(store.list_documents(limit=2)) == 2

    assert store.set_status(b, "exported", "batch", "to legacy") is True
    assert store.set_status(b, "exported", "batch") is False
    assert store.counts_by_status() == {"accepted": 1, "exported": 1, "quarantined": 1}
    with pytest.raises(ValueError):
        store.set_status(a, "done", "batch")
    with pytest.raises(RecordNotFound):
        store.set_status(999, "accepted", "batch")


def test_correct_field_and_accepted_pages_use_corrected_value(store: Store) -> None:
    a = _save(store, sample_result("1" * 64))
    b = _save(store, sample_result("2" * 64, Route.review))
    _save(store, sample_result("3" * 64))
    store.set_status("3" * 64, "exported", "batch")

    assert list(_records(store)) == [a]
    store.correct_field(b, 1, "phone", "09012345679", "clerk1")
    assert store.list_documents(status="review")[0].fields_in_review == 0
    store.set_status(b, "accepted", "clerk1", "reviewed")
    store.correct_field(a, 0, "remarks", "アレルギーあり", "clerk2")
    records = _records(store, form_id="nursery_enrolment")
    assert set(records) == {a, b}
    assert records[b]["phone"] == "09012345679" and records[a]["phone"] == "09012345678"
    assert records[a]["remarks"] == "アレルギーあり" and records[b]["remarks"] is None
    assert records[a]["reasons"] == ["就労", "妊娠"] and records[a]["siblings"] == 2
    assert _records(store, form_id="other_form") == {}
    # the stored pipeline result is unchanged by corrections
    assert store.get_document(b) == sample_result("2" * 64, Route.review)
    with pytest.raises(RecordNotFound):
        store.correct_field(a, 5, "phone", "x", "clerk1")


def test_accepted_pages_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.store import export

    monkeypatch.setattr(export, "_BATCH", 2)
    ids = [_save(store, sample_result(f"{i:064x}")) for i in range(5)]
    assert list(_records(store)) == ids


def test_audit_chain_verifies_and_detects_tampering(store: Store) -> None:
    doc_id = _save(store, sample_result())
    store.audit("clerk1", "view", doc_id, detail={"screen": "review", "pages": [0, 1], "zoom": 1.5})
    store.audit(
        "clerk1", "reveal_my_number", doc_id, "child_my_number", {"purpose": "照合"}, True, terminal="PC-07"
    )
    store.correct_field(doc_id, 0, "birth_date", "2024-04-02", "clerk1")
    store.audit("batch", "export")
    assert store.verify_audit_chain()
    with store.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT id, prev_hash, hash, my_number_accessed FROM audit_log ORDER BY id")
        ).all()
        assert len(rows) == 4 and rows[0].prev_hash == "0" * 64
        assert all(r.prev_hash == p.hash for p, r in zip(rows, rows[1:], strict=False))
        assert [bool(r.my_number_accessed) for r in rows] == [False, True, False, False]
        conn.execute(
            text("UPDATE audit_log SET detail = :d WHERE id = :id"),
            {"d": '{"screen": "list", "pages": [0, 1], "zoom": 1.5}', "id": rows[0].id},
        )
    assert not store.verify_audit_chain()


def test_audit_chain_detects_deleted_row(store: Store) -> None:
    for n in range(3):
        store.audit("clerk1", "view", detail={"n": n})
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT min(id) + 1 FROM audit_log)"))
    assert not store.verify_audit_chain()


def test_my_number_edit_leaves_no_digits_in_audit_log(store: Store) -> None:
    doc_id = _save(store, sample_result())
    store.correct_field(doc_id, 0, "child_my_number", "987654321098", "clerk1", terminal="PC-07")
    store.audit(
        "clerk1",
        "view",
        doc_id,
        detail={
            "note": f"checked {MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}",
            "n": int(MY_NUMBER),
            "full": "１２３４５６７８９０１８",
        },
    )
    store.record_failed_task("ocr_page", message=f"bad value {MY_NUMBER}", retryable=False)
    with store.engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT at, actor, action, document_id, field_name, detail, my_number_accessed, terminal "
                "FROM audit_log"
            )
        ).all()
        failed = conn.execute(text("SELECT message, traceback FROM failed_tasks")).all()
    edit = audit[0]
    assert (edit.action, edit.field_name, bool(edit.my_number_accessed), edit.terminal) == (
        "edit",
        "child_my_number",
        True,
        "PC-07",
    )
    text_ = " ".join(str(v) for row in [*audit, *failed] for v in row)
    digits = re.sub(r"[\s\-]", "", text_)
    assert not re.search(r"\d{12}", text_) and "987654321098" not in digits and MY_NUMBER not in digits
    assert not re.search(r"[０-９]{12}", text_)
    assert store.verify_audit_chain()
    # the corrected value itself is stored on the field (the data, not the log)
    [values] = _records(store).values()
    assert values["child_my_number"] == "987654321098"


def test_failed_tasks(store: Store) -> None:
    try:
        raise TransientError("database temporarily unavailable")
    except TransientError as exc:
        t1 = store.record_failed_task(
            "process_page", exc=exc, document_sha256="c" * 64, page_index=1, attempts=5
        )
    t2 = store.record_failed_task("export", exception_type="OSError", message="disk full")
    tasks = store.list_failed_tasks()
    assert [t.id for t in tasks] == [t1, t2]
    first = tasks[0]
    assert first.exception_type == "pipeline.errors.TransientError" and first.retryable
    assert (first.document_sha256, first.page_index, first.attempts) == ("c" * 64, 1, 5)
    assert "Traceback" in first.traceback and first.created_at.tzinfo is not None
    assert not tasks[1].retryable and tasks[1].traceback is None
    store.resolve_failed_task(t1)
    assert [t.id for t in store.list_failed_tasks()] == [t2]
    resolved = [t for t in store.list_failed_tasks(unresolved_only=False) if t.id == t1][0]
    assert resolved.resolved_at is not None and resolved.resolved_at.tzinfo is not None


def test_locked_sqlite_is_transient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "locked.sqlite3"
    store = open_store(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TransientError, match="locked"):
            store.audit("clerk1", "view")
        other.execute("ROLLBACK")
        store.audit("clerk1", "view")
        assert store.verify_audit_chain()
    finally:
        other.close()
        store.close()


def test_refused_postgres_connection_is_transient() -> None:
    with pytest.raises(TransientError):
        open_store("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")


def test_concurrent_audit_appends_keep_one_chain(url: str, store: Store) -> None:
    stores = [open_store(url) for _ in range(4)]

    def work(n: int) -> None:
        for i in range(8):
            stores[n].audit(f"clerk{n}", "view", detail={"i": i})

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(work, range(4)))
    finally:
        for s in stores:
            s.close()
    assert _count(store, "audit_log") == 32
    assert store.verify_audit_chain()
