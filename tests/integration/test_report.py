"""The morning report (pipeline/report) on a store seeded with known counts, on real SQLite and one
PostgreSQL run: every number in the DataFrames, the HTML, the CSV files and the XLSX equals the
seeded one; a day with nothing in it; a form without a QA sample; the review page's and the
delivery outbox's tables present (created here with the shared schema of the common brief) and
absent; the charts draw Japanese glyphs, not missing-glyph boxes.

The seed (report day D = 2026-11-27, Asia/Tokyo):
  D    nursery: 3 accepted (1 page, 4 fields all auto) one of them at 00:30 local (still D),
                2 in review (2 pages, 4 fields, 3 auto); change_of_address: 1 accepted (1 page,
                2 fields auto); 2 quarantined (corrupt_file, too_large)
  D-3  nursery: 4 accepted (1 page, 4 fields all auto); 1 quarantined (corrupt_file)
  D-5  nursery: 1 in review (1 page, 4 fields, 3 auto)
  outside the window: D-8 nursery 10 accepted; D-20 nursery 1 in review; D+1 00:10 local 1 accepted
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import uuid
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from matplotlib import ft2font

from pipeline.intake import nightly as batch
from pipeline.report import charts as ch
from pipeline.report import make_report, run_report, write_report
from pipeline.report.sections import Labels
from pipeline.report.stats import wilson_interval
from pipeline.settings import Settings
from pipeline.store import Store, open_store
from pipeline.store.tables import UTCDateTime

TZ = "Asia/Tokyo"
ZONE = ZoneInfo(TZ)
D = dt.date(2026, 11, 27)
NURSERY, MOVE = "nursery_enrolment", "change_of_address"
LABELS = Labels(
    {NURSERY: "保育施設等利用申込書", MOVE: "住所変更届"},
    {(NURSERY, "child_name"): "児童氏名", (NURSERY, "address"): "住所", (NURSERY, "postal_code"): "郵便番号"},
)
FIELD_NAMES = ["child_name", "address", "postal_code", "birth_date"]


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), ZONE).astimezone(dt.UTC)


# --------------------------------------------------------------------------- the shared schema

SHARED = sa.MetaData()
USERS = sa.Table(
    "users",
    SHARED,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(128), unique=True, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
REVIEW_EVENTS = sa.Table(
    "review_events",
    SHARED,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, nullable=False),
    sa.Column("page_index", sa.Integer),
    sa.Column("field_name", sa.String(128)),
    sa.Column("kind", sa.String(32)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("machine_value", sa.Text),
    sa.Column("final_value", sa.Text),
    sa.Column("auto_accepted", sa.Boolean, nullable=False),
    sa.Column("qa", sa.Boolean, nullable=False),
    sa.Column("ms_spent", sa.Integer),
    sa.Column("keystrokes", sa.Integer),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
DELIVERIES = sa.Table(
    "deliveries",
    SHARED,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(128), unique=True, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("receipt", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("unencodable", sa.JSON),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Column("verified_at", UTCDateTime()),
)


SHARED_COLUMNS = {
    "qa_sample": "BOOLEAN NOT NULL DEFAULT FALSE",
    "deadline": "DATE",
    "review_claimed_by": "VARCHAR(128)",
    "review_claimed_until": "TIMESTAMP",
}


def add_shared_schema(engine: sa.Engine) -> None:
    """What the review page and the delivery outbox add to the store (common brief), where the
    store's own migrations have not added it already."""
    insp = sa.inspect(engine)
    SHARED.create_all(engine, tables=[t for t in SHARED.sorted_tables if not insp.has_table(t.name)])
    have = {c["name"] for c in insp.get_columns("documents")}
    with engine.begin() as c:
        for name, ddl in SHARED_COLUMNS.items():
            if name not in have:
                c.exec_driver_sql(f"ALTER TABLE documents ADD COLUMN {name} {ddl}")


def drop_shared_schema(engine: sa.Engine) -> None:
    """A store as it was before the review page and the outbox: their tables and columns removed,
    so the report meets a store whose parts are not there yet."""
    insp = sa.inspect(engine)
    with engine.begin() as c:
        for table in ("web_sessions", "review_events", "users", "deliveries"):
            if insp.has_table(table):
                c.exec_driver_sql(f"DROP TABLE {table}")
        for name in SHARED_COLUMNS:
            if name in {col["name"] for col in insp.get_columns("documents")}:
                c.exec_driver_sql(f"ALTER TABLE documents DROP COLUMN {name}")


def shared_table(name: str) -> sa.Table:
    """The store's own table where its migrations made one, else the brief's stand-in."""
    from pipeline.store.tables import Base

    return Base.metadata.tables.get(name, SHARED.tables[name])


