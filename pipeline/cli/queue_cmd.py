"""Queue commands: `shinsei worker`, `shinsei watch INBOX`, `shinsei failed list|retry`,
`shinsei batch nightly`, and `shinsei run` with a broker (`run_via_broker`).

Without `SHINSEI_BROKER_URL` (embedded mode) `watch`, `failed retry` and `batch nightly` process
documents in this process with the same functions the workers call; with it they enqueue.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

from tqdm import tqdm

from pipeline.errors import ExitCode, ShinseiError
from pipeline.intake import jobs
from pipeline.intake import nightly as batch
from pipeline.settings import Settings
from pipeline.store import RecordNotFound, Store, open_store


class UsageError(ShinseiError):
    exit_code = ExitCode.bad_args
    reason = "bad_args"


FOLLOW_POLL_S = 0.5
LOST_AFTER_S = 15.0  # queue empty and a document not started for this long: its message is lost
NO_PROGRESS_HINT_S = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="start a Celery worker (OCR and delivery queues)")
    p.add_argument("-c", "--concurrency", type=int, default=None, help="processes (default: settings)")
    p.add_argument("-Q", "--queues", default="ocr,delivery", help="queues to consume (default: ocr,delivery)")
    p.add_argument("-n", "--hostname", default=None, help="worker name (Celery's -n), e.g. ocr1@%%h")
    p.add_argument("-B", "--beat", action="store_true", help="also run the nightly scheduler (one per site!)")
    p.add_argument("-l", "--loglevel", default="INFO")
    p.set_defaults(func=worker)

    p = sub.add_parser("watch", help="watch a hot folder and process every complete file dropped into it")
    p.add_argument("inbox", type=Path)
    p.add_argument("--stable-seconds", type=float, default=None, help="size and mtime unchanged this long")
    p.add_argument(
        "--done-marker", action="store_true", default=None, help="take NAME only once NAME.done exists"
    )
    p.add_argument("--recursive", action="store_true", default=None, help="also watch subfolders")
    p.add_argument("--polling", action="store_true", default=None, help="poll (network shares)")
    p.add_argument("--once", action="store_true", help="take what is there now, then exit")
    p.set_defaults(func=watch)

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

    p = sub.add_parser("batch", help="batch jobs")
    bsub = p.add_subparsers(dest="batch_command", required=True)
    q = bsub.add_parser("nightly", help="run the nightly steps now: " + ", ".join(batch.step_names()))
    q.add_argument(
        "--date", type=date.fromisoformat, default=None, help="day to close, YYYY-MM-DD (default: yesterday)"
    )
    q.add_argument(
        "--step",
        action="append",
        default=None,
        choices=batch.step_names(),
        help="run only this step (repeatable)",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=batch_nightly)


# --------------------------------------------------------------------------- helpers


def enqueuer(settings: Settings, store: Store) -> jobs.Enqueue:
    """Celery with a broker; otherwise process in this process (embedded mode)."""
    if settings.broker_url:
        from workers.tasks import enqueue_document

        return enqueue_document
    from pipeline.run import Engine

    engine: list[Engine] = []

    def engine_for() -> Engine:
        if not engine:
            engine.append(Engine.load(settings))
        return engine[0]

    return jobs.run_now(engine_for, store, settings)


def _info_logging() -> None:
    logger = logging.getLogger("shinsei")
    logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    if logging.getLogger().level > logging.INFO:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


# --------------------------------------------------------------------------- worker


def worker(args: argparse.Namespace, settings: Settings) -> int:
    """Replace this process with `celery -A workers worker ...` (signals then go to Celery)."""
    if not settings.broker_url:
        print(
            "shinsei: SHINSEI_BROKER_URL is not set; the worker uses redis://127.0.0.1:6379/0, and "
            "`shinsei run`/`watch` stay in-process unless they have it too",
            file=sys.stderr,
        )
    argv = [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", args.queues]
    argv += ["-c", str(args.concurrency or settings.worker_concurrency), "-l", args.loglevel]
    if args.hostname:
        argv += ["-n", args.hostname]
    if args.beat:
        argv += ["-B"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - execv does not return


# --------------------------------------------------------------------------- watch


def watch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.intake.hotfolder import HotFolder, WatchOptions

    inbox: Path = args.inbox
    if not inbox.is_dir():
        raise ShinseiError(
            f"{inbox}: no such folder (create it, or give the hot folder's path)", reason="bad_args"
        )
    _info_logging()
    store = open_store(settings)
    opts = WatchOptions.from_settings(
        settings,
        stable_s=args.stable_seconds,
        done_marker=args.done_marker,
        recursive=args.recursive,
        polling=args.polling,
    )
    folder = HotFolder(inbox, opts, lambda p: jobs.submit(p, settings, store), enqueuer(settings, store))
    mode = (
        "queueing to " + _safe_url(settings.broker_url)
        if settings.broker_url
        else "processing in this process"
    )
    log = logging.getLogger("shinsei.hotfolder")
    if args.once:
        res = folder.run_until_empty(timeout_s=max(60.0, opts.stable_s * 10))
        log.info("took %d new file(s), %d duplicate(s)", len(res.taken), len(res.duplicates))
        return 0 if not folder.pending else 5
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("watching %s (%s); Ctrl-C to stop", inbox.resolve(), mode)
    folder.run(stop)
    log.info("stopped")
    return 0


def _safe_url(url: str | None) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url or ""))


# --------------------------------------------------------------------------- failed


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
        outcome = batch.retry_failed_task(store, t, enqueue, actor=_actor())
        counts[outcome] += 1
        print(f"{t.id}: {outcome}", file=sys.stderr)
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to retry", file=sys.stderr)
    return 0


def _actor() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


# --------------------------------------------------------------------------- batch


def batch_nightly(args: argparse.Namespace, settings: Settings) -> int:
    _info_logging()
    store = open_store(settings)
    run = batch.run_nightly(settings, store, enqueuer(settings, store), day=args.date, only=args.step)
    if args.json:
        print(json.dumps(run.export(), ensure_ascii=False))
    elif run.skipped:
        print(f"nightly batch for {run.day}: skipped ({run.skipped})", file=sys.stderr)
    else:
        print(f"nightly batch for {run.day}")
        for s in run.steps:
            detail = ", ".join(f"{k} {v}" for k, v in s.detail.items()) or "-"
            print(f"  {s.name:<16} {'ok' if s.ok else 'FAILED':<6} {s.seconds:6.1f} s  {s.error or detail}")
    if run.skipped:
        return 5
    return 0 if run.ok else 15


# --------------------------------------------------------------------------- run (broker mode)


def run_via_broker(files: list[Path], settings: Settings, json_lines: bool) -> tuple[Counter[str], int]:
    """`shinsei run` with a broker: submit every file, enqueue the new ones, then follow them in the
    store with a progress bar until each is in a final state. Documents whose message was lost (a
    Redis restart without persistence) are queued again. Returns (counts by route, pages)."""
    from workers.tasks import enqueue_document, queue_depth

    store = open_store(settings)
    counts: Counter[str] = Counter()
    waiting: dict[str, str] = {}  # sha256 -> file name
    for path in files:
        sub = jobs.submit(path, settings, store, actor="cli")
        if sub.new:
            enqueue_document(sub.sha256)
            waiting[sub.sha256] = path.name
        elif jobs.is_final(store.document_states([sub.sha256])[sub.sha256].status):
            counts["already done"] += 1
        else:
            waiting[sub.sha256] = path.name  # submitted earlier (a watcher, an interrupted run): follow it
    pages = 0
    bar = tqdm(total=len(waiting), unit="file", disable=not sys.stderr.isatty(), file=sys.stderr)
    last_progress = last_requeue = time.monotonic()
    hinted = False
    while waiting:
        time.sleep(FOLLOW_POLL_S)
        done = {s: st for s, st in store.document_states(list(waiting)).items() if jobs.is_final(st.status)}
        for sha, st in done.items():
            name = waiting.pop(sha)
            route = st.route or st.status
            counts[route] += 1
            pages += st.pages
            if json_lines:
                print(
                    json.dumps(
                        {"file": name, "sha256": sha, "route": route, "reason": st.reason}, ensure_ascii=False
                    )
                )
        if done:
            bar.update(len(done))
            last_progress = time.monotonic()
        now = time.monotonic()
        if waiting and now - last_requeue >= LOST_AFTER_S:
            last_requeue = now
            try:
                lost_after = LOST_AFTER_S if queue_depth("ocr") == 0 else None
                jobs.requeue_stuck(store, settings, enqueue_document, queued_for_s=lost_after, only=waiting)
            except Exception as exc:  # broker or database down for now: keep following
                print(
                    f"shinsei: cannot check for lost messages yet ({type(exc).__name__}: {exc})",
                    file=sys.stderr,
                )
        if not hinted and now - last_progress > NO_PROGRESS_HINT_S:
            hinted = True
            print(
                f"shinsei: no document finished for {NO_PROGRESS_HINT_S:.0f} s; is a worker running "
                "(`shinsei worker`) on the same broker and database?",
                file=sys.stderr,
            )
    bar.close()
    return counts, pages
