"""Plain SQL reads of the store into pandas DataFrames for the morning report.

Every query aggregates in the database (GROUP BY over CASE buckets) and hands pandas one row per
group, so a store of 100,000 documents is read in seconds and no ORM row is ever built. The day
buckets are computed here in Python from the report's time zone (local midnights turned into UTC
bounds), so the SQL is the same on SQLite and PostgreSQL and a DST change would still cut days at
midnight.

Tables and columns that other parts of shinsei add later (review_events, deliveries,
documents.qa_sample / deadline) are looked up with SQLAlchemy's inspector first (`Schema`); a query
for a missing table is never sent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Date, Engine, bindparam, inspect, text

from pipeline.store.tables import UTCDateTime

PERIOD_DAY = "当日"
PERIOD_BEFORE = "前7日"
PERIOD_ALL = "8日間計"

# Where a document waits for a person: `review` is the pipeline's route; to_review, in_review and
# postponed are the review page's states (common schema).
BACKLOG_STATUSES: tuple[str, ...] = ("review", "to_review", "in_review", "postponed")
# Pipeline outcomes: a status_history row into one of these from nothing or `processing` is a
# document a worker finished.
FINISHED_STATUSES: tuple[str, ...] = ("accepted", "review", "quarantined", "unknown_form")


@dataclass(frozen=True)
class Window:
    """The report's day and the `days_before` days before it, in local time `tz`."""

    day: dt.date
    tz: ZoneInfo
    days_before: int = 7

    @property
    def first_day(self) -> dt.date:
        return self.day - dt.timedelta(days=self.days_before)

    @property
    def days(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range(self.days_before + 1)]

    def midnight(self, d: dt.date) -> dt.datetime:
        """Local midnight at the start of `d`, as an aware UTC datetime."""
        return dt.datetime.combine(d, dt.time(), self.tz).astimezone(dt.UTC)

    @property
    def start(self) -> dt.datetime:
        return self.midnight(self.first_day)

    @property
    def end(self) -> dt.datetime:
        """End of the report's day (exclusive)."""
        return self.midnight(self.day + dt.timedelta(days=1))

    def bounds(self) -> list[dt.datetime]:
        """Local midnights from the first day to the end of the report's day (days_before + 2)."""
        return [self.midnight(d) for d in [*self.days, self.day + dt.timedelta(days=1)]]

    def period(self, d: dt.date) -> str:
        return PERIOD_DAY if d == self.day else PERIOD_BEFORE


@dataclass(frozen=True)
class Schema:
    """Which tables and columns the store has right now."""

    columns: dict[str, frozenset[str]] = field(default_factory=dict)

    def has(self, table: str, *cols: str) -> bool:
        have = self.columns.get(table)
        return have is not None and all(c in have for c in cols)


def probe(engine: Engine | Connection) -> Schema:
    insp = inspect(engine)
    return Schema({t: frozenset(c["name"] for c in insp.get_columns(t)) for t in insp.get_table_names()})


def _ts(name: str, value: dt.datetime) -> Any:
    return bindparam(name, value, type_=UTCDateTime())


