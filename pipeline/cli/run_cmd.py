"""`shinsei run PATH...`: process files or folders in-process (embedded mode) and summarise.

Each file is identified by its sha256: a file already in the store is skipped, so running the
same folder twice processes nothing twice. Originals are copied into the data directory before
anything else happens, and a file that cannot be read is copied to quarantine with its reason;
the clerk's own files are never moved or deleted. With `SHINSEI_BROKER_URL` set, the files are
queued to the Celery workers instead and followed with the same progress bar until done.

Each file goes through the per-file guard (`pipeline/intake/guard.py`): a file that fails in an
unexpected way is quarantined as `internal_error` and the run goes on. Folders are read
recursively, leaving out `*.json` (ground truth, metadata), hidden and system files, and the run
says how many it left out. A path that does not exist is reported, the rest is processed, and the
exit status is 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from pipeline.errors import ExitCode
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


@dataclass
class Expanded:
    files: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)  # given paths that do not exist
    skipped: Counter[str] = field(default_factory=Counter)  # in folders, never read: why -> count


def expand(paths: list[Path]) -> Expanded:
    """The files to read: each file given, and every file in each folder given (recursively) except
    ground-truth/metadata `*.json`, hidden files and folders (`.x`) and system files (Thumbs.db);
    those are counted in `skipped`. A file named on the command line is always read."""
    out = Expanded()
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file():
                    continue
                rel = f.relative_to(p).parts
                if f.name in SKIP_NAMES:
                    out.skipped["system files"] += 1
                elif any(part.startswith(".") for part in rel):
                    out.skipped["hidden (.*)"] += 1
                elif f.suffix.lower() == ".json":
                    out.skipped["*.json"] += 1
                else:
                    out.files.append(f)
        elif p.exists():
            out.files.append(p)
        else:
            out.missing.append(p)
    return out


def run(args: argparse.Namespace, settings: Settings) -> int:
    import json

    found = expand(args.paths)
    for p in found.missing:
        print(f"shinsei: {p}: no such file or folder", file=sys.stderr)
    if found.skipped:
        what = ", ".join(f"{n} {why}" for why, n in sorted(found.skipped.items()))
        print(f"shinsei: skipped in folders: {what} (name a file to read it anyway)", file=sys.stderr)
    files = found.files
    if not files:
        print("shinsei: nothing to process", file=sys.stderr)
        return int(ExitCode.bad_args)
    # A path given but missing means a typo: the rest is processed, and the exit status says so.
    status = int(ExitCode.bad_args) if found.missing else 0
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if settings.broker_url:  # queue to the workers and follow progress (pipeline/intake/follow.py)
        started = time.monotonic()
        counts, pages = run_via_broker(files, settings, args.json)
        print_summary(counts, pages, time.monotonic() - started, data_dir, args.json)
        return int(ExitCode.input_file) if counts["not read"] else status
    store = open_store(settings)
    engine = Engine.load(settings)
    counts: Counter[str] = Counter()
    pages = 0
    started = time.monotonic()
    bar = tqdm(files, unit="file", disable=not sys.stderr.isatty(), file=sys.stderr)
    for path in bar:
        bar.set_postfix_str(path.name[-30:])
        try:
            rec = receive(path, data_dir, store)
        except OSError as exc:  # unreadable (permissions, gone meanwhile): nothing stored, go on
            print(
                f"shinsei: {path}: cannot read ({type(exc).__name__}: {exc.strerror or exc})", file=sys.stderr
            )
            counts["not read"] += 1
            status = int(ExitCode.input_file)
            continue
        if rec.already_done:
            counts["already done"] += 1
            continue
        doc = process_received(rec, engine, store, data_dir)  # guarded: one file never stops the batch
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
    return status


def run_via_broker(files: list[Path], settings: Settings, json_lines: bool) -> tuple[Counter[str], int]:
    """`shinsei run` with a broker: submit every file, enqueue the new ones, then follow them in the
    store with a progress bar until each is in a final state. Returns (counts by route, pages)."""
    import json

    from workers.tasks import enqueue_document, queue_depth

    store = open_store(settings)
    counts: Counter[str] = Counter()

    def warn(message: str) -> None:
        print(f"shinsei: {message}", file=sys.stderr)

    waiting = follow.submit_all(files, settings, store, enqueue_document, counts, warn)
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

    pages = follow.follow(waiting, settings, store, enqueue_document, queue_depth, counts, finished, warn)
    bar.close()
    return counts, pages


def print_summary(counts: Counter[str], pages: int, elapsed: float, data_dir: Path, json_lines: bool) -> None:
    """Counts under the names `shinsei status` uses, so the two agree."""
    docs = sum(v for k, v in counts.items() if k not in ("already done", "not read"))
    out = sys.stderr if json_lines else sys.stdout
    print("", file=out)
    print(f"documents      {docs}", file=out)
    print(f"pages          {pages}", file=out)
    print(f"accepted       {counts[str(Route.accepted)]} (straight through)", file=out)
    print(f"review         {counts[str(Route.review)]}", file=out)
    if counts[str(Route.unknown_form)]:
        print(f"unknown_form   {counts[str(Route.unknown_form)]} (no form matched; for a person)", file=out)
    print(f"quarantined    {counts[str(Route.quarantined)]}", file=out)
    if counts["already done"]:
        print(f"already done   {counts['already done']} (same file seen before; skipped)", file=out)
    if counts["not read"]:
        print(f"not read       {counts['not read']} (could not be opened; see above)", file=out)
    if pages and elapsed > 0:  # a rate over quarantines and skips alone would mean nothing
        print(f"pages/min      {pages / elapsed * 60:.1f}", file=out)
    print(f"data           {data_dir.resolve()}", file=out)
