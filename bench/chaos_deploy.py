"""Chaos on the deployment of issue 15, with nothing but workers and the hot folder running: two
`celery -A workers worker -c 1`, one `shinsei watch INBOX`, a private Redis with AOF (fsync every
second), PostgreSQL in a fresh database. No `shinsei run` and no nightly batch, so only the
workers' own re-queue sweep (workers/sweep.py) can rescue a document. Settings are the defaults:
lease 45 s, heartbeat 10 s, sweep every 30 s, unstarted 60 s, hot folder stable after 5 s.

    python bench/chaos_deploy.py [--runs 3] [--seed 15] [--kill-every 8] [--json]

Inputs, 65 distinct files dropped in bursts (70 drops): 60 scans (copies of samples/demo, each
made distinct by a nonce the readers ignore: a PNG tEXt chunk, a JPEG comment, bytes after a PDF's
%%EOF or a TIFF's last IFD), 5 bad files (samples/demo/bad and a file of random bytes); 5 of the
scans are dropped a second time under another name, and 6 are written slowly (in 6 chunks over
~5 s, as a slow scanner or a network copy does).

Chaos, while files are dropped and for 20 s after: every ~`kill_every` s (±30 %) a worker's MAIN
process (then what is left of its unit is killed too, and it is restarted 2 s later, as systemd
does) or one pool process (Celery starts another) is killed with -9, alternately. Once, Redis is
killed with -9 and restarted 2 s later; once, `shinsei watch` is killed with -9 and restarted.

Measured, per run: documents in one final state out of 65; lost (an input with no document);
doubled (a document that reached a final state more than once); stuck (still `processing` 180 s
after the chaos ended); parked (quarantined by the queue after too many starts); and the longest
time from a worker kill to the final state of a document that worker held (from the document's
last kill; a document killed twice is also reported from its first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queue_rig import BIN, ROOT, Rig, Worker  # noqa: E402
from pipeline.ingest import sha256_file  # noqa: E402
from pipeline.store import FINAL_STATUSES  # noqa: E402

DEMO = ROOT / "samples" / "demo"
SETTLE_S = 180  # after the chaos ends, every document must be final within this


# --------------------------------------------------------------------------- inputs


def with_nonce(src: Path, dst: Path, nonce: bytes) -> Path:
    """A copy of `src` with distinct bytes that every reader ignores."""
    data = src.read_bytes()
    ext = src.suffix.lower()
    if ext == ".png":
        body = b"tEXt" + b"nonce\x00" + nonce
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        data = data[:-12] + chunk + data[-12:]  # before IEND
    elif ext in (".jpg", ".jpeg"):
        com = b"\xff\xfe" + struct.pack(">H", len(nonce) + 2) + nonce
        data = data[:2] + com + data[2:]  # a comment segment right after SOI
    else:  # PDF (after %%EOF) and TIFF (after the last IFD)
        data = data + b"\n%nonce " + nonce + b"\n"
    dst.write_bytes(data)
    return dst


def make_inputs(folder: Path, rng: random.Random) -> tuple[list[Path], list[Path]]:
    """60 distinct scans and 5 bad files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    demo = sorted(p for p in DEMO.iterdir() if p.suffix.lower() in (".png", ".jpg", ".pdf", ".tiff"))
    scans = [
        with_nonce(
            demo[i % len(demo)], folder / f"scan_{i:03d}{demo[i % len(demo)].suffix}", uuid.uuid4().bytes
        )
        for i in range(60)
    ]
    bad = [shutil.copy(p, folder / f"bad_{p.name}") for p in sorted((DEMO / "bad").iterdir())]
    junk = folder / "bad_random.tif"
    junk.write_bytes(rng.randbytes(4096))
    return scans, [Path(p) for p in bad] + [junk]


def slow_copy(src: Path, dst: Path, chunks: int = 6, pause: float = 0.9) -> None:
    data = src.read_bytes()
    step = max(1, len(data) // chunks + 1)
    with dst.open("wb") as f:
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            time.sleep(pause)


# --------------------------------------------------------------------------- the deployment


class Watch:
    def __init__(self, rig: Rig, inbox: Path) -> None:
        self.rig, self.inbox, self.proc = rig, inbox, None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "shinsei"), "watch", str(self.inbox)], cwd=ROOT, env=self.rig.env,
            stdout=subprocess.DEVNULL, stderr=(self.rig.workdir / "watch.log").open("ab"),
        )  # fmt: skip

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def held_by(store, pids: list[int]) -> list[str]:
    """Documents whose live claim is held by one of `pids` (the processes about to be killed)."""
    tails = {f":{p}" for p in pids}
    return [
        d.sha256 for d in store.in_flight() if d.claimed_by and any(d.claimed_by.endswith(t) for t in tails)
    ]


