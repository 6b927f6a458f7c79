"""Pages per minute through Redis with 1 and 2 worker processes, and peak RSS per worker process.

    python bench/throughput.py [--n 80] [--seed 11] [--json]

For each configuration: a fresh private Redis (AOF on, as in docs/deploy.md), a fresh PostgreSQL
database. The N generated application scans (samples.generate, single-page PNG/JPEG at scanner
resolutions) are queued with `shinsei run DIR` in broker mode — a deadline burst waiting in Redis —
then one `celery -A workers worker -c N` is started and drains the queue while `shinsei run`
follows. Throughput is pages over the time from the first document a worker claimed to the last one
stored, read from the database (so submission, done once by the enqueuer, is not counted against
the workers). Peak RSS is each pool process's VmHWM (kernel high-water mark), sampled every 0.2 s. "Other load" is the machine's busy CPU during
the run minus the worker's own, in cores: PostgreSQL, Redis and `shinsei run` take a little; much
more means another job shared the machine, and the run says so.

Each configuration runs `--repeat` times (default 2) and the best run is reported: on a shared
machine another job can only slow a run down. Configurations: 1 process with 1 OCR thread, 1 process with 2 threads (what `-c 1` gets on a
2-core machine), and 2 processes with 1 thread each (what `-c 2` gets).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.queue_rig import Rig, rss_kb, samples, wait_for  # noqa: E402

CONFIGS = (
    ("1 process × 1 thread", 1, {"SHINSEI_OCR_THREADS": "1"}),
    ("1 process × 2 threads", 1, {"SHINSEI_OCR_THREADS": "2"}),
    ("2 processes × 1 thread", 2, {}),
)


class RssSampler(threading.Thread):
    """Peak VmHWM of every pool process of a worker (children come and go)."""

    def __init__(self, worker) -> None:
        super().__init__(daemon=True)
        self.worker = worker
        self.peak: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self.worker.children():
                _, hwm = rss_kb(pid)
                self.peak[pid] = max(self.peak.get(pid, 0), hwm)
            self.stop.wait(0.2)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = f[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def tree_cpu_s(pid: int, children: list[int]) -> float:
    """CPU seconds of a worker: its main process, its finished children, its live children."""
    total = 0.0
    for p, with_children in [(pid, True), *((c, False) for c in children)]:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        utime, stime, cutime, cstime = (int(x) for x in f[11:15])
        total += (utime + stime + (cutime + cstime if with_children else 0)) / TICK
    return total


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(
    label: str, concurrency: int, env: dict[str, str], inputs: Path, n_files: int, work: Path
) -> dict:
    rig = Rig(work, aof=True, extra_env=env)
    try:
        run = rig.shinsei("run", str(inputs))  # submits and queues everything, then follows
        store = rig.store()
        wait_for(
            lambda: store.counts_by_status().get("processing", 0) == n_files,
            600,
            "the queue to fill",
            every=0.5,
        )
        busy0, t0 = cpu_busy_s(), time.monotonic()
        w = rig.worker("w1", concurrency)  # a burst waits in Redis; the worker drains it
        sampler = RssSampler(w)
        sampler.start()
        run.communicate(timeout=3600)
        worker_cpu = tree_cpu_s(w.proc.pid, w.children())
        other_cores = (cpu_busy_s() - busy0 - worker_cpu) / (time.monotonic() - t0)
        if run.returncode != 0:
            raise RuntimeError(f"shinsei run failed; see {rig.workdir / 'shinsei.log'}")
        time.sleep(0.5)
        sampler.stop.set()
        sampler.join()
        from sqlalchemy import func, select

        from pipeline.store.tables import DocumentRow, PageRow

        with store.session() as s:
            t0, t1, docs = s.execute(
                select(func.min(DocumentRow.claimed_at), func.max(DocumentRow.updated_at), func.count())
            ).one()
            pages = s.scalar(select(func.count(PageRow.id)))
            routes = dict(
                s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status)).all()
            )
        store.close()
        seconds = (t1 - t0).total_seconds()
        peaks = sorted(sampler.peak.values(), reverse=True)
        return {
            "config": label,
            "processes": concurrency,
            "documents": docs,
            "pages": pages,
            "seconds": round(seconds, 1),
            "pages_per_min": round(pages / seconds * 60, 1),
            "peak_rss_mb_per_process": [round(p / 1024) for p in peaks[:concurrency]],
            "statuses": routes,
            "other_cores_busy": round(other_cores, 2),  # everything but the worker: neighbours, DB, Redis
        }
    finally:
        rig.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=80, help="files (one page each)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=2, help="runs per configuration; the best is reported")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--inputs", type=Path, default=Path(__file__).resolve().parent / "out" / "throughput_inputs"
    )
    args = ap.parse_args()
    files = samples(args.inputs, args.n, args.seed, formats="png,jpg")
    work = Path(tempfile.mkdtemp(prefix="shinsei-throughput-"))
    rows = []
    for i, (label, c, env) in enumerate(CONFIGS):
        # Best of --repeat: the machine may be shared, and a neighbour's burst only ever slows a run down.
        runs = [
            measure(label, c, env, args.inputs, len(files), work / f"c{i}r{r}") for r in range(args.repeat)
        ]
        best = max(runs, key=lambda r: r["pages_per_min"])
        best["all_pages_per_min"] = [r["pages_per_min"] for r in runs]
        best["peak_rss_mb_per_process"] = max(r["peak_rss_mb_per_process"] for r in runs)
        rows.append(best)
    base = rows[0]["pages_per_min"]
    for r in rows:
        r["vs_1x1"] = round(r["pages_per_min"] / base, 2)
    info = {
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "date": datetime.now().strftime("%Y-%m-%d"),
        "inputs": f"{len(files)} single-page scans (samples.generate seed {args.seed}, png/jpg)",
        "rows": rows,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    print(f"{info['machine']} — {info['date']} — {info['inputs']}")
    print()
    cols = ["workers", "pages", "seconds", "pages/min (best)", "all runs", "× 1 process × 1 thread"]
    cols += ["peak RSS per process (MB)", "other load (cores)"]
    print("| " + " | ".join(cols) + " |")
    print("|---|---:|---:|---:|---|---:|---|---:|")
    for r in rows:
        rss = ", ".join(str(x) for x in r["peak_rss_mb_per_process"])
        runs = ", ".join(str(x) for x in r["all_pages_per_min"])
        cells = [
            r["config"],
            r["pages"],
            r["seconds"],
            r["pages_per_min"],
            runs,
            r["vs_1x1"],
            rss,
            r["other_cores_busy"],
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
