"""`shinsei run PATH...`: process files or folders in-process (embedded mode) and summarise.

Each file is identified by its sha256: a file already in the store is skipped, so running the
same folder twice processes nothing twice. Originals are copied into the data directory before
anything else happens, and a file that cannot be read is copied to quarantine with its reason;
the clerk's own files are never moved or deleted. With `SHINSEI_BROKER_URL` set, the files are
queued to the Celery workers instead and followed with the same progress bar until done.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from pipeline.intake import follow
from pipeline.intake.receive import process_received, receive
from pipeline.result import Route
from pipeline.run import Engine
from pipeline.settings import Settings
from pipeline.store import DocState, open_store

SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="process scans (files or folders) now, in this process")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON line per document on stdout")
    p.set_defaults(func=run)


def expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.name not in SKIP_NAMES
                and not f.name.startswith(".")
                and f.suffix != ".json"
            )
        elif p.exists():
            files.append(p)
        else:
            print(f"shinsei: {p}: no such file or folder", file=sys.stderr)
    return files


def run(args: argparse.Namespace, settings: Settings) -> int:
    import json

    files = expand(args.paths)
    if not files:
        print("shinsei: nothing to process", file=sys.stderr)
        return 2
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.broker_url:  # queue to the workers and follow progress (pipeline/intake/follow.py)
        started = time.monotonic()
        counts, pages = run_via_broker(files, settings, args.json)
        print_summary(counts, pages, time.monotonic() - started, data_dir, args.json)
        return 0
    store = open_store(settings)
    engine = Engine.load(settings)
    counts: Counter[str] = Counter()
    pages = 0
    started = time.monotonic()
    bar = tqdm(files, unit="file", disable=not sys.stderr.isatty(), file=sys.stderr)
    for path in bar:
        bar.set_postfix_str(path.name[-30:])
        rec = receive(path, data_dir, store)
        if rec.already_done:
            counts["already done"] += 1
            continue
        doc = process_received(rec, engine, store, data_dir)
        if doc.route == Route.quarantined:
            print(f"quarantined {path.name}: {doc.message}", file=sys.stderr)
        else:
            pages += len(doc.pages)
        counts[str(doc.route)] += 1
        if args.json:
            print(
                json.dumps(
                    {"file": path.name, "sha256": rec.sha256, "route": str(doc.route), "reason": doc.reason},
                    ensure_ascii=False,
                )
            )
    print_summary(counts, pages, time.monotonic() - started, data_dir, args.json)
    if settings.delivery_targets:  # embedded mode: the outbox relay runs here (pipeline/intake/relay.py)
        from pipeline.intake.relay import Relay

        relay = Relay(store, settings)
        try:
            st = relay.drain()
        finally:
            relay.close()
        print(
            f"delivery: {st.verified} verified, {st.rejected} back to review, {st.failed} failed, "
            f"{st.retry_later} waiting to retry, {st.unknown} unknown (`shinsei outbox list`)",
            file=sys.stderr,
        )
    return 0


def run_via_broker(files: list[Path], settings: Settings, json_lines: bool) -> tuple[Counter[str], int]:
    """`shinsei run` with a broker: submit every file, enqueue the new ones, then follow them in the
    store with a progress bar until each is in a final state. Returns (counts by route, pages)."""
    import json

    from workers.tasks import enqueue_document, queue_depth

    store = open_store(settings)
    counts: Counter[str] = Counter()
    waiting = follow.submit_all(files, settings, store, enqueue_document, counts)
    bar = tqdm(total=len(waiting), unit="file", disable=not sys.stderr.isatty(), file=sys.stderr)

    def finished(name: str, sha: str, st: DocState) -> None:
        bar.update(1)
        if json_lines:
            route = st.route or st.status
            print(
                json.dumps(
                    {"file": name, "sha256": sha, "route": route, "reason": st.reason}, ensure_ascii=False
                )
            )

    def warn(message: str) -> None:
        print(f"shinsei: {message}", file=sys.stderr)

    pages = follow.follow(waiting, settings, store, enqueue_document, queue_depth, counts, finished, warn)
    bar.close()
    return counts, pages


def print_summary(counts: Counter[str], pages: int, elapsed: float, data_dir: Path, json_lines: bool) -> None:
    docs = sum(v for k, v in counts.items() if k != "already done")
    out = sys.stderr if json_lines else sys.stdout
    print("", file=out)
    print(f"documents      {docs}", file=out)
    print(f"pages          {pages}", file=out)
    print(f"straight through {counts[str(Route.accepted)]}", file=out)
    print(f"in review      {counts[str(Route.review)] + counts[str(Route.unknown_form)]}", file=out)
    print(f"quarantined    {counts[str(Route.quarantined)]}", file=out)
    if counts["already done"]:
        print(f"already done   {counts['already done']} (same file seen before; skipped)", file=out)
    print(f"pages/min      {pages / elapsed * 60 if elapsed > 0 else 0:.1f}", file=out)
    print(f"data           {data_dir.resolve()}", file=out)
