"""Clerk time on the review page, measured in a real browser, and server time with 10,000 documents.

Part 1 runs the bundled samples (samples/demo) through the real pipeline into a fresh SQLite store,
starts the review page, and works the whole queue in headless Chromium with the keyboard alone:
clerk1 first works the group grids (/groups: crops read as the same value; the truth typed into a
wrong one, Enter confirms the rest), then opens each document (/next), settles its flagged fields
(Enter to confirm, the ground truth typed where the machine's value is wrong), keys each 個人番号
once and accepts with Enter (or hands it on when only the second keying is left, or, when its
confirmed values still break a cross-field rule, sends it back with the rule the page offers as
the reason); clerk2 keys each
個人番号 blind in the second-keying queue (/second), crop after crop, without opening documents.
It prints keystrokes, fields shown, corrections and clerk-minutes per 100 sheets by this model:

    2.5 s per field shown + 6 s per correction + 10 s per document opened

Every crop in a grid and every row of the second-keying queue counts as a field shown, and each
field-queue page opened (a grid, the second-keying list) counts as a document opened.

Part 2 (--pg) fills a PostgreSQL database with 10,000 review documents by bulk SQL inserts (each a
copy of a real stored document) and times the queue page and document pages (median of --repeat).

    .venv/bin/python bench/review_time.py [--pg postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import ARGS, CHROMIUM, free_port  # noqa: E402
from tests.review_support import DEMO, PASSWORD  # noqa: E402

S_FIELD, S_CORRECTION, S_DOC = 2.5, 6.0, 10.0


def build_store(work: Path) -> Any:
    from pipeline.cli.run_cmd import expand
    from pipeline.intake.receive import process_received, receive
    from pipeline.run import Engine
    from pipeline.settings import Settings
    from pipeline.store import open_store

    settings = Settings(
        data_dir=work / "data", my_number_key_file=work / "keys" / "k.key", qa_sample_rate=0.0
    )
    store = open_store(settings)
    engine = Engine.load(settings)
    for path in expand([DEMO]).files:
        rec = receive(path, settings.data_dir, store)
        if not rec.already_done:
            process_received(rec, engine, store, settings.data_dir)
    store.close()
    return settings


def truth_by_file() -> dict[str, list[dict[str, Any]]]:
    out = {}
    for j in DEMO.glob("doc_*.json"):
        data = json.loads(j.read_text())
        out[data["file"]] = [p["values"] for p in data["pages"]]
    return out


def browser_run(settings: Any, by_document: bool = False) -> dict[str, float]:
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    from web.app import create_app
    from web.review import show
    from web.security import hash_password

    app = create_app(settings)
    for n in ("clerk1", "clerk2"):
        app.state.review.add_user(n, "reviewer", hash_password(PASSWORD))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    truth = truth_by_file()
    totals = {
        "keystrokes": 0,
        "fields_shown": 0,
        "corrections": 0,
        "docs_opened": 0,
        "accepted": 0,
        "sheets": 0,
        "refused": 0,
        "queue_pages": 0,
    }

    def expected(doc_id: int, page: int, name: str) -> str | None:
        row = app.state.store.get_document_row(doc_id)
        pages = truth.get(row.source_name)
        if not pages or page >= len(pages) or name not in pages[page]:
            return None
        return show(pages[page][name])

    def machine(doc_id: int, page: int, name: str) -> str:
        doc = app.state.review.load(doc_id)
        f = next(x for p in doc.pages if p.index == page for x in p.fields if x.name == name)
        return show(f.value)

    def work(page: Any, doc_id: int, key_numbers: bool) -> None:
        totals["docs_opened"] += 1
        totals["fields_shown"] += page.locator("section.field:not(.settled):not(.waiting)").count()
        for _ in range(60):
            active = page.locator("section.field.active")
            cls = active.get_attribute("class") or "" if active.count() else "settled"
            if "settled" in cls or "waiting" in cls or "mismatch" in cls:
                break
            pg, name = int(active.get_attribute("data-page")), active.get_attribute("data-name")
            typed = to_type(active.get_attribute("data-double") == "1", doc_id, pg, name)
            if typed:
                page.keyboard.type(typed)
                totals["keystrokes"] += len(typed)
            before = page.locator(
                "section.field.settled, section.field.waiting, section.field.invalid"
            ).count()
            page.keyboard.press("Enter")
            totals["keystrokes"] += 1
            page.wait_for_function(
                "n => document.querySelectorAll('section.field.settled, section.field.waiting, section.field.invalid').length > n",
                arg=before,
            )
            if "invalid" in (active.get_attribute("class") or ""):
                # the truth did not parse as typed (e.g. a date format): confirm the machine's value instead
                page.keyboard.press("Control+a")
                page.keyboard.press("Backspace")
                page.keyboard.press("Enter")
                totals["keystrokes"] += 3
                page.wait_for_timeout(200)
        here = page.url
        rejecting = page.locator("#reject:not([hidden])").count() > 0
        # accept, hand on to the second clerk, or (values confirmed, a cross-field rule still fails:
        # the page offers the rejection with the rule as its reason) send the document back
        page.keyboard.press("Enter")
        totals["keystrokes"] += 1
        page.wait_for_url(lambda u: u != here)
        totals["refused"] += rejecting
        if page.url.endswith("/accept"):  # refused (a cross-field rule still fails): reject it
            totals["refused"] += 1
            page.go_back()
            page.wait_for_selector("#doc")
            page.keyboard.press("F9")
            page.keyboard.type("項目間の規則に合わない")
            page.keyboard.press("Enter")
            totals["keystrokes"] += 12
            page.wait_for_url(lambda u: "/documents/" + str(doc_id) not in u)
            return

    def to_type(double: bool, doc_id: int, pg: int, name: str) -> str | None:
        """What the clerk types: a double entry is always keyed (blind), another field only where
        the machine's value is wrong (a correction); None means Enter confirms."""
        want = expected(doc_id, pg, name)
        if double:
            return want or ""
        if want is not None and want != machine(doc_id, pg, name):
            totals["corrections"] += 1
            return want
        return None

    def open_queue(page: Any, path: str) -> Any:
        """Open a field-queue page and count it with its crops; None when it is empty."""
        page.goto(url + path)
        cells = page.locator("section.cell")
        if cells.count() == 0:
            return None
        totals["queue_pages"] += 1
        totals["fields_shown"] += cells.count()
        return cells

    def cell_key(cell: Any) -> tuple[int, int, str]:
        return (
            int(cell.get_attribute("data-doc")),
            int(cell.get_attribute("data-page")),
            cell.get_attribute("data-name"),
        )

    def grids(page: Any) -> None:
        """Group grids: type the truth into each crop the machine read wrong, Enter confirms the rest."""
        for _ in range(100):
            cells = open_queue(page, "/groups")
            if cells is None:
                return
            for k in range(cells.count()):
                want = to_type(False, *cell_key(cells.nth(k)))
                if want is not None:
                    cells.nth(k).locator("input").focus()
                    page.keyboard.type(want)
                    page.keyboard.press("Enter")
                    totals["keystrokes"] += len(want) + 1
                    page.wait_for_function(
                        "el => el.classList.contains('corrected') || el.classList.contains('invalid')",
                        arg=cells.nth(k).element_handle(),
                    )
            page.locator("section.cell:not(.corrected) input").first.focus()
            with page.expect_navigation():
                page.keyboard.press("Enter")
            totals["keystrokes"] += 1

    def fields(page: Any) -> None:
        """Field verification across documents: Enter confirms, the truth typed where the machine is
        wrong, each 個人番号 keyed blind (its first keying); a settled page loads the next."""
        for _ in range(100):
            cells = open_queue(page, "/fields")
            if cells is None:
                return
            for k in range(cells.count()):
                cell = cells.nth(k)
                typed = to_type(cell.get_attribute("data-double") == "1", *cell_key(cell))
                cell.locator("input").focus()
                if typed:
                    page.keyboard.type(typed)
                    totals["keystrokes"] += len(typed)
                last = k == cells.count() - 1
                if last:
                    with page.expect_navigation():
                        page.keyboard.press("Enter")
                else:
                    page.keyboard.press("Enter")
                    page.wait_for_function(
                        "el => /settled|waiting|mismatch|invalid/.test(el.className)",
                        arg=cell.element_handle(),
                    )
                totals["keystrokes"] += 1
                if not last and "invalid" in (cell.get_attribute("class") or ""):
                    # the truth did not parse as typed: confirm the machine's value instead
                    cell.locator("input").focus()
                    page.keyboard.press("Control+a")
                    page.keyboard.press("Backspace")
                    page.keyboard.press("Enter")
                    totals["keystrokes"] += 3
                    page.wait_for_function("el => /settled/.test(el.className)", arg=cell.element_handle())

    def second(page: Any) -> None:
        """The second-keying queue: each 個人番号 keyed blind from its crop, one after another."""
        cells = open_queue(page, "/second")
        if cells is None:
            return
        for k in range(cells.count()):
            d, pg, name = cell_key(cells.nth(k))
            want = expected(d, pg, name) or ""
            cells.nth(k).locator("input").focus()
            page.keyboard.type(want)
            page.keyboard.press("Enter")
            totals["keystrokes"] += len(want) + 1
            page.wait_for_function(
                "el => /settled|waiting|mismatch|invalid/.test(el.className)",
                arg=cells.nth(k).element_handle(),
            )

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for clerk in ("clerk1", "clerk2"):
            page = b.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.goto(url + "/")
            page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
            page.keyboard.type(clerk)
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(url + "/")
            grids(page)
            if not by_document:
                fields(page)
            second(page)
            page.goto(url + "/next")
            while "/documents/" in page.url:
                work(page, int(page.url.rsplit("/", 1)[1]), True)
        b.close()
    srv.should_exit = True
    with app.state.store.session() as s:
        from sqlalchemy import func, select

        from pipeline.store.tables import DocumentRow, PageRow

        totals["sheets"] = int(
            s.scalar(select(func.count(PageRow.id)).join(DocumentRow).where(DocumentRow.status == "accepted"))
            or 0
        )
        # every sheet of the queue, accepted or rejected: each was worked by a clerk
        totals["sheets_worked"] = int(
            s.scalar(
                select(func.count(PageRow.id))
                .join(DocumentRow)
                .where(DocumentRow.status.in_(("accepted", "rejected")))
            )
            or 0
        )
        # accepted on the document page (Enter) or by the field queue that settled the last field
        totals["accepted"] = int(
            s.scalar(select(func.count(DocumentRow.id)).where(DocumentRow.status == "accepted")) or 0
        )
    return totals


