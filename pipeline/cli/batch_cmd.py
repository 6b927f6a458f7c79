"""`shinsei batch nightly`: run the nightly steps now (see pipeline/intake/nightly.py)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from pipeline.cli.common import enqueuer, info_logging
from pipeline.intake import nightly
from pipeline.settings import Settings
from pipeline.store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="batch jobs")
    bsub = p.add_subparsers(dest="batch_command", required=True)
    q = bsub.add_parser("nightly", help="run the nightly steps now: " + ", ".join(nightly.step_names()))
    q.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="day to close, YYYY-MM-DD: a calendar day in SHINSEI_TIMEZONE (default Asia/Tokyo), "
        "whatever the machine's own time zone (default: yesterday there)",
    )
    q.add_argument(
        "--step",
        action="append",
        default=None,
        choices=nightly.step_names(),
        help="run only this step (repeatable)",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=batch_nightly)


def batch_nightly(args: argparse.Namespace, settings: Settings) -> int:
    info_logging()
    store = open_store(settings)
    run = nightly.run_nightly(settings, store, enqueuer(settings, store), day=args.date, only=args.step)
    if args.json:
        print(json.dumps(run.export(), ensure_ascii=False))
    elif run.skipped:
        print(f"nightly batch for {run.day}: skipped ({run.skipped})", file=sys.stderr)
    else:
        print(f"nightly batch for {run.day} ({settings.timezone})")
        for s in run.steps:
            detail = ", ".join(f"{k} {v}" for k, v in s.detail.items()) or "-"
            print(f"  {s.name:<16} {'ok' if s.ok else 'FAILED':<6} {s.seconds:6.1f} s  {s.error or detail}")
    if run.skipped:
        return 5
    return 0 if run.ok else 15