# --------------------------------------------------------------------------- seeding


class Seed:
    """Rows written straight into the store's tables (SQLAlchemy Core), ids handed out here."""

    def __init__(self, engine: sa.Engine) -> None:
        # The tables as this store has them (reflected): a store from before the review page lacks
        # documents.qa_sample, which the ORM's metadata would insert.
        meta = sa.MetaData()
        meta.reflect(engine)
        self.engine = engine
        self.t = meta.tables
        self.n = 0
        self.page_ids = 0
        self.field_by: dict[tuple[int, str], int] = {}

    def doc(
        self,
        form: str | None,
        when: dt.datetime,
        *,
        route: str = "accepted",
        status: str | None = None,
        pages: int = 1,
        fields: int = 4,
        auto: int | None = None,
        reason: str | None = None,
        worker: str | None = None,
    ) -> int:
        self.n += 1
        doc_id = self.n
        status = status or route
        done = when + dt.timedelta(minutes=2)
        with self.engine.begin() as c:
            c.execute(
                self.t["documents"].insert(),
                {
                    "id": doc_id,
                    "sha256": f"{doc_id:064x}",
                    "source_name": f"scan{doc_id}.pdf",
                    "status": status,
                    "route": route,
                    "reason": reason,
                    "form_id": form,
                    "page_count": None if route == "quarantined" else pages,
                    "attempts": 1,
                    "task_attempts": 1,
                    "claimed_by": worker,
                    "claimed_at": when + dt.timedelta(minutes=1) if worker else None,
                    "created_at": when,
                    "updated_at": done,
                },
            )
            c.execute(
                self.t["status_history"].insert(),
                {
                    "document_id": doc_id,
                    "from_status": None,
                    "to_status": route,
                    "at": done,
                    "actor": "pipeline",
                },
            )
            if route == "quarantined":
                return doc_id
            for i in range(pages):
                self.page_ids += 1
                c.execute(
                    self.t["pages"].insert(),
                    {
                        "id": self.page_ids,
                        "document_id": doc_id,
                        "index": i,
                        "form_id": form,
                        "route": route,
                        "orientation": 0,
                        "skew_deg": 0.0,
                        "match_score": 1.0,
                        "issues": [],
                    },
                )
                if i:
                    continue  # fields on the first page only
                n_auto = fields if auto is None else auto
                rows = [
                    {
                        "page_id": self.page_ids,
                        "position": k,
                        "name": FIELD_NAMES[k % len(FIELD_NAMES)],
                        "kind": "text_ja",
                        "raw": "",
                        "value": f"v{k}",
                        "confidence": 0.99,
                        "chars": [],
                        "issues": [],
                        "accepted": k < n_auto,
                    }
                    for k in range(fields)
                ]
                c.execute(self.t["fields"].insert(), rows)
        return doc_id

    def correct(self, doc_id: int, name: str, value: str, when: dt.datetime) -> None:
        with self.engine.begin() as c:
            page_id = c.execute(
                sa.text('SELECT id FROM pages WHERE document_id = :d AND "index" = 0'), {"d": doc_id}
            ).scalar_one()
            f = self.t["fields"]
            c.execute(
                f.update()
                .where(f.c.page_id == page_id, f.c.name == name)
                .values(corrected_value=value, corrected_by="suzuki", corrected_at=when)
            )


def seed_base(engine: sa.Engine) -> dict[str, Any]:
    s = Seed(engine)
    ids: dict[str, Any] = {}
    # the report's day
    s.doc(NURSERY, local(D, 0, 30), worker="w1:1")
    s.doc(NURSERY, local(D, 10), worker="w1:1")
    ids["q1"] = s.doc(NURSERY, local(D - dt.timedelta(days=3), 9))  # QA sample, arrived D-3
    s.doc(NURSERY, local(D, 10), worker="w1:1")
    ids["r1"] = s.doc(NURSERY, local(D, 10), route="review", pages=2, auto=3, worker="w1:1")
    ids["r2"] = s.doc(NURSERY, local(D, 10), route="review", pages=2, auto=3, worker="w1:1")
    s.doc(MOVE, local(D, 10), fields=2)
    s.doc(None, local(D, 11), route="quarantined", reason="corrupt_file")
    s.doc(None, local(D, 11), route="quarantined", reason="too_large")
    # the 7 days before
    ids["q2"] = s.doc(NURSERY, local(D - dt.timedelta(days=3), 9))
    s.doc(NURSERY, local(D - dt.timedelta(days=3), 9))
    s.doc(NURSERY, local(D - dt.timedelta(days=3), 9))
    s.doc(None, local(D - dt.timedelta(days=3), 9), route="quarantined", reason="corrupt_file")
    ids["b1"] = s.doc(NURSERY, local(D - dt.timedelta(days=5), 9), route="review", auto=3)
    # outside the window
    for _ in range(10):
        s.doc(NURSERY, local(D - dt.timedelta(days=8), 9))
    ids["old"] = s.doc(NURSERY, local(D - dt.timedelta(days=20), 9), route="review", auto=3)
    s.doc(NURSERY, local(D + dt.timedelta(days=1), 0, 10))
    # corrections: child_name twice on D, address once on D-2; postal_code re-typed as it was
    s.correct(ids["r1"], "child_name", "山田 花子", local(D, 14))
    s.correct(ids["r2"], "child_name", "佐藤 一郎", local(D, 15))
    s.correct(ids["r1"], "postal_code", "v2", local(D, 14))  # same as the machine's: not a correction
    s.correct(ids["q2"], "address", "東京都", local(D - dt.timedelta(days=2), 11))
    return ids


