"""Delivery speed per target, and a chaos run for the RPA target.

    python -m bench.delivery [--targets csv,fixed,sql_sqlite,sql_pg,sql_maria,rpa] [--n 3000] [--n-sql 500] [--n-rpa 60]
    python -m bench.delivery --chaos [--chaos-n 500] [--kill-every 20] [--seed 7]

Speed: N accepted records (the bundled samples' values, each saved as its own document) are put in
the outbox of a fresh SQLite store, then one relay drains them; the time counted is the drain alone
(render, send, receipt, read-back verification, outbox updates and audit rows), printed as records
per minute. RPA uses one headless Chromium against legacy-sim on a port of 8800-8849.

Chaos: N records for legacy-sim (with 5% of its responses 1 s slow); the delivery worker
(`shinsei outbox run --watch`, with its browser, in its own process group) is killed with SIGKILL
every ~kill_every s (±30%) and started again; once, when a third are verified, legacy-sim itself is
stopped and started again. At the end every outbox row must be verified and every record must be in
legacy-sim exactly once (checked in its own SQLite by 外部参照番号).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from legacy_sim.process import SimProcess, free_port  # noqa: E402
from pipeline.intake.relay import Relay  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import open_store  # noqa: E402
from pipeline.store.outbox import Outbox  # noqa: E402
from tests.integration.delivery_data import accept, maria_database, pg_database, sample_values  # noqa: E402

PORTS = (8800, 8849)


@contextmanager
def _sql_url(kind: str, work: Path) -> Iterator[str]:
    if kind == "sql_pg":
        yield from pg_database()
    elif kind == "sql_maria":
        yield from maria_database()
    else:
        yield f"sqlite:///{work / 'city.sqlite3'}"


def _fill(store: Any, n: int) -> float:
    samples = [v for _, v in sample_values()]
    t = time.perf_counter()
    for i in range(n):
        accept(store, samples[i % len(samples)], f"bench_{i}.png")
    return time.perf_counter() - t


def speed(target: str, n: int) -> dict[str, Any]:
    profile = {"csv": "nursery_csv", "fixed": "nursery_fixed", "rpa": "nursery_rpa"}.get(
        target, "nursery_sql"
    )
    with tempfile.TemporaryDirectory(prefix=f"shinsei-bench-{target}-") as tmp:
        work = Path(tmp)
        sim = SimProcess(work / "legacy.sqlite3", free_port(*PORTS)).start() if target == "rpa" else None
        try:
            with _sql_url(target, work) as url:
                options = {"nursery_sql": {"url": url}}
                if sim is not None:
                    options = {"nursery_rpa": {"url": sim.url}}
                settings = Settings(
                    data_dir=work / "data", delivery_targets=[profile], delivery_options=options
                )
                store = open_store(settings)
                fill_s = _fill(store, n)
                relay = Relay(store, settings)
                if sim is not None:
                    relay.adapter(profile).page()  # the browser is started once per worker, not per record
                t = time.perf_counter()
                stats = relay.drain()
                took = time.perf_counter() - t
                relay.close()
                store.close()
        finally:
            if sim is not None:
                sim.stop()
    return {
        "target": target,
        "records": n,
        "seconds": round(took, 2),
        "per_min": round(n / took * 60),
        "verified": stats.verified,
        "failed": stats.failed + stats.rejected,
        "setup_s": round(fill_s, 1),
    }


def chaos(n: int, kill_every: float, seed: int, timeout_s: float) -> dict[str, Any]:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="shinsei-chaos-"))
    sim = SimProcess(
        work / "legacy.sqlite3",
        free_port(*PORTS),
        "--slow-rate",
        "0.05",
        "--slow-s",
        "1",
        "--seed",
        str(seed),
    ).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env |= {
        "SHINSEI_DATA_DIR": str(work / "data"),
        "SHINSEI_DELIVERY_TARGETS": "nursery_rpa",
        "SHINSEI_DELIVERY_OPTIONS": json.dumps({"nursery_rpa": {"url": sim.url}}),
        "SHINSEI_DELIVERY_LEASE_S": "30",  # a killed sender's rows are reconciled after 30 s
        "SHINSEI_DELIVERY_RETRY_AFTER_S": "2",
        "SHINSEI_DELIVERY_RETRY_WAIT_MAX_S": "2",
        "PYTHONPATH": str(ROOT),
    }
    settings = Settings(
        data_dir=work / "data",
        delivery_targets=["nursery_rpa"],
        delivery_options={"nursery_rpa": {"url": sim.url}},
    )
    store = open_store(settings)
    _fill(store, n)
    outbox = Outbox(store)
    log = (work / "worker.log").open("ab")

    def start() -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "pipeline.cli.main", "outbox", "run", "--watch", "--interval", "0.5"]
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)

    def verified() -> int:
        return outbox.counts().get(("nursery_rpa", "verified"), 0)

    events: list[str] = []
    kills, sim_restarted = 0, False
    t0 = time.monotonic()
    worker = start()
    next_kill = t0 + kill_every * rng.uniform(0.7, 1.3)
    try:
        while verified() < n and time.monotonic() - t0 < timeout_s:
            time.sleep(0.2)
            now = time.monotonic()
            if not sim_restarted and verified() >= n // 3:
                sim.stop()
                events.append(f"{now - t0:6.1f}s legacy-sim stopped")
                time.sleep(3)
                sim.start()
                sim_restarted = True
                events.append(f"{time.monotonic() - t0:6.1f}s legacy-sim started again")
            if now >= next_kill:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                kills += 1
                events.append(f"{now - t0:6.1f}s delivery worker killed (-9), {verified()} verified")
                worker = start()
                next_kill = time.monotonic() + kill_every * rng.uniform(0.7, 1.3)
        took = time.monotonic() - t0
        states = Counter(d.state for d in outbox.list(limit=1_000_000))
        keys = {d.key for d in outbox.list(limit=1_000_000)}
        in_sim = Counter(k for _, k in sim.rows())
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        sim.stop()
        store.close()
    return {
        "records": n,
        "seconds": round(took, 1),
        "per_min": round(n / took * 60, 1),
        "worker_kills": kills,
        "legacy_sim_restarts": int(sim_restarted),
        "states": dict(states),
        "in_legacy_sim": len(in_sim),
        "duplicates": sum(c - 1 for c in in_sim.values() if c > 1),
        "missing": len(keys - set(in_sim)),
        "exactly_once": states.get("verified", 0) == n
        and set(in_sim) == keys
        and max(in_sim.values(), default=0) == 1,
        "events": events,
        "work_dir": str(work),
    }


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    out = ["  ".join(c.rjust(widths[c]) for c in cols)]
    out += ["  ".join(str(r[c]).rjust(widths[c]) for c in cols) for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default="csv,fixed,sql_sqlite,sql_pg,sql_maria,rpa")
    p.add_argument("--n", type=int, default=3000, help="records for the file targets")
    p.add_argument("--n-sql", type=int, default=500)
    p.add_argument("--n-rpa", type=int, default=60)
    p.add_argument("--chaos", action="store_true")
    p.add_argument("--chaos-n", type=int, default=500)
    p.add_argument("--kill-every", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.chaos:
        r = chaos(a.chaos_n, a.kill_every, a.seed, a.timeout)
        if a.json:
            print(json.dumps(r, ensure_ascii=False, indent=1))
        else:
            print("\n".join(r.pop("events")))
            print(
                _table(
                    [{k: v for k, v in r.items() if k not in ("states", "work_dir")}],
                    [k for k in r if k not in ("states", "work_dir")],
                )
            )
            print("states:", r["states"])
        return 0 if r["exactly_once"] else 1
    rows = []
    for t in a.targets.split(","):
        n = a.n_rpa if t == "rpa" else a.n_sql if t.startswith("sql") else a.n
        rows.append(speed(t, n))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if a.json:
        print(json.dumps(rows, indent=1))
    else:
        print(_table(rows, ["target", "records", "seconds", "per_min", "verified", "failed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
