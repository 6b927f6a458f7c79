"""How long the morning report takes on a big store (issue 14: under 30 s for 100,000 documents).

    python bench/report_speed.py [--n 100000] [--days 60] [--db sqlite|postgresql|both] [--shared]
                                 [--keep DIR]

Seeds a fresh store (SQLite file, or a throw-away PostgreSQL database on 127.0.0.1:5432) with N
documents spread over DAYS days ending on the report's day, each with its pages and fields (the
nursery form's 25 and the second form's 9, named as in their templates; 80% straight through, the
rest in review with corrections), a status_history row and a worker claim; --shared also creates the review page's and
the outbox's tables (common schema) with review events, a 2% QA sample, deadlines and one delivery
per accepted document. Rows go in with executemany (SQLite) or COPY (PostgreSQL). Then times
make_report (the SQL reads and the charts) and write_report (HTML, XLSX, CSV), and prints a table.
--days 8 puts every document inside the report's 8-day window (the worst case).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queue_rig import fresh_pg_database  # noqa: E402
from pipeline.forms.template import load_template  # noqa: E402
from pipeline.report import make_report, write_report  # noqa: E402
from pipeline.report.sections import Labels  # noqa: E402
from pipeline.settings import REPO_ROOT  # noqa: E402
from pipeline.store import open_store  # noqa: E402

TZ = "Asia/Tokyo"
DAY = date(2026, 11, 27)
# The forms' own field names and labels: the nursery form and the second form of bench/forms.
TEMPLATE_DIRS = (REPO_ROOT / "templates_forms", REPO_ROOT / "bench" / "forms")
FORMS = ("nursery_enrolment", "change_of_address")
WORKERS = [f"ocr{h}:{p}" for h in (1, 2) for p in (101, 102)]
CHUNK = 5_000  # documents per insert batch

SHARED_DDL = [
    """CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(128) UNIQUE NOT NULL, role VARCHAR(16) NOT NULL,
       password_hash VARCHAR(256) NOT NULL, active BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE review_events (id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL, page_index INTEGER,
       field_name VARCHAR(128), kind VARCHAR(32), actor VARCHAR(128) NOT NULL, action VARCHAR(32) NOT NULL,
       machine_value TEXT, final_value TEXT, auto_accepted BOOLEAN NOT NULL, qa BOOLEAN NOT NULL,
       ms_spent INTEGER, keystrokes INTEGER, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE deliveries (id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL, target VARCHAR(64) NOT NULL,
       idempotency_key VARCHAR(128) UNIQUE NOT NULL, state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL,
       receipt TEXT, last_error TEXT, unencodable JSON, created_at TIMESTAMP NOT NULL,
       updated_at TIMESTAMP NOT NULL, delivered_at TIMESTAMP, verified_at TIMESTAMP)""",
    "ALTER TABLE documents ADD COLUMN qa_sample BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE documents ADD COLUMN deadline DATE",
    "ALTER TABLE documents ADD COLUMN review_claimed_by VARCHAR(128)",
    "ALTER TABLE documents ADD COLUMN review_claimed_until TIMESTAMP",
]

COLUMNS = {
    "documents": "id sha256 source_name status route reason form_id page_count attempts task_attempts "
    "claimed_by claimed_at created_at updated_at",
    "documents_shared": "id sha256 source_name status route reason form_id page_count attempts task_attempts "
    "claimed_by claimed_at created_at updated_at qa_sample deadline",
    "pages": "id document_id index form_id route orientation skew_deg match_score issues",
    "fields": "id page_id position name kind raw value confidence chars issues accepted "
    "corrected_value corrected_by corrected_at",
    "status_history": "id document_id from_status to_status at actor",
    "review_events": "id document_id page_index field_name kind actor action auto_accepted qa ms_spent "
    "keystrokes created_at",
    "deliveries": "id document_id target idempotency_key state attempts unencodable created_at updated_at",
}


class Writer:
    """Bulk inserts: sqlite3 executemany in one transaction, or PostgreSQL COPY ... FROM STDIN."""

    def __init__(self, engine: Any) -> None:
        self.raw = engine.raw_connection()
        self.dialect = engine.dialect.name

    def ts(self, t: datetime | None) -> str | None:
        if t is None:
            return None
        if self.dialect == "sqlite":  # SQLAlchemy's own SQLite DATETIME storage format (naive UTC)
            return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return t.isoformat()

    def bool(self, b: bool) -> Any:
        return int(b) if self.dialect == "sqlite" else ("t" if b else "f")

    def put(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = columns.split()
        name = "documents" if table == "documents_shared" else table
        cur = self.raw.cursor()
        if self.dialect == "sqlite":
            quoted = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" for _ in cols)
            cur.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)
        else:
            buf = io.StringIO()
            w = csv.writer(buf)
            for r in rows:
                w.writerow(["\\N" if v is None else v for v in r])
            buf.seek(0)
            quoted = ", ".join(f'"{c}"' for c in cols)
            cur.copy_expert(f"COPY {name} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
        cur.close()

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


def _local(d: date, seconds: float, zone: ZoneInfo) -> datetime:
    return (datetime.combine(d, datetime.min.time(), zone) + timedelta(seconds=float(seconds))).astimezone(
        UTC
    )


def templates() -> tuple[dict[str, list[str]], Labels]:
    """Field names per form, and the labels the report shows, from the two forms' templates."""
    # The two forms by folder: bench/forms also holds forms whose blank lives elsewhere (sakura_nursery).
    tpls = [load_template(d / form) for d in TEMPLATE_DIRS for form in FORMS if (d / form).is_dir()]
    forms = {t.form_id: [f.name for f in t.fields] for t in tpls}
    labels = Labels(
        {t.form_id: t.title for t in tpls}, {(t.form_id, f.name): f.label for t in tpls for f in t.fields}
    )
    return forms, labels


def seed(engine: Any, n: int, days: int, shared: bool, rng: np.random.Generator) -> dict[str, int]:
    """Write the store; returns row counts."""
    forms, _ = templates()
    zone = ZoneInfo(TZ)
    w = Writer(engine)
    if shared:
        for ddl in SHARED_DDL:
            w.raw.cursor().execute(ddl)
    doc_cols = COLUMNS["documents_shared" if shared else "documents"]
    counts = dict.fromkeys(
        ["documents", "pages", "fields", "status_history", "review_events", "deliveries"], 0
    )
    page_id = field_id = event_id = delivery_id = 0
    reviewers = ["suzuki", "tanaka", "sato", "takahashi"]
    # arrival times in order, as a real store's ids follow arrival (oldest day first)
    all_day = np.sort(rng.integers(0, days, n))[::-1]
    all_secs = np.empty(n)
    for d in np.unique(all_day):
        sel = all_day == d
        all_secs[sel] = np.sort(rng.uniform(8 * 3600, 18 * 3600, int(sel.sum())))
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        day_off = all_day[start : start + m]
        secs = all_secs[start : start + m]
        kind = rng.random(m)
        route_r = rng.random(m)
        two_pages = rng.random(m) < 0.2
        docs, pages, fields, hist, events, dels = [], [], [], [], [], []
        for i in range(m):
            doc_id = start + i + 1
            created = _local(DAY - timedelta(days=int(day_off[i])), secs[i], zone)
            form: str | None
            if kind[i] < 0.03:
                form, route, reason = (
                    None,
                    "quarantined",
                    str(rng.choice(["corrupt_file", "too_large", "empty_file"])),
                )
            elif kind[i] < 0.05:
                form, route, reason = None, "unknown_form", None
            else:
                form = "nursery_enrolment" if kind[i] < 0.75 else "change_of_address"
                route, reason = ("accepted" if route_r[i] < 0.8 else "review"), None
            age_days = int(day_off[i])
            status = route
            if route == "review" and age_days > 3:
                status = "accepted"  # reviewed since
            n_pages = 0 if route == "quarantined" else (2 if two_pages[i] else 1)
            worker = WORKERS[doc_id % len(WORKERS)] if n_pages else None
            claimed = created + timedelta(seconds=5) if worker else None
            done = created + timedelta(seconds=5 + 20 * max(1, n_pages))
            qa_sample = route == "accepted" and rng.random() < 0.02
            row = [
                doc_id,
                f"{doc_id:064x}",
                f"scan{doc_id}.pdf",
                status,
                route,
                reason,
                form,
                n_pages or None,
                1,
                1,
                worker,
                w.ts(claimed),
                w.ts(created),
                w.ts(done),
            ]
            if shared:
                row += [w.bool(qa_sample), (created + timedelta(days=14)).astimezone(zone).date().isoformat()]
            docs.append(row)
            hist.append([doc_id, doc_id, None, route, w.ts(done), "pipeline"])
            names = forms[form] if form else []
            first_page = 0
            for p in range(n_pages):
                page_id += 1
                first_page = first_page or page_id
                pages.append([page_id, doc_id, p, form, route, 0, 0.0, 0.9, "[]"])
            reviewed = created + timedelta(days=1)
            for k, name in enumerate(names):
                field_id += 1
                accepted = route == "accepted" or rng.random() < 0.85
                corrected = route == "review" and not accepted and age_days >= 1 and rng.random() < 0.6
                fields.append(
                    [
                        field_id,
                        first_page,
                        k,
                        name,
                        "text_ja",
                        "",
                        json.dumps(f"v{k}"),
                        0.95,
                        "[]",
                        "[]",
                        w.bool(accepted),
                        json.dumps("fixed") if corrected else None,
                        reviewers[doc_id % 4] if corrected else None,
                        w.ts(reviewed) if corrected else None,
                    ]
                )
                if shared and (corrected or (route == "review" and k < 3)):
                    event_id += 1
                    events.append(
                        [
                            event_id,
                            doc_id,
                            0,
                            name,
                            "text_ja",
                            reviewers[doc_id % 4],
                            "correct" if corrected else "confirm",
                            w.bool(accepted),
                            w.bool(False),
                            int(rng.integers(1500, 15000)),
                            int(rng.integers(0, 12)),
                            w.ts(reviewed),
                        ]
                    )
                if shared and qa_sample:
                    event_id += 1
                    wrong = rng.random() < 0.005
                    events.append(
                        [
                            event_id,
                            doc_id,
                            0,
                            name,
                            "text_ja",
                            reviewers[(doc_id + 1) % 4],
                            "qa_correct" if wrong else "qa_confirm",
                            w.bool(True),
                            w.bool(True),
                            int(rng.integers(800, 4000)),
                            int(rng.integers(3, 10)) if wrong else 1,
                            w.ts(reviewed),
                        ]
                    )
            if shared and status == "accepted":
                delivery_id += 1
                r = rng.random()
                state = (
                    "verified"
                    if r < 0.9
                    else "delivered"
                    if r < 0.97
                    else "failed"
                    if r < 0.99
                    else "unknown"
                )
                bad = (
                    [{"field": "child_name", "char": str(rng.choice(["髙", "𠮷", "﨑", "德"]))}]
                    if rng.random() < 0.005
                    else None
                )
                dels.append(
                    [
                        delivery_id,
                        doc_id,
                        "csv_cp932" if doc_id % 3 else "rpa_web",
                        uuid.UUID(int=doc_id).hex,
                        state,
                        1,
                        json.dumps(bad, ensure_ascii=False) if bad else None,
                        w.ts(done + timedelta(hours=1)),
                        w.ts(done + timedelta(hours=1)),
                    ]
                )
        w.put("documents_shared" if shared else "documents", doc_cols, docs)
        w.put("pages", COLUMNS["pages"], pages)
        w.put("fields", COLUMNS["fields"], fields)
        w.put("status_history", COLUMNS["status_history"], hist)
        if shared:
            w.put("review_events", COLUMNS["review_events"], events)
            w.put("deliveries", COLUMNS["deliveries"], dels)
        for k, rows in (
            ("documents", docs),
            ("pages", pages),
            ("fields", fields),
            ("status_history", hist),
            ("review_events", events),
            ("deliveries", dels),
        ):
            counts[k] += len(rows)
    w.commit()
    if engine.dialect.name == "postgresql":
        cur = w.raw.cursor()
        cur.execute("ANALYZE")
        w.raw.commit()
    w.close()
    return counts


def run_one(url: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    store = open_store(url)
    try:
        t0 = time.perf_counter()
        counts = seed(store.engine, args.n, args.days, args.shared, np.random.default_rng(args.seed))
        t_seed = time.perf_counter() - t0
        _, labels = templates()
        t0 = time.perf_counter()
        report = make_report(store.engine, DAY, TZ, labels)
        files = write_report(report, out)
        total = time.perf_counter() - t0
    finally:
        store.close()
    return {
        "db": store.dialect,
        "documents": counts["documents"],
        "fields": counts["fields"],
        "days": args.days,
        "seed_s": t_seed,
        "queries_s": report.seconds["queries"],
        "charts_s": report.seconds["charts"],
        "files_s": report.seconds["files"],
        "total_s": total,
        "html": files.html,
    }


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=60, help="documents spread over this many days")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--shared", action="store_true", help="also the review/delivery tables, with rows")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep", type=Path, default=None, help="keep the SQLite store and the report here")
    args = ap.parse_args(list(argv) if argv is not None else None)
    work = args.keep or Path(tempfile.mkdtemp(prefix="shinsei-report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        if args.db in ("sqlite", "both"):
            db = work / "shinsei.sqlite3"
            for p in work.glob("shinsei.sqlite3*"):
                p.unlink()
            rows.append(run_one(f"sqlite:///{db}", args, work / "report-sqlite"))
        if args.db in ("postgresql", "both"):
            with fresh_pg_database("shinsei_report_bench") as url:
                rows.append(run_one(url, args, work / "report-postgresql"))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"morning report for {DAY}, documents over {args.days} days, review/delivery tables: {args.shared}")
    print(
        f"{'db':<11}{'documents':>10}{'fields':>11}{'seed s':>9}{'queries s':>11}{'charts s':>10}{'files s':>9}{'report s':>10}"
    )
    for r in rows:
        print(
            f"{r['db']:<11}{r['documents']:>10,}{r['fields']:>11,}{r['seed_s']:>9.1f}{r['queries_s']:>11.2f}"
            f"{r['charts_s']:>10.2f}{r['files_s']:>9.2f}{r['total_s']:>10.2f}"
        )
    if args.keep:
        print(f"kept in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