def seed_shared(engine: sa.Engine, ids: dict[str, Any]) -> None:
    """Review events, QA sample, deadlines and deliveries for the seeded documents."""
    d = dt.timedelta(days=1)
    with engine.begin() as c:
        c.execute(
            sa.text("UPDATE documents SET qa_sample = :t WHERE id IN (:a, :b)"),
            {"t": True, "a": ids["q1"], "b": ids["q2"]},
        )
        for key, deadline in (("r1", D - d), ("r2", D + 2 * d), ("old", D)):
            c.execute(
                sa.text("UPDATE documents SET deadline = :dl WHERE id = :i").bindparams(
                    sa.bindparam("dl", type_=sa.Date())
                ),
                {"dl": deadline, "i": ids[key]},
            )
        ev: list[dict[str, Any]] = []

        def e(
            doc: str, actor: str, action: str, ms: int, keys: int, when: dt.datetime, qa: bool = False
        ) -> None:
            ev.append(
                {
                    "document_id": ids[doc],
                    "page_index": 0,
                    "field_name": "child_name",
                    "kind": "text_ja",
                    "actor": actor,
                    "action": action,
                    "auto_accepted": qa,
                    "qa": qa,
                    "ms_spent": ms,
                    "keystrokes": keys,
                    "created_at": when,
                }
            )

        e("r1", "suzuki", "correct", 5000, 6, local(D, 14))
        e("r1", "suzuki", "confirm", 2000, 1, local(D, 14))
        e("r1", "suzuki", "accept_document", 1000, 1, local(D, 14))
        e("r2", "suzuki", "correct", 4000, 5, local(D, 15))
        e("r2", "suzuki", "accept_document", 1000, 0, local(D, 15))
        for _ in range(3):
            e("q1", "tanaka", "qa_confirm", 1000, 1, local(D, 16), qa=True)
        e("q1", "tanaka", "qa_correct", 1000, 4, local(D, 16), qa=True)
        e("b1", "tanaka", "confirm", 3000, 1, local(D - d, 16))
        for _ in range(4):
            e("q2", "tanaka", "qa_confirm", 1000, 1, local(D - 2 * d, 16), qa=True)
        c.execute(shared_table("review_events").insert(), ev)
        dl: list[dict[str, Any]] = []

        def delivery(
            target: str, state: str, when: dt.datetime, bad: list[dict[str, str]] | None = None
        ) -> None:
            dl.append(
                {
                    "document_id": ids["q1"],
                    "target": target,
                    "idempotency_key": uuid.uuid4().hex,
                    "state": state,
                    "attempts": 1,
                    "unencodable": bad,
                    "created_at": when,
                    "updated_at": when,
                }
            )

        for _ in range(3):
            delivery("csv_cp932", "delivered", local(D, 18))
        delivery("csv_cp932", "failed", local(D, 18))
        delivery(
            "csv_cp932",
            "delivered",
            local(D, 19),
            [{"field": "child_name", "char": "髙"}, {"field": "address", "char": "𠮷"}],
        )
        delivery("csv_cp932", "verified", local(D - d, 18), [{"field": "child_name", "char": "髙"}])
        delivery("csv_cp932", "verified", local(D - 2 * d, 18))
        delivery("csv_cp932", "pending", local(D - 10 * d, 18))
        delivery("rpa_web", "unknown", local(D, 20))
        c.execute(shared_table("deliveries").insert(), dl)


# --------------------------------------------------------------------------- fixtures


def _sqlite(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'shinsei.sqlite3'}"


