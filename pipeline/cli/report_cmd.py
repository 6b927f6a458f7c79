"""`shinsei report [--date D]`: write the morning report (HTML, XLSX, CSV) for a day to
DATA_DIR/reports/<day>/ (or --out) and print where it went.

By hand the default day is today so far (local time, settings.timezone); the nightly batch writes
the day it closes (yesterday).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date
from pathlib import Path

from pipeline.report import run_report
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.tables import utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the morning report for supervisors (HTML, XLSX, CSV)")
    p.add_argument("--date", type=date.fromisoformat, default=None, help="day, YYYY-MM-DD (default: today)")
    p.add_argument("--out", type=Path, default=None, help="folder (default: DATA_DIR/reports/<day>)")
    p.add_argument("--json", action="store_true", help="print the files written as JSON")
    p.set_defaults(func=report)


def _today(settings: Settings) -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(settings.timezone)).date()


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def report(args: argparse.Namespace, settings: Settings) -> int:
    day = args.date or _today(settings)
    store = open_store(settings)
    try:
        rep, files = run_report(settings, store, day, actor=_actor(), folder=args.out)
    finally:
        store.close()
    if args.json:
        out = {
            "day": day.isoformat(),
            "html": str(files.html),
            "xlsx": str(files.xlsx),
            "csv": [str(p) for p in files.csvs],
            "seconds": {k: round(v, 3) for k, v in rep.seconds.items()},
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(files.html)
        print(
            f"report for {day}: {files.folder} (report.html, report.xlsx, {len(files.csvs)} CSV)",
            file=sys.stderr,
        )
    return 0
