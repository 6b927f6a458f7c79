"""Chaos: 500 documents through Redis while workers are killed with -9 and Redis is restarted, then
a check that every document is in exactly one final state and nothing is missing or doubled in the
export.

    python bench/chaos.py [--n 500] [--seed 21] [--kill-every 10] [--json]

Set-up, as in docs/deploy.md: a private redis-server with AOF (fsync every second), PostgreSQL, two
`celery -A workers worker -c 1` (two "machines"), `shinsei run DIR` in broker mode queueing the N
generated applications (PNG/JPEG/PDF/TIFF, PDF and TIFF with 2–3 pages) and following them.
Task time limit 60 s here (lease 120 s), so a document held by a whole worker that died is queued
again within two minutes instead of six.

Chaos, until the run ends: every ~`kill_every` s (±30 %) a random victim gets SIGKILL — a pool
process in the middle of its document (4 times out of 5), or a whole worker, main process and pool
(then restarted 2 s later, as systemd would). Once, when a third of the documents are done, Redis
itself is killed with -9 and restarted.

Checks: the documents in the database are exactly the input files' sha256s; each is in a final
state reached once (one `processing → final` transition in its history); its pages are stored once
(the count the generator wrote); no failed tasks. Then every document in review is accepted (as
clerks would), and the nightly export is run twice for today and once for tomorrow: each accepted
document's identified pages must appear exactly once across all export files.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queue_rig import Rig, manifest_pages, samples  # noqa: E402
from pipeline.ingest import sha256_file  # noqa: E402
from pipeline.store import FINAL_STATUSES  # noqa: E402


def chaos(rig: Rig, workers, run, shas: list[str], kill_every: float, rng: random.Random) -> dict:
    store = rig.store()
    log: list[str] = []
    kills = Counter()
    redis_restarted = False
    t0 = time.monotonic()
    next_kill = t0 + kill_every * rng.uniform(0.7, 1.3)
    while run.poll() is None:
        time.sleep(0.5)
        now = time.monotonic()
        if not redis_restarted:
            done = sum(s.status in FINAL_STATUSES for s in store.document_states(shas).values())
            if done >= len(shas) / 3:
                rig.redis.kill()
                time.sleep(2)
                rig.redis.start()
                redis_restarted = True
                log.append(f"{now - t0:6.1f} s  redis killed -9 and restarted ({done} documents done)")
        if now < next_kill:
            continue
        next_kill = now + kill_every * rng.uniform(0.7, 1.3)
        up = [w for w in workers if w.proc.poll() is None]
        whole = rng.random() < 0.2 and len(up) == len(workers)
        if whole:
            w = rng.choice(up)
            w.kill_all()
            kills["whole worker"] += 1
            log.append(f"{now - t0:6.1f} s  killed worker {w.name} (main process and pool) with -9")
            time.sleep(2)
            w.start()
            continue
        children = [(w, pid) for w in up for pid in w.children()]
        if not children:
            continue
        w, pid = rng.choice(children)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills["pool process"] += 1
        log.append(f"{now - t0:6.1f} s  killed pool process {pid} of {w.name} with -9")
    store.close()
    return {
        "kills": dict(kills),
        "redis_restarts": int(redis_restarted),
        "events": log,
        "seconds": time.monotonic() - t0,
    }


def check(rig: Rig, inputs: Path, files: list[Path], shas: list[str], out: str) -> dict:
    from sqlalchemy import func, select

    from pipeline.store.tables import DocumentRow, FailedTaskRow, PageRow, StatusHistory

    expected_pages = manifest_pages(inputs)
    sha_of = {f.name: sha for f, sha in zip(files, shas, strict=True)}
    store = rig.store()
    problems: list[str] = []
    with store.session() as s:
        docs = {r.sha256: r for r in s.scalars(select(DocumentRow))}
        pages = dict(s.execute(select(PageRow.document_id, func.count()).group_by(PageRow.document_id)).all())
        finals = Counter(
            s.scalars(
                select(StatusHistory.document_id).where(
                    StatusHistory.to_status.in_(FINAL_STATUSES - {"exported"})
                )
            )
        )
        failed = s.scalar(select(func.count(FailedTaskRow.id)))
    missing = set(sha_of.values()) - set(docs)
    extra = set(docs) - set(sha_of.values())
    if missing:
        problems.append(f"{len(missing)} documents missing")
    if extra:
        problems.append(f"{len(extra)} unexpected documents")
    for name, sha in sha_of.items():
        row = docs.get(sha)
        if row is None:
            continue
        if row.status not in FINAL_STATUSES:
            problems.append(f"{name}: status {row.status}")
        if finals[row.id] != 1:
            problems.append(f"{name}: reached a final state {finals[row.id]} times")
        if row.status != "quarantined" and pages.get(row.id, 0) != expected_pages[name]:
            problems.append(
                f"{name}: {pages.get(row.id, 0)} pages stored, {expected_pages[name]} in the file"
            )
    json_lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    reported = Counter(j["sha256"] for j in json_lines)
    if sorted(reported) != sorted(sha_of.values()) or set(reported.values()) != {1}:
        problems.append("`shinsei run --json` did not report every document exactly once")
    statuses = Counter(r.status for r in docs.values())
    attempts = Counter(r.task_attempts for r in docs.values())
    store.close()
    return {
        "documents": len(docs),
        "pages": sum(pages.values()),
        "statuses": dict(statuses),
        "task_starts": {str(k): v for k, v in sorted(attempts.items())},
        "failed_tasks": failed,
        "problems": problems,
    }


def check_export(rig: Rig) -> dict:
    """Accept every document in review (clerks), export twice for today and once for tomorrow, and
    count each accepted document's rows across all export files."""
    from sqlalchemy import select

    from pipeline.store.tables import DocumentRow, PageRow

    store = rig.store()
    with store.session() as s:
        review = list(
            s.scalars(select(DocumentRow.sha256).where(DocumentRow.status.in_(["review", "accepted"])))
        )
        identified = Counter(
            s.scalars(
                select(DocumentRow.sha256)
                .join(PageRow, PageRow.document_id == DocumentRow.id)
                .where(DocumentRow.sha256.in_(review), PageRow.form_id.is_not(None))
            )
        )
    for sha in review:
        doc = store.get_document(sha)
        for p in doc.pages:  # the bench clerk confirms every flagged field (accepting needs it)
            for f in p.fields:
                if not f.accepted:
                    store.correct_field(sha, p.index, f.name, f.value, "bench-clerk")
                    if f.double_entry:  # review: double needs a second person's keying
                        store.correct_field(sha, p.index, f.name, f.value, "bench-clerk2")
        store.set_status(sha, "accepted", "bench-clerk", note="chaos bench: accepted after review")
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    for day in (today, today, today + timedelta(days=1)):
        p = rig.shinsei("batch", "nightly", "--step", "export_accepted", "--date", day.isoformat())
        p.communicate(timeout=600)
        if p.returncode != 0:
            raise RuntimeError("shinsei batch nightly failed")
    rows: Counter[str] = Counter()
    days: dict[str, set[str]] = {}
    for f in sorted((rig.data_dir / "exports").glob("*/*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                rows[r["sha256"]] += 1
                days.setdefault(r["sha256"], set()).add(f.parent.name)
    missing = [s for s in review if identified[s] and rows[s] == 0]
    doubled = [s for s in review if rows[s] > identified[s] or len(days.get(s, ())) > 1]
    short = [s for s in review if 0 < rows[s] < identified[s]]
    statuses = store.counts_by_status()
    store.close()
    return {
        "accepted": len(review),
        "records_expected": sum(identified[s] for s in review),
        "records_exported": sum(rows.values()),
        "missing": len(missing),
        "doubled": len(doubled),
        "incomplete": len(short),
        "statuses_after": statuses,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--kill-every", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--inputs", type=Path, default=Path(__file__).resolve().parent / "out" / "chaos_inputs")
    args = ap.parse_args()
    files = samples(args.inputs, args.n, args.seed, formats="png,jpg,pdf,tiff", multipage=True)
    shas = [sha256_file(f) for f in files]
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="shinsei-chaos-"))
    rig = Rig(
        work, aof=True, extra_env={"SHINSEI_TASK_TIME_LIMIT_S": "60", "SHINSEI_TASK_SOFT_TIME_LIMIT_S": "50"}
    )
    try:
        workers = [rig.worker("w1", 1), rig.worker("w2", 1)]
        for w in workers:
            w.wait_ready()
        started = time.monotonic()
        run = rig.shinsei("run", str(args.inputs), "--json", log="run.log")
        result: dict = {}
        out_box: list[str] = []
        reader = threading.Thread(target=lambda: out_box.append(run.stdout.read()), daemon=True)
        reader.start()
        result["chaos"] = chaos(rig, workers, run, shas, args.kill_every, rng)
        reader.join(30)
        result["run_exit"] = run.returncode
        result["elapsed_s"] = round(time.monotonic() - started, 1)
        result["check"] = check(rig, args.inputs, files, shas, out_box[0] if out_box else "")
        result["pages_per_min"] = round(result["check"]["pages"] / result["elapsed_s"] * 60, 1)
        result["export"] = check_export(rig)
        result["workdir"] = str(work)
    finally:
        rig.close()
    ok = (
        result.get("run_exit") == 0
        and not result["check"]["problems"]
        and result["check"]["failed_tasks"] == 0
        and result["export"]["missing"] == result["export"]["doubled"] == result["export"]["incomplete"] == 0
    )
    result["ok"] = ok
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0 if ok else 1
    c, e, k = result["check"], result["export"], result["chaos"]
    for line in k["events"]:
        print("   ", line)
    print(
        f"chaos: {len(files)} documents, {c['pages']} pages, {result['elapsed_s']} s ({result['pages_per_min']} pages/min)"
    )
    print(f"  killed with -9: {k['kills']}; Redis restarted {k['redis_restarts']} time(s)")
    print(
        f"  final states: {c['statuses']}; task starts per document: {c['task_starts']}; failed tasks {c['failed_tasks']}"
    )
    print(f"  problems: {c['problems'] or 'none'}")
    print(
        f"  export: {e['accepted']} accepted, {e['records_exported']}/{e['records_expected']} records, "
        f"missing {e['missing']}, doubled {e['doubled']}, incomplete {e['incomplete']}"
    )
    print(
        "  " + ("OK: every document in exactly one final state, none lost, none doubled" if ok else "FAILED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