@pytest.fixture
def base_store(tmp_path: Path) -> Iterator[tuple[Store, dict[str, Any]]]:
    """A store from before the review page and the outbox, with the base seed."""
    store = open_store(_sqlite(tmp_path))
    drop_shared_schema(store.engine)
    ids = seed_base(store.engine)
    yield store, ids
    store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def full_report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The whole seed with the shared review/delivery schema, reported and written once per database."""
    tmp = tmp_path_factory.mktemp(request.param)
    url = _sqlite(tmp) if request.param == "sqlite" else request.getfixturevalue("module_pg_url")
    store = open_store(url)
    try:
        add_shared_schema(store.engine)
        ids = seed_base(store.engine)
        seed_shared(store.engine, ids)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = make_report(store.engine, D, TZ, LABELS)
        files = write_report(report, tmp / "out")
        yield report, files, [str(w.message) for w in caught]
    finally:
        store.close()


# --------------------------------------------------------------------------- reading the outputs


class _Tables(HTMLParser):
    """Every <table> in a page as rows of cell texts, keyed by the <section id> it sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[list[list[str]]]] = {}
        self.section = ""
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.section = dict(attrs).get("id") or ""
        elif tag == "table":
            self.found.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.found[self.section][-1].append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(path: Path) -> dict[str, list[list[list[str]]]]:
    p = _Tables()
    p.feed(path.read_text("utf-8"))
    return p.found


def html_row(tables: list[list[list[str]]], *keys: str) -> dict[str, str]:
    """The first row (as header -> cell) whose leading cells are `keys`."""
    for t in tables:
        header = t[0]
        for row in t[1:]:
            if row[: len(keys)] == list(keys):
                return dict(zip(header, row, strict=True))
    raise AssertionError(f"no row starting {keys} in {tables}")


def row(df: pd.DataFrame, **match: Any) -> pd.Series:
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"{match}: {len(sel)} rows in\n{df}"
    return sel.iloc[0]


# --------------------------------------------------------------------------- tests: numbers


def test_intake_numbers_equal_the_seed(full_report) -> None:
    report, files, _ = full_report
    s = report.section("intake").table("summary").df
    n = row(s, 様式="保育施設等利用申込書", 期間="当日")
    assert (n["書類数"], n["ページ数"], n["自動処理書類数"], n["項目数"], n["自動確定項目数"]) == (
        5,
        7,
        3,
        20,
        18,
    )
    assert n["自動処理率"] == pytest.approx(0.6) and n["自動確定率"] == pytest.approx(0.9)
    b = row(s, 様式="保育施設等利用申込書", 期間="前7日")
    assert (b["書類数"], b["ページ数"], b["自動処理書類数"], b["項目数"], b["自動確定項目数"]) == (
        5,
        5,
        4,
        20,
        19,
    )
    m = row(s, 様式="住所変更届", 期間="当日")
    assert (m["書類数"], m["ページ数"], m["自動処理書類数"], m["項目数"], m["自動確定項目数"]) == (
        1,
        1,
        1,
        2,
        2,
    )
    unknown = row(s, 様式="（様式不明）", 期間="前7日")
    assert (unknown["書類数"], unknown["ページ数"], unknown["自動処理書類数"]) == (1, 0, 0)
    total = row(s, 様式="合計", 期間="当日")
    assert (total["書類数"], total["ページ数"], total["自動処理書類数"], total["項目数"]) == (8, 8, 4, 22)
    assert total["自動処理率"] == pytest.approx(0.5)
    total_before = row(s, 様式="合計", 期間="前7日")
    assert (total_before["書類数"], total_before["ページ数"], total_before["自動確定項目数"]) == (6, 5, 19)

    daily = report.section("intake").table("daily").df
    assert sorted(daily["日付"].unique()) == [D - dt.timedelta(days=i) for i in range(7, -1, -1)]
    assert int(daily["書類数"].sum()) == 14  # nothing from D-8, D-20 or D+1
    assert row(daily, 日付=D - dt.timedelta(days=3), 様式="保育施設等利用申込書")["書類数"] == 4

    page = html_tables(files.html)["intake"]
    assert html_row(page, "保育施設等利用申込書", "当日") == {
        "様式": "保育施設等利用申込書",
        "期間": "当日",
        "書類数": "5件",
        "ページ数": "7ページ",
        "自動処理書類数": "3件",
        "自動処理率": "60.0%",
        "項目数": "20項目",
        "自動確定項目数": "18項目",
        "自動確定率": "90.0%",
    }
    assert html_row(page, "合計", "前7日")["書類数"] == "6件"
    text = files.html.read_text("utf-8")
    assert "2026年11月27日（金）（令和8年11月27日）" in text