def _read(conn: Connection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run `sql` with typed parameters (timestamps through the store's UTC type, dates as DATE)."""
    binds = []
    for k, v in params.items():
        if isinstance(v, dt.datetime):
            binds.append(_ts(k, v))
        elif isinstance(v, dt.date):
            binds.append(bindparam(k, v, type_=Date()))
        elif isinstance(v, list | tuple):
            binds.append(bindparam(k, list(v), expanding=True))
        else:
            binds.append(bindparam(k, v))
    return pd.read_sql(text(sql).bindparams(*binds), conn)


def day_case(col: str, w: Window) -> tuple[str, dict[str, Any]]:
    """SQL giving each row's day index (0 = first day ... days_before = the report's day) from the
    UTC timestamp `col`, with its parameters; rows outside the window give NULL."""
    b = w.bounds()
    whens = " ".join(f"WHEN {col} >= :b{i} THEN {i}" for i in range(len(b) - 2, -1, -1))
    params = {f"b{i}": t for i, t in enumerate(b)}
    return f"CASE WHEN {col} >= :b{len(b) - 1} THEN NULL {whens} END", params


def _with_day(df: pd.DataFrame, w: Window) -> pd.DataFrame:
    """Turn the `d` day index column into a `日付` date column."""
    days = w.days
    df = df.dropna(subset=["d"]).copy()
    df["日付"] = [days[int(i)] for i in df["d"]]
    return df.drop(columns="d")


# --------------------------------------------------------------------------- documents


def intake(conn: Connection, w: Window) -> pd.DataFrame:
    """Per form and day: documents, pages, documents the pipeline accepted outright."""
    case, params = day_case("d.created_at", w)
    sql = f"""
        SELECT d.form_id AS form_id, {case} AS d,
               COUNT(*) AS documents,
               SUM(COALESCE(d.page_count, 0)) AS pages,
               SUM(CASE WHEN d.route = 'accepted' THEN 1 ELSE 0 END) AS straight_through
        FROM documents d
        WHERE d.created_at >= :b0 AND d.created_at < :b{len(w.bounds()) - 1}
        GROUP BY 1, 2"""
    return _with_day(_read(conn, sql, params), w)


def field_totals(conn: Connection, w: Window) -> pd.DataFrame:
    """Per form and day of arrival: fields read, and fields the machine accepted on its own."""
    case, params = day_case("d.created_at", w)
    last = len(w.bounds()) - 1
    # Fields are counted per page first, from the window's first page id on (an index range on
    # fields(page_id, name)), then joined: SQLite otherwise looks every field up through pages
    # one by one, 4x slower on 2 million fields.
    sql = f"""
        SELECT d.form_id AS form_id, {case} AS d,
               CAST(SUM(x.n) AS BIGINT) AS fields, CAST(SUM(x.auto) AS BIGINT) AS auto_accepted
        FROM (SELECT f.page_id AS page_id, COUNT(*) AS n,
                     SUM(CASE WHEN f.accepted THEN 1 ELSE 0 END) AS auto
              FROM fields f
              WHERE f.page_id >= (SELECT MIN(p2.id) FROM pages p2
                                  JOIN documents d2 ON d2.id = p2.document_id
                                  WHERE d2.created_at >= :b0 AND d2.created_at < :b{last})
              GROUP BY f.page_id) x
        JOIN pages p ON p.id = x.page_id
        JOIN documents d ON d.id = p.document_id
        WHERE d.created_at >= :b0 AND d.created_at < :b{last}
        GROUP BY 1, 2"""
    return _with_day(_read(conn, sql, params), w)


def corrections(conn: Connection, w: Window) -> pd.DataFrame:
    """Fields a reviewer changed, by the day of the correction: form, field name, the machine's and
    the reviewer's value as JSON text (compared in pandas: a confirmation of the same value is not
    a correction). Values are read to compare only, and never leave this module."""
    case, params = day_case("f.corrected_at", w)
    sql = f"""
        SELECT d.form_id AS form_id, f.name AS name, {case} AS d,
               CAST(f.value AS TEXT) AS machine, CAST(f.corrected_value AS TEXT) AS final
        FROM fields f
        JOIN pages p ON p.id = f.page_id
        JOIN documents d ON d.id = p.document_id
        WHERE f.corrected_at >= :b0 AND f.corrected_at < :b{len(w.bounds()) - 1}"""
    df = _with_day(_read(conn, sql, params), w)
    changed = df["machine"].map(_json_norm) != df["final"].map(_json_norm)
    return df.loc[changed, ["form_id", "name", "日付"]].reset_index(drop=True)


def _json_norm(v: Any) -> str:
    """One spelling per JSON value (PostgreSQL's json keeps the text as written, SQLite too)."""
    if v is None:
        return "null"
    try:
        return json.dumps(json.loads(v), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(v)


def backlog(conn: Connection, w: Window, schema: Schema) -> pd.DataFrame:
    """Documents waiting for a person now: per form, age bucket (days since arrival, by local date,
    counted to the report's day) and, where documents.deadline exists, days left to the deadline."""
    d0 = w.day
    m = w.midnight
    params: dict[str, Any] = {
        "statuses": list(BACKLOG_STATUSES),
        "a0": m(d0),
        "a1": m(d0 - dt.timedelta(days=1)),
        "a3": m(d0 - dt.timedelta(days=3)),
        "a7": m(d0 - dt.timedelta(days=7)),
        "a14": m(d0 - dt.timedelta(days=14)),
        "end": w.end,
    }
    age = """CASE WHEN d.created_at >= :a0 THEN 0 WHEN d.created_at >= :a1 THEN 1
                  WHEN d.created_at >= :a3 THEN 2 WHEN d.created_at >= :a7 THEN 3
                  WHEN d.created_at >= :a14 THEN 4 ELSE 5 END"""
    deadline = "NULL"
    if schema.has("documents", "deadline"):
        params |= {
            "t0": d0,
            "t1": d0 + dt.timedelta(days=1),
            "t3": d0 + dt.timedelta(days=3),
            "t8": d0 + dt.timedelta(days=8),
        }
        deadline = """CASE WHEN d.deadline IS NULL THEN 5 WHEN d.deadline < :t0 THEN 0
                           WHEN d.deadline < :t1 THEN 1 WHEN d.deadline < :t3 THEN 2
                           WHEN d.deadline < :t8 THEN 3 ELSE 4 END"""
    sql = f"""
        SELECT d.form_id AS form_id, d.status AS status, {age} AS age, {deadline} AS due,
               COUNT(*) AS documents
        FROM documents d
        WHERE d.status IN :statuses AND d.created_at < :end
        GROUP BY 1, 2, 3, 4"""
    return _read(conn, sql, params)


def finished(conn: Connection, w: Window) -> pd.DataFrame:
    """Documents a worker finished in the window (a status_history row from nothing or
    `processing` into a pipeline outcome): when, by which worker process, started when, pages."""
    sql = """
        SELECT h.at AS at, d.claimed_by AS worker, d.claimed_at AS started,
               COALESCE(d.page_count, 0) AS pages
        FROM status_history h
        JOIN documents d ON d.id = h.document_id
        WHERE h.at >= :start AND h.at < :end
          AND (h.from_status IS NULL OR h.from_status = 'processing')
          AND h.to_status IN :done"""
    df = _read(conn, sql, {"start": w.start, "end": w.end, "done": list(FINISHED_STATUSES)})
    for c in ("at", "started"):
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
    local = df["at"].dt.tz_convert(w.tz)
    df["日付"] = local.dt.date
    df["hour"] = local.dt.hour
    return df


def quarantined(conn: Connection, w: Window) -> pd.DataFrame:
    case, params = day_case("d.created_at", w)
    sql = f"""
        SELECT COALESCE(d.reason, '') AS reason, {case} AS d, COUNT(*) AS documents
        FROM documents d
        WHERE d.status = 'quarantined'
          AND d.created_at >= :b0 AND d.created_at < :b{len(w.bounds()) - 1}
        GROUP BY 1, 2"""
    return _with_day(_read(conn, sql, params), w)


# --------------------------------------------------------------------------- review page


def qa_results(conn: Connection, w: Window) -> pd.DataFrame:
    """QA checks of fields the machine had accepted: per form and day, fields checked and fields
    the checker had to correct (review_events with qa and auto_accepted)."""
    case, params = day_case("e.created_at", w)
    sql = f"""
        SELECT d.form_id AS form_id, {case} AS d,
               SUM(CASE WHEN e.action IN ('qa_confirm', 'qa_correct') THEN 1 ELSE 0 END) AS checked,
               SUM(CASE WHEN e.action = 'qa_correct' THEN 1 ELSE 0 END) AS wrong
        FROM review_events e
        JOIN documents d ON d.id = e.document_id
        WHERE e.qa AND e.auto_accepted
          AND e.created_at >= :b0 AND e.created_at < :b{len(w.bounds()) - 1}
        GROUP BY 1, 2"""
    return _with_day(_read(conn, sql, params), w)


def qa_sampled(conn: Connection, w: Window) -> pd.DataFrame:
    """Documents drawn for the QA sample, per form and day of arrival (documents.qa_sample)."""
    case, params = day_case("d.created_at", w)
    sql = f"""
        SELECT d.form_id AS form_id, {case} AS d, COUNT(*) AS sampled
        FROM documents d
        WHERE d.qa_sample AND d.created_at >= :b0 AND d.created_at < :b{len(w.bounds()) - 1}
        GROUP BY 1, 2"""
    return _with_day(_read(conn, sql, params), w)


def review_work(conn: Connection, w: Window) -> pd.DataFrame:
    """Review effort per reviewer, document and day: events, corrections, milliseconds, keystrokes."""
    case, params = day_case("e.created_at", w)
    sql = f"""
        SELECT e.actor AS actor, e.document_id AS document_id, d.form_id AS form_id, {case} AS d,
               COUNT(*) AS events,
               SUM(CASE WHEN e.action IN ('correct', 'qa_correct') THEN 1 ELSE 0 END) AS corrected,
               SUM(COALESCE(e.ms_spent, 0)) AS ms,
               SUM(COALESCE(e.keystrokes, 0)) AS keystrokes
        FROM review_events e
        JOIN documents d ON d.id = e.document_id
        WHERE e.created_at >= :b0 AND e.created_at < :b{len(w.bounds()) - 1}
        GROUP BY 1, 2, 3, 4"""
    return _with_day(_read(conn, sql, params), w)


# --------------------------------------------------------------------------- delivery outbox


def deliveries(conn: Connection, w: Window) -> pd.DataFrame:
    """Deliveries made up to the end of the report's day, per target, state and when they were
    created (0 = the report's day, 1 = the 7 days before, 2 = earlier)."""
    sql = """
        SELECT target, state,
               CASE WHEN created_at >= :day0 THEN 0 WHEN created_at >= :start THEN 1 ELSE 2 END AS age,
               COUNT(*) AS deliveries
        FROM deliveries
        WHERE created_at < :end
        GROUP BY 1, 2, 3"""
    return _read(conn, sql, {"day0": w.midnight(w.day), "start": w.start, "end": w.end})


def unencodable(conn: Connection, w: Window) -> pd.DataFrame:
    """One row per character a target could not encode, from deliveries created in the window:
    target, field, char."""
    sql = """
        SELECT target, unencodable FROM deliveries
        WHERE unencodable IS NOT NULL AND created_at >= :start AND created_at < :end"""
    raw = _read(conn, sql, {"start": w.start, "end": w.end})
    rows: list[tuple[str, str, str]] = []
    for target, items in zip(raw["target"], raw["unencodable"], strict=True):
        for item in _json_list(items):
            if isinstance(item, dict) and item.get("char"):
                rows.append((target, str(item.get("field") or ""), str(item["char"])))
    return pd.DataFrame(rows, columns=["target", "field", "char"])


def _json_list(v: Any) -> Sequence[Any]:
    if v is None:
        return []
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return []
    return v if isinstance(v, list) else []
