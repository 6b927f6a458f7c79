"""`shinsei outbox list|run|reconcile|retry|preview`: the delivery outbox from the command line.

    shinsei outbox list [--state failed] [--target nursery_csv]   rows and their states
    shinsei outbox run [--target T] [--watch]                     send what is due (embedded relay)
    shinsei outbox reconcile [--stale-after 0]                    settle unknown rows by reading back
    shinsei outbox retry [ID ...]                                 failed rows → pending
    shinsei outbox preview --target T                             dry run: what would be keyed

Values are shown only by `preview` (個人番号 masked), which is audit-logged.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.outbox import STATES, Delivery, Outbox


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outbox", help="deliveries to legacy systems: list, run, reconcile, retry, preview")
    osub = p.add_subparsers(dest="outbox_command", required=True)

    q = osub.add_parser("list", help="delivery rows with their state, receipt and last error")
    q.add_argument("--state", choices=STATES)
    q.add_argument("--target")
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=list_cmd)

    q = osub.add_parser("run", help="send due deliveries now (the relay, in this process)")
    q.add_argument("--target", action="append", help="only this target (repeatable)")
    q.add_argument("--watch", action="store_true", help="keep running, every --interval seconds")
    q.add_argument("--interval", type=float, default=2.0)
    q.set_defaults(func=run_cmd)

    q = osub.add_parser("reconcile", help="settle unknown deliveries by searching the target")
    q.add_argument("--target")
    q.add_argument(
        "--stale-after",
        type=float,
        default=None,
        help="seconds after which a `sending` row counts as unknown (default: settings.delivery_lease_s)",
    )
    q.set_defaults(func=reconcile_cmd)

    q = osub.add_parser("retry", help="make failed deliveries pending again")
    q.add_argument("ids", nargs="*", type=int, help="delivery ids (default: every failed row)")
    q.set_defaults(func=retry_cmd)

    q = osub.add_parser("preview", help="dry run: exactly what the next batch would send to a target")
    q.add_argument("--target", required=True)
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=preview_cmd)


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def _row(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "document_id": d.document_id,
        "page": d.page_index + 1,
        "target": d.target,
        "key": d.key,
        "state": d.state,
        "attempts": d.attempts,
        "receipt": (d.receipt or {}).get("ref"),
        "last_error": d.last_error,
        "unencodable": d.unencodable,
        "updated_at": d.updated_at.isoformat(timespec="seconds"),
    }


def list_cmd(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    ob = Outbox(store)
    rows = ob.list(state=args.state, target=args.target, limit=args.limit)
    if args.json:
        print(json.dumps([_row(d) for d in rows], ensure_ascii=False, indent=1))
        return 0
    counts = ob.counts()
    if not counts:
        targets = ", ".join(settings.delivery_targets) or "none configured (SHINSEI_DELIVERY_TARGETS)"
        print(f"no deliveries yet; targets: {targets}", file=sys.stderr)
    for (target, state), n in sorted(counts.items()):
        print(f"{target:<20} {state:<10} {n:>6}")
    if counts and not rows and (args.state or args.target):
        # the counts above are of every row; without this a filter that matched nothing reads as
        # if the rows shown were the answer
        to = f" to {args.target}" if args.target else ""
        state = f" in state {args.state}" if args.state else ""
        print(f"no delivery{to}{state}", file=sys.stderr)
    if rows:
        print()
        print(f"{'id':>5} {'doc':>5} {'target':<16} {'state':<10} {'try':>3} {'receipt':<28} error")
        for d in rows:
            ref = str((d.receipt or {}).get("ref", ""))
            print(
                f"{d.id:>5} {d.document_id:>5} {d.target[:16]:<16} {d.state:<10} {d.attempts:>3} {ref[:28]:<28} {d.last_error or ''}"
            )
    return 0


def run_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.intake.relay import Relay, run_forever

    store = open_store(settings)
    relay = Relay(store, settings)
    try:
        if args.watch:
            run_forever(relay, args.target, args.interval)
        stats = relay.drain(args.target)
    finally:
        relay.close()
    print(json.dumps(stats.export(), ensure_ascii=False), file=sys.stderr)
    return 0 if not (stats.failed or stats.unknown) else 1


def reconcile_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.intake.relay import Relay

    store = open_store(settings)
    relay = Relay(store, settings)
    try:
        stats = relay.reconcile(args.target, stale_after_s=args.stale_after)
    finally:
        relay.close()
    print(json.dumps(stats.export(), ensure_ascii=False), file=sys.stderr)
    return 0


def retry_cmd(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    n = Outbox(store).retry(args.ids or None, actor=_actor())
    print(f"{n} deliver{'y' if n == 1 else 'ies'} pending again", file=sys.stderr)
    return 0


def preview_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.intake.relay import Relay

    store = open_store(settings)
    relay = Relay(store, settings)
    try:
        items = relay.preview(args.target, args.limit)
    finally:
        relay.close()
    store.audit(
        _actor(),
        "delivery_preview",
        detail={
            "target": args.target,
            "records": len(items),
            "document_ids": sorted({d.document_id for d, _ in items}),
        },
    )
    if args.json:
        out = [
            {
                "key": d.key,
                "document_id": d.document_id,
                "send": (dict(v) if isinstance(v, list) else None),
                "refused": (v if isinstance(v, str) else None),
            }
            for d, v in items
        ]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(f"dry run: {len(items)} pending record(s) for {args.target}; nothing is sent")
    for d, v in items:
        print(f"\n# document {d.document_id} page {d.page_index + 1}  key {d.key}")
        if isinstance(v, str):
            print(f"  {v}")
            continue
        for column, value in v:
            print(f"  {column:<16} {value}")
    return 0