def test_corrections_top_fields(full_report) -> None:
    report, files, _ = full_report
    top = report.section("corrections").table("top_fields").df
    assert list(top["項目名"]) == ["child_name", "address"]  # postal_code was re-typed unchanged
    c = row(top, 項目名="child_name")
    assert (c["様式"], c["項目"], c["当日"], c["前7日"], c["8日間計"]) == (
        "保育施設等利用申込書",
        "児童氏名",
        2,
        0,
        2,
    )
    a = row(top, 項目名="address")
    assert (a["当日"], a["前7日"], a["8日間計"]) == (0, 1, 1)
    page = html_tables(files.html)["corrections"]
    assert html_row(page, "保育施設等利用申込書", "児童氏名")["8日間計"] == "2項目"


def test_qa_error_rate_with_wilson_interval(full_report) -> None:
    report, files, _ = full_report
    sec = report.section("qa")
    assert sec.missing is None
    t = sec.table("error_rate").df
    day = row(t, 様式="保育施設等利用申込書", 期間="当日")
    assert (day["抽出書類数"], day["検査項目数"], day["誤り項目数"]) == (0, 4, 1)
    assert day["誤り率"] == pytest.approx(0.25)
    window = row(t, 様式="保育施設等利用申込書", 期間="8日間計")
    assert (window["抽出書類数"], window["検査項目数"], window["誤り項目数"]) == (2, 8, 1)
    lo, hi = wilson_interval(1, 8)
    assert (window["95%信頼区間下限"], window["95%信頼区間上限"]) == pytest.approx((lo, hi))
    assert (lo, hi) == pytest.approx((0.02241, 0.47089), abs=1e-4)  # the textbook value for 1 of 8
    # the second form has documents but no QA yet: said in words, no row of zeros
    assert "住所変更届" not in set(t["様式"])
    assert "「住所変更届」はまだ抜き取り検査の結果がありません。" in sec.notes
    page = html_tables(files.html)["qa"]
    r = html_row(page, "保育施設等利用申込書", "8日間計")
    assert (r["誤り率"], r["95%信頼区間下限"], r["95%信頼区間上限"]) == ("12.5%", "2.2%", "47.1%")
    assert "「住所変更届」はまだ抜き取り検査の結果がありません。" in files.html.read_text("utf-8")


def test_backlog_by_age_and_deadline(full_report) -> None:
    report, files, _ = full_report
    sec = report.section("backlog")
    age = row(sec.table("by_age").df, 様式="保育施設等利用申込書")
    assert (age["当日"], age["4〜7日"], age["15日以上"], age["計"]) == (2, 1, 1, 4)
    due = row(sec.table("by_deadline").df, 様式="保育施設等利用申込書")
    assert (due["期限切れ"], due["当日期限"], due["1〜2日"], due["期限なし"], due["計"]) == (1, 1, 1, 1, 4)
    assert "期限を過ぎた書類が1件あります。" in sec.notes
    page = html_tables(files.html)["backlog"]
    assert html_row(page, "合計")["計"] == "4件"
    headline = {h.label: h.value for h in report.headline}
    assert headline == {
        "当日の受付": "8件",
        "自動処理率": "50.0%",
        "審査待ち": "4件",
        "期限切れ": "1件",
        "連携の失敗・不明": "2件",
    }


def test_review_time_per_document_and_reviewer(full_report) -> None:
    report, files, _ = full_report
    sec = report.section("review_time")
    docs = row(sec.table("per_document").df, 様式="保育施設等利用申込書", 期間="当日")
    assert docs["審査書類数"] == 3  # r1, r2 and the QA of q1
    assert docs["合計時間"] == pytest.approx(17.0) and docs["中央値／件"] == pytest.approx(5.0)
    assert docs["打鍵数計"] == 20 and docs["平均打鍵数／件"] == pytest.approx(20 / 3)
    people = sec.table("per_reviewer").df
    s = row(people, 審査者="suzuki", 期間="当日")
    assert (s["書類数"], s["操作数"], s["訂正数"], s["打鍵数"]) == (2, 5, 2, 13)
    assert s["合計時間"] == pytest.approx(13.0) and s["平均時間／件"] == pytest.approx(6.5)
    t = row(people, 審査者="tanaka", 期間="前7日")
    assert (t["書類数"], t["操作数"], t["訂正数"], t["打鍵数"]) == (2, 5, 0, 5)
    assert t["合計時間"] == pytest.approx(7.0)
    page = html_tables(files.html)["review_time"]
    r = html_row(page, "suzuki", "当日")
    assert (r["平均時間／件"], r["打鍵数"], r["打鍵数／件"]) == ("6.5秒", "13打鍵", "6.5")


