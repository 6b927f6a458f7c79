"""`shinsei watch INBOX`: take every complete file dropped into a hot folder; queue it (with a
broker) or process it in this process."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from pipeline.cli.common import enqueuer, info_logging, safe_url
from pipeline.errors import ShinseiError
from pipeline.intake import jobs
from pipeline.settings import Settings
from pipeline.store import open_store


def register(sub: argparse._SubParsersAction) -> None:
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


def watch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.intake.hotfolder import HotFolder, WatchOptions

    inbox: Path = args.inbox
    if not inbox.is_dir():
        raise ShinseiError(
            f"{inbox}: no such folder (create it, or give the hot folder's path)", reason="bad_args"
        )
    info_logging()
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
        "queueing to " + safe_url(settings.broker_url)
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