def pg_timing(url: str, repeat: int, n_docs: int) -> dict[str, float]:
    """Fill a fresh PostgreSQL database with n_docs review documents, time the pages."""
    import psycopg2
    from fastapi.testclient import TestClient
    from sqlalchemy import insert, make_url, select

    from pipeline.settings import Settings
    from pipeline.store import open_store
    from pipeline.store.tables import DocumentRow, FieldRow, PageRow, utcnow
    from web.app import create_app
    from web.security import hash_password

    base = make_url(url)
    name = f"shinsei_reviewbench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        host=base.host, port=base.port or 5432, user=base.username, dbname=base.database or "postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        work = Path(tempfile.mkdtemp(prefix="shinsei-reviewbench-"))
        settings = Settings(
            data_dir=work / "data",
            my_number_key_file=work / "keys" / "k.key",
            database_url=base.set(database=name).render_as_string(hide_password=False),
        )
        store = open_store(settings)
        sample = Settings(data_dir=ROOT / "data" / "demo")
        fields = _sample_fields()
        now = utcnow()
        t0 = time.perf_counter()
        with store.engine.begin() as conn:
            docs = [
                {
                    "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
                    "source_name": f"bench_{i:05d}.png",
                    "status": "review",
                    "route": "review",
                    "form_id": "nursery_enrolment",
                    "form_version": "2026.1",
                    "attempts": 1,
                    "task_attempts": 0,
                    "qa_sample": i % 50 == 0,
                    "created_at": now,
                    "updated_at": now,
                    "page_count": 1,
                }
                for i in range(n_docs)
            ]
            conn.execute(insert(DocumentRow.__table__), docs)
            ids = list(conn.execute(select(DocumentRow.id).order_by(DocumentRow.id)).scalars())
            conn.execute(
                insert(PageRow.__table__),
                [
                    {
                        "document_id": d,
                        "index": 0,
                        "form_id": "nursery_enrolment",
                        "form_version": "2026.1",
                        "route": "review",
                        "orientation": 0,
                        "skew_deg": 0.0,
                        "match_score": 1.0,
                        "issues": [],
                    }
                    for d in ids
                ],
            )
            pages = dict(conn.execute(select(PageRow.document_id, PageRow.id)).all())
            rows = [dict(f, page_id=pages[d]) for d in ids for f in fields]
            for i in range(0, len(rows), 20000):
                conn.execute(insert(FieldRow.__table__), rows[i : i + 20000])
        seeded = time.perf_counter() - t0
        del sample
        app = create_app(settings)
        app.state.review.add_user("bench", "reviewer", hash_password(PASSWORD))
        c = TestClient(app)
        tok = __import__("re").search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"name": "bench", "password": PASSWORD, "csrf_token": tok})
        queue, doc, fq = [], [], []
        for i in range(repeat):
            t = time.perf_counter()
            assert c.get("/fields").status_code == 200
            fq.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert c.get("/").status_code == 200
            queue.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = c.get(f"/documents/{ids[n_docs // 2 + i]}")
            doc.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"document page answered {r.status_code}")
        app.state.store.close()
        store.close()
        return {
            "seeded_docs": n_docs,
            "fields": len(rows),
            "seed_s": seeded,
            "queue_ms": statistics.median(queue) * 1000,
            "document_ms": statistics.median(doc) * 1000,
            "queue_max_ms": max(queue) * 1000,
            "fields_ms": statistics.median(fq) * 1000,
            "fields_max_ms": max(fq) * 1000,
            "document_max_ms": max(doc) * 1000,
        }
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _sample_fields() -> list[dict[str, Any]]:
    """25 fields like a real nursery form's: 5 flagged, the rest accepted (values are synthetic)."""
    out = []
    for n in range(25):
        flagged = n < 5
        out.append(
            {
                "position": n,
                "name": f"field_{n:02d}",
                "kind": "text_ja",
                "raw": "山田太郎",
                "value": "山田太郎",
                "confidence": 0.5 if flagged else 0.99,
                "chars": [["山", 0.99], ["田", 0.5]],
                "issues": [],
                "accepted": not flagged,
                "crop_path": None,
                "box_px": [10, 10, 100, 30],
            }
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--pg", default=None, help="PostgreSQL URL of a server (a fresh database is made and dropped)"
    )
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument(
        "--by-document",
        action="store_true",
        help="work every flagged field on its document page (no /fields), as before field verification",
    )
    args = ap.parse_args()
    if not args.skip_browser:
        settings = build_store(Path(tempfile.mkdtemp(prefix="shinsei-reviewtime-")))
        t = browser_run(settings, by_document=args.by_document)
        sheets = max(t["sheets"], 1)
        opened = t["docs_opened"] + t["queue_pages"]
        seconds = S_FIELD * t["fields_shown"] + S_CORRECTION * t["corrections"] + S_DOC * opened
        how = "document pages only" if args.by_document else "field verification (/fields) first"
        print(f"review of the bundled samples, keyboard only (headless Chromium), {how}")
        print(f"{'sheets accepted':<28}{t['sheets']:>8}")
        print(f"{'documents accepted':<28}{t['accepted']:>8}")
        print(f"{'rejected (rule fails)':<28}{t['refused']:>8}")
        print(f"{'documents opened':<28}{t['docs_opened']:>8}")
        print(f"{'field-queue pages opened':<28}{t['queue_pages']:>8}")
        print(f"{'fields shown':<28}{t['fields_shown']:>8}")
        print(f"{'corrections typed':<28}{t['corrections']:>8}")
        print(f"{'keystrokes':<28}{t['keystrokes']:>8}")
        print(f"{'clerk-minutes / 100 sheets':<28}{seconds / 60 / sheets * 100:>8.1f}  (per sheet accepted)")
        worked = max(t["sheets_worked"], 1)
        print(
            f"{'  per sheet worked':<28}{seconds / 60 / worked * 100:>8.1f}  "
            f"({t['sheets_worked']} sheets accepted or rejected)"
        )
        print(
            f"  model: {S_FIELD} s/field shown + {S_CORRECTION} s/correction + {S_DOC} s/document "
            "or field-queue page opened"
        )
        floor = (S_FIELD * t["fields_shown"] + S_CORRECTION * t["corrections"]) / 60 / sheets * 100
        print(f"{'  of which fields+corrections':<28}{floor:>8.1f}")
    if args.pg:
        r = pg_timing(args.pg, args.repeat, args.docs)
        print()
        print(
            f"server time, PostgreSQL, {r['seeded_docs']} documents / {r['fields']} fields (seeded in {r['seed_s']:.1f} s)"
        )
        print(f"{'page':<16}{'median ms':>10}{'max ms':>10}")
        print(f"{'queue':<16}{r['queue_ms']:>10.1f}{r['queue_max_ms']:>10.1f}")
        print(f"{'document':<16}{r['document_ms']:>10.1f}{r['document_max_ms']:>10.1f}")
        print(f"{'fields (/fields)':<16}{r['fields_ms']:>10.1f}{r['fields_max_ms']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