def test_workers_pages_per_hour(full_report) -> None:
    report, files, _ = full_report
    sec = report.section("workers")
    hourly = sec.table("hourly").df
    assert row(hourly, 時台="0時")["ページ数"] == 1  # the 00:30 arrival, finished 00:32
    assert row(hourly, 時台="10時")["ページ数"] == 7  # 2 accepted + 2×2 review + 1 second form
    assert row(hourly, 時台="11時")["書類数"] == 2  # the two quarantined files, no pages
    assert int(hourly["ページ数"].sum()) == 8
    w1 = row(sec.table("per_worker").df, 作業プロセス="w1:1", 期間="当日")
    # 5 documents, 7 pages, each a minute from claim to result
    assert (w1["書類数"], w1["ページ数"], w1["処理時間"]) == (5, 7, 300.0)
    assert w1["ページ／時"] == pytest.approx(84.0)
    embedded = row(sec.table("per_worker").df, 作業プロセス="（同期処理）", 期間="当日")
    assert embedded["書類数"] == 3 and np.isnan(embedded["ページ／時"])
    assert html_row(html_tables(files.html)["workers"], "w1:1", "当日")["ページ／時"] == "84.0"


def test_quarantine_by_reason(full_report) -> None:
    report, files, _ = full_report
    t = report.section("quarantine").table("by_reason").df
    assert row(t, 理由コード="corrupt_file")[["理由", "当日", "前7日"]].tolist() == ["壊れたファイル", 1, 1]
    assert row(t, 理由コード="too_large")[["当日", "前7日"]].tolist() == [1, 0]
    assert html_row(html_tables(files.html)["quarantine"], "壊れたファイル")["前7日"] == "1件"


def test_deliveries_and_unencodable_characters(full_report) -> None:
    report, files, _ = full_report
    t = report.section("deliveries").table("by_state").df
    assert row(t, 送信先="csv_cp932", 状態コード="delivered")[
        ["当日", "前7日", "それ以前", "計"]
    ].tolist() == [4, 0, 0, 4]
    assert row(t, 送信先="csv_cp932", 状態コード="verified")[["当日", "前7日", "計"]].tolist() == [0, 2, 2]
    assert row(t, 送信先="csv_cp932", 状態コード="pending")[["それ以前", "計"]].tolist() == [1, 1]
    assert row(t, 送信先="rpa_web", 状態コード="unknown")["状態"] == "結果不明（要照合）"
    assert (
        "失敗または結果不明の連携が2件あります（結果不明は照合してから再送します）。"
        in report.section("deliveries").notes
    )
    chars = report.section("unencodable").table("chars").df
    assert row(chars, 文字="髙")[["送信先", "項目", "符号位置", "件数"]].tolist() == [
        "csv_cp932",
        "児童氏名",
        "U+9AD9",
        2,
    ]
    assert row(chars, 文字="𠮷")[["項目", "符号位置", "件数"]].tolist() == ["住所", "U+20BB7", 1]
    page = html_tables(files.html)
    assert html_row(page["deliveries"], "csv_cp932", "失敗")["計"] == "1件"
    assert html_row(page["unencodable"], "csv_cp932", "児童氏名", "髙")["件数"] == "2回"


def test_csv_and_xlsx_hold_the_same_tables(full_report) -> None:
    report, files, _ = full_report
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    csv_names = {p.name for p in files.csvs}
    n_tables = 0
    for sec in report.sections:
        for t in sec.tables:
            n_tables += 1
            name = f"{sec.key}_{t.key}"[:31]
            assert f"{name}.csv" in csv_names
            with (files.folder / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0] == [str(c) for c in t.df.columns]
            assert len(rows) - 1 == len(t.df)
            sheet = list(book[name].iter_rows(values_only=True))
            assert list(sheet[0]) == list(t.df.columns)
            assert len(sheet) - 1 == len(t.df)
            for i, values in enumerate(t.df.itertuples(index=False, name=None)):
                for j, v in enumerate(values):
                    _same(v, rows[i + 1][j], sheet[i + 1][j])
    assert n_tables == len(files.csvs) >= 12
    overview = [r for r in book["概要"].iter_rows(values_only=True)]
    assert any(r[0] == "抜き取り検査：自動確定項目の誤り率" for r in overview)
    # the numbers themselves, read back: the nursery form's day in the summary
    summary = pd.read_csv(files.folder / "intake_summary.csv", encoding="utf-8-sig")
    day = summary[(summary["様式"] == "保育施設等利用申込書") & (summary["期間"] == "当日")].iloc[0]
    assert (day["書類数"], day["ページ数"], day["自動処理書類数"], day["自動確定項目数"]) == (5, 7, 3, 18)
    ws = book["qa_error_rate"]
    header = [c for c in next(ws.iter_rows(values_only=True))]
    window = [r for r in ws.iter_rows(values_only=True) if r[1] == "8日間計"][0]
    assert dict(zip(header, window, strict=True))["検査項目数"] == 8


