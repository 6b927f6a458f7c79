"""`shinsei failed list|retry`: tasks that gave up (our dead-letter table) and resubmitting them."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from pipeline.cli.common import UsageError, actor, enqueuer
from pipeline.intake import nightly
from pipeline.settings import Settings
from pipeline.store import RecordNotFound, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("failed", help="tasks that gave up (our dead-letter table)")
    fsub = p.add_subparsers(dest="failed_command", required=True)
    q = fsub.add_parser("list", help="unresolved failed tasks")
    q.add_argument("--all", action="store_true", help="include resolved ones")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=failed_list)
    q = fsub.add_parser("retry", help="resubmit the documents of failed tasks")
    q.add_argument("id", nargs="?", type=int, help="failed task id (see `shinsei failed list`)")
    q.add_argument("--all", action="store_true", help="every unresolved failed task")
    q.set_defaults(func=failed_retry)


def failed_list(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    tasks = store.list_failed_tasks(unresolved_only=not args.all, limit=10_000)
    if args.json:
        for t in tasks:
            row = {k: getattr(t, k) for k in t.__dataclass_fields__ if k != "traceback"}
            row |= {
                "created_at": t.created_at.isoformat(),
                "resolved_at": t.resolved_at and t.resolved_at.isoformat(),
            }
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not tasks:
        print("no failed tasks", file=sys.stderr)
        return 0
    print(f"{'id':>5}  {'when (UTC)':<16}  {'task':<26} {'document':<12} {'tries':>5}  {'retry?':<6} error")
    for t in tasks:
        when = t.created_at.strftime("%Y-%m-%d %H:%M")
        retry = "yes" if t.retryable else "no"
        if t.resolved_at:
            retry = "done"
        err = f"{t.exception_type.rsplit('.', 1)[-1]}: {t.message}".splitlines()[0][:80]
        print(
            f"{t.id:>5}  {when:<16}  {t.task_name[:26]:<26} {(t.document_sha256 or '-')[:12]:<12} {t.attempts:>5}  {retry:<6} {err}"
        )
    return 0


def failed_retry(args: argparse.Namespace, settings: Settings) -> int:
    if (args.id is None) == (not args.all):
        raise UsageError("give a failed task id or --all (see `shinsei failed list`)")
    store = open_store(settings)
    if args.all:
        tasks = store.list_failed_tasks(unresolved_only=True, limit=100_000)
    else:
        try:
            task = store.get_failed_task(args.id)
        except RecordNotFound:
            raise UsageError(f"no failed task {args.id} (see `shinsei failed list`)") from None
        if task.resolved_at is not None:
            print(f"failed task {task.id} was already resolved", file=sys.stderr)
            return 0
        tasks = [task]
    enqueue = enqueuer(settings, store)
    counts: Counter[str] = Counter()
    for t in tasks:
        outcome = nightly.retry_failed_task(store, t, enqueue, actor=actor())
        counts[outcome] += 1
        print(f"{t.id}: {outcome}", file=sys.stderr)
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to retry", file=sys.stderr)
    return 0