def one_run(run_no: int, seed: int, kill_every: float, keep: bool) -> dict:
    rng = random.Random(seed + run_no)
    work = Path(tempfile.mkdtemp(prefix=f"shinsei-chaos-deploy-{run_no}-"))
    scans, bad = make_inputs(work / "inputs", rng)
    inputs = scans + bad
    shas = {p.name: sha256_file(p) for p in inputs}
    rig = Rig(work, aof=True)
    inbox = work / "inbox"
    inbox.mkdir()
    events: list[str] = []
    kills: Counter[str] = Counter()
    victims: list[tuple[str, float, list[str]]] = []  # (what, unix time of the kill, documents it held)
    t0 = time.monotonic()

    def note(msg: str) -> None:
        events.append(f"{time.monotonic() - t0:6.1f} s  {msg}")

    try:
        workers: list[Worker] = [rig.worker("w1", 1), rig.worker("w2", 1)]
        for w in workers:
            w.wait_ready(300)
        watch = Watch(rig, inbox)
        store = rig.store()
        t0 = time.monotonic()
        # the drop plan: bursts of 8-12 files every 6-10 s; dups and slow writes mixed in
        order = inputs[:]
        rng.shuffle(order)
        slow = set(rng.sample(scans, 6))
        dups = rng.sample([s for s in scans if s not in slow], 5)
        plan: list[tuple[Path, str, bool]] = [(p, p.name, p in slow) for p in order]
        for i, d in enumerate(dups):
            plan.insert(rng.randrange(len(plan) // 2, len(plan)), (d, f"copy_{i}_{d.name}", False))
        bursts: list[list[tuple[Path, str, bool]]] = []
        while plan:
            n = rng.randint(8, 12)
            bursts.append(plan[:n])
            plan = plan[n:]
        writers: list[threading.Thread] = []
        done_dropping = threading.Event()

        def dropper() -> None:
            for burst in bursts:
                for src, name, is_slow in burst:
                    if is_slow:
                        th = threading.Thread(target=slow_copy, args=(src, inbox / name), daemon=True)
                        th.start()
                        writers.append(th)
                    else:
                        shutil.copy(src, inbox / name)
                time.sleep(rng.uniform(6, 10))
            for th in writers:
                th.join()
            done_dropping.set()

        drops = threading.Thread(target=dropper, daemon=True)
        drops.start()
        next_kill = time.monotonic() + kill_every * rng.uniform(0.7, 1.3)
        redis_at = time.monotonic() + rng.uniform(20, 35)
        watch_at = time.monotonic() + rng.uniform(35, 50)
        main_next = True
        chaos_until: float | None = None
        while chaos_until is None or time.monotonic() < chaos_until:
            time.sleep(0.2)
            now = time.monotonic()
            if chaos_until is None and done_dropping.is_set():
                chaos_until = now + 20
            if redis_at and now >= redis_at:
                redis_at = 0
                before = [d.sha256 for d in store.in_flight()]
                rig.redis.kill()
                kills["redis"] += 1
                note(f"Redis killed with -9 ({len(before)} documents processing)")
                time.sleep(2)
                rig.redis.start()
                note("Redis restarted (AOF)")
                victims.append(("redis", time.time() - 2, before))
            if watch_at and now >= watch_at:
                watch_at = 0
                watch.kill()
                kills["watch"] += 1
                note("shinsei watch killed with -9")
                time.sleep(2)
                watch.start()
                note("shinsei watch restarted")
            if now < next_kill:
                continue
            next_kill = now + kill_every * rng.uniform(0.7, 1.3)
            up = [w for w in workers if w.proc.poll() is None and w.children()]
            if not up:
                continue
            w = rng.choice(up)
            if main_next:
                pids = w.children()
                held = held_by(store, pids)
                at = time.time()
                w.kill_main()
                time.sleep(0.5)
                w.kill_all()  # what systemd does with the rest of a unit whose main process died
                kills["main process"] += 1
                victims.append((f"main {w.name}", at, held))
                note(
                    f"killed the main process of {w.name} with -9 (held {len(held)} document(s)); restart in 2 s"
                )
                time.sleep(2)
                w.start()
            else:
                pid = rng.choice(w.children())
                held = held_by(store, [pid])
                at = time.time()
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                kills["pool process"] += 1
                victims.append((f"pool {w.name}", at, held))
                note(f"killed pool process {pid} of {w.name} with -9 (held {len(held)} document(s))")
            main_next = not main_next
        note("chaos over")
        chaos_end = time.monotonic()
        want = set(shas.values())

        def final_count() -> int:
            return sum(s.status in FINAL_STATUSES for s in store.document_states(list(want)).values())

        while time.monotonic() - chaos_end < SETTLE_S and final_count() < len(want):
            time.sleep(1)
        note(f"settled: {final_count()}/{len(want)} final")
        result = measure(rig, store, shas, victims, inbox)
        result |= {
            "run": run_no,
            "kills": dict(kills),
            "events": events,
            "elapsed_s": round(time.monotonic() - t0, 1),
            "workdir": str(work),
        }
        watch.stop()
        store.close()
        return result
    finally:
        rig.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(rig: Rig, store, shas: dict[str, str], victims: list, inbox: Path) -> dict:
    from sqlalchemy import select

    from pipeline.store.tables import DocumentRow, StatusHistory

    final_to = FINAL_STATUSES - {"exported"}
    with store.session() as s:
        docs = {r.sha256: r for r in s.scalars(select(DocumentRow))}
        reached: dict[int, list[datetime]] = {}
        for doc_id, at in s.execute(
            select(StatusHistory.document_id, StatusHistory.at).where(
                StatusHistory.from_status == "processing", StatusHistory.to_status.in_(final_to)
            )
        ):
            reached.setdefault(doc_id, []).append(at)
    want = set(shas.values())
    lost = sorted(want - set(docs))
    doubled = [sha for sha in want & set(docs) if len(reached.get(docs[sha].id, [])) > 1]
    stuck = [sha for sha in want & set(docs) if docs[sha].status == "processing"]
    parked = [sha for sha in want & set(docs) if docs[sha].reason == "processing_failed"]
    final = [
        sha
        for sha in want & set(docs)
        if docs[sha].status in FINAL_STATUSES and len(reached.get(docs[sha].id, [])) == 1
    ]
    # kill -> final, per document a killed worker held: from its last kill (the death it had to
    # recover from) and from its first (a document killed twice pays for both)
    kill_times: dict[str, list[float]] = {}
    redis_waits: list[float] = []
    for what, at, held in victims:
        for sha in held:
            row = docs.get(sha)
            done = (
                max(reached[row.id]).timestamp() if row is not None and reached.get(row.id) else float("inf")
            )
            if what == "redis":
                redis_waits.append(done - at)
            else:
                kill_times.setdefault(sha, []).append(at)
    last, first = [], []
    for sha, times in kill_times.items():
        row = docs.get(sha)
        done = max(reached[row.id]).timestamp() if row is not None and reached.get(row.id) else float("inf")
        last.append(done - max(times))
        first.append(done - min(times))
    return {
        "inputs": len(want),
        "final_once": len(final),
        "lost": len(lost),
        "doubled": len(doubled),
        "stuck": len(stuck),
        "parked": len(parked),
        "statuses": dict(Counter(r.status for r in docs.values())),
        "starts": dict(sorted(Counter(str(r.task_attempts) for r in docs.values()).items())),
        "killed_documents": len(kill_times),
        "killed_twice": sum(len(t) > 1 for t in kill_times.values()),
        "longest_kill_to_final_s": round(max(last, default=0.0), 1),
        "longest_first_kill_to_final_s": round(max(first, default=0.0), 1),
        "longest_redis_to_final_s": round(max(redis_waits, default=0.0), 1),
        "inbox_left": sorted(p.name for p in inbox.iterdir()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--kill-every", type=float, default=8.0)
    ap.add_argument("--keep", action="store_true", help="keep each run's folder (logs, data)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for n in range(1, args.runs + 1):
        r = one_run(n, args.seed, args.kill_every, args.keep)
        results.append(r)
        if not args.json:
            for line in r["events"]:
                print("   ", line, flush=True)
            print(f"run {n}: statuses {r['statuses']}, starts per document {r['starts']}", flush=True)
    ok = all(
        r["final_once"] == r["inputs"] and r["lost"] == r["doubled"] == r["stuck"] == 0
        and r["longest_kill_to_final_s"] <= 120 and not r["inbox_left"]
        for r in results
    )  # fmt: skip
    if args.json:
        print(json.dumps({"runs": results, "ok": ok}, ensure_ascii=False, indent=1))
        return 0 if ok else 1
    print()
    print(
        "| run | in one final state | lost | doubled | stuck | parked | kills (main / pool) | "
        "killed documents (twice) | longest kill → final | … from a twice-killed one's first kill | "
        "Redis kill → final | run time |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        k = r["kills"]
        print(
            f"| {r['run']} | {r['final_once']}/{r['inputs']} | {r['lost']} | {r['doubled']} | {r['stuck']} | "
            f"{r['parked']} | {k.get('main process', 0)} / {k.get('pool process', 0)} | "
            f"{r['killed_documents']} ({r['killed_twice']}) | {r['longest_kill_to_final_s']} s | "
            f"{r['longest_first_kill_to_final_s']} s | {r['longest_redis_to_final_s']} s | "
            f"{r['elapsed_s']} s |"
        )
    print()
    print("OK: every input in exactly one final state, none lost, doubled or stuck" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