def _same(v: Any, in_csv: str, in_xlsx: Any) -> None:
    if isinstance(v, float) and np.isnan(v):
        assert in_csv == "" and in_xlsx is None
    elif isinstance(v, int | np.integer):
        assert int(in_csv) == v and in_xlsx == v
    elif isinstance(v, float | np.floating):
        assert float(in_csv) == pytest.approx(v) and in_xlsx == pytest.approx(v)
    elif isinstance(v, dt.date):
        assert in_csv == v.isoformat() and in_xlsx.date() == v
    else:
        assert in_csv == str(v) and in_xlsx == v


# --------------------------------------------------------------------------- tests: absent, empty


def test_without_review_and_delivery_tables_the_sections_say_so(base_store) -> None:
    store, _ = base_store
    report = make_report(store.engine, D, TZ, LABELS)
    for key in ("qa", "review_time"):
        sec = report.section(key)
        assert sec.missing is not None and "審査画面の記録はまだありません" in sec.missing and not sec.tables
    for key in ("deliveries", "unencodable"):
        sec = report.section(key)
        assert (
            sec.missing is not None and "連携（送信）の記録はまだありません" in sec.missing and not sec.tables
        )
    backlog = report.section("backlog")
    assert [t.key for t in backlog.tables] == ["by_age", "by_state"]
    assert any("期限（documents.deadline）の記録はまだない" in n for n in backlog.notes)
    # what today's store holds is counted all the same
    s = report.section("intake").table("summary").df
    assert row(s, 様式="合計", 期間="当日")["書類数"] == 8
    assert {h.label for h in report.headline} == {"当日の受付", "自動処理率", "審査待ち"}
    with pytest.raises(KeyError):
        report.section("qa").table("error_rate")


def test_without_shared_tables_html_says_so(base_store, tmp_path: Path) -> None:
    store, _ = base_store
    files = write_report(make_report(store.engine, D, TZ, LABELS), tmp_path / "out")
    text = files.html.read_text("utf-8")
    assert text.count("審査画面の記録はまだありません") == 2
    assert text.count("連携（送信）の記録はまだありません") == 2
    assert "qa" not in html_tables(files.html)  # no table of zeros
    assert not (files.folder / "qa_error_rate.csv").exists()


def test_a_day_with_nothing_in_it(base_store, tmp_path: Path) -> None:
    store, _ = base_store
    empty_day = D + dt.timedelta(days=30)  # window D+23 .. D+30: nothing arrived then
    report = make_report(store.engine, empty_day, TZ, LABELS)
    s = report.section("intake").table("summary").df
    assert s[["書類数", "ページ数", "項目数"]].to_numpy().sum() == 0
    assert "この日に受け付けた書類はありません。" in report.section("intake").notes
    assert report.section("intake").table("daily").df.empty
    assert report.charts["intake"] == [] and report.charts["workers"] == []
    assert report.section("corrections").table("top_fields").df.empty
    assert "この8日間に隔離したファイルはありません。" in report.section("quarantine").notes
    # documents still waiting from before are still waiting
    age = row(report.section("backlog").table("by_age").df, 様式="保育施設等利用申込書")
    assert (age["8〜14日"], age["15日以上"]) == (0, 4)
    files = write_report(report, tmp_path / "empty")
    text = files.html.read_text("utf-8")
    assert "この日に受け付けた書類はありません。" in text
    assert html_row(html_tables(files.html)["intake"], "合計", "当日")["書類数"] == "0件"


def test_a_form_with_no_qa_sample_yet(tmp_path: Path) -> None:
    store = open_store(_sqlite(tmp_path))
    try:
        add_shared_schema(store.engine)
        seed_base(store.engine)  # documents, but no review events at all
        sec = make_report(store.engine, D, TZ, LABELS).section("qa")
        assert sec.missing is None
        assert sec.table("error_rate").df.empty
        assert "「保育施設等利用申込書」はまだ抜き取り検査の結果がありません。" in sec.notes
        assert "「住所変更届」はまだ抜き取り検査の結果がありません。" in sec.notes
    finally:
        store.close()


# --------------------------------------------------------------------------- tests: Japanese glyphs


def test_charts_draw_japanese_glyphs_not_boxes(full_report) -> None:
    report, _, caught = full_report
    assert not [m for m in caught if "missing from font" in m]  # matplotlib's missing-glyph warning
    font = ft2font.FT2Font(str(ch.japanese_font()))
    drawn = [t for charts in report.charts.values() for c in charts for t in c.texts]
    assert {c.key for charts in report.charts.values() for c in charts} == {
        "intake",
        "corrections",
        "backlog",
        "workers",
    }
    japanese = {c for t in drawn for c in t if ord(c) > 0x3000}
    assert {"受", "付", "訂", "正", "児", "童", "氏", "名", "審", "査", "待", "時"} <= japanese
    assert all(font.get_char_index(ord(c)) != 0 for t in drawn for c in t if not c.isspace())
    for charts in report.charts.values():
        for c in charts:
            assert c.png.startswith(b"\x89PNG\r\n\x1a\n")


def _draw(text: str) -> np.ndarray:
    import matplotlib.pyplot as plt

    ch.japanese_font()
    fig = plt.figure(figsize=(1, 1), dpi=50)
    fig.text(0.1, 0.3, text, fontsize=30)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., 0].copy()
    plt.close(fig)
    return pixels


def test_japanese_text_renders_as_distinct_glyphs() -> None:
    """Missing glyphs all draw the same box: two kanji drawing alike, or like a known-missing
    character, would be tofu."""
    font = ft2font.FT2Font(str(ch.japanese_font()))
    missing = "\U0001f600"  # an emoji: not in IPAGothic
    assert font.get_char_index(ord(missing)) == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uke, tsuke = _draw("受"), _draw("付")
    assert not [w for w in caught if "missing from font" in str(w.message)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = _draw(missing)
    assert (uke < 128).sum() > 20  # ink was drawn
    assert not np.array_equal(uke, tsuke)
    assert not np.array_equal(uke, box) and not np.array_equal(tsuke, box)


def test_missing_font_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ch, "FONT_PATHS", (Path("/nonexistent/ipag.ttf"),))
    monkeypatch.setattr(ch, "FONT_FAMILY", "NoSuchFamilyShinsei")
    ch.japanese_font.cache_clear()
    try:
        with pytest.raises(ch.FontMissing, match="fonts-ipafont-gothic"):
            ch.japanese_font()
    finally:
        monkeypatch.undo()
        ch.japanese_font.cache_clear()
        ch.japanese_font()


# --------------------------------------------------------------------------- tests: entry points


def test_nightly_batch_writes_the_report(base_store, tmp_path: Path) -> None:
    store, _ = base_store
    settings = Settings(data_dir=tmp_path / "data", database_url=str(store.engine.url), timezone=TZ)

    def no_enqueue(sha: str) -> None:
        raise AssertionError("the report step queues nothing")

    run = batch.run_nightly(settings, store, no_enqueue, day=D, only=["report"])
    assert run.ok, run.export()
    folder = tmp_path / "data" / "reports" / D.isoformat()
    assert run.steps[0].detail["folder"] == str(folder)
    summary = pd.read_csv(folder / "intake_summary.csv", encoding="utf-8-sig")
    assert int(summary.loc[(summary["様式"] == "合計") & (summary["期間"] == "当日"), "書類数"].iloc[0]) == 8
    assert (folder / "report.html").stat().st_size > 10_000 and (folder / "report.xlsx").exists()
    with store.session() as s:
        actions = [a for (a,) in s.execute(sa.text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions[-2:] == ["report", "batch_nightly"]
    assert store.verify_audit_chain()


def test_cli_report(base_store, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    store, _ = base_store
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env |= {"SHINSEI_DATABASE_URL": str(store.engine.url), "SHINSEI_DATA_DIR": str(tmp_path / "d")}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "report", "--date", D.isoformat(), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    result = json.loads(out.stdout)
    assert result["html"] == str(tmp_path / "d" / "reports" / D.isoformat() / "report.html")
    text = Path(result["html"]).read_text("utf-8")
    assert "保育施設等利用申込書（兼 教育・保育給付認定申請書）" in text  # the template's title
    bad = subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "report", "--date", "2026-13-01"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert bad.returncode == 2 and "invalid fromisoformat value" in bad.stderr


def test_run_report_folder_and_audit(base_store, tmp_path: Path) -> None:
    store, _ = base_store
    settings = Settings(data_dir=tmp_path / "data", database_url=str(store.engine.url), timezone=TZ)
    _, files = run_report(settings, store, D, actor="tester")
    assert files.folder == tmp_path / "data" / "reports" / "2026-11-27"
    assert not list(files.folder.glob("*.part"))
    with store.session() as s:
        actor, detail = s.execute(
            sa.text("SELECT actor, detail FROM audit_log WHERE action = 'report'")
        ).one()
    assert actor == "tester" and '"2026-11-27"' in str(detail).replace("'", '"')
