"""`shinsei worker`: start a Celery worker (it replaces this process)."""

from __future__ import annotations

import argparse
import os
import sys

from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="start a Celery worker (OCR and delivery queues)")
    p.add_argument("-c", "--concurrency", type=int, default=None, help="processes (default: settings)")
    p.add_argument("-Q", "--queues", default="ocr,delivery", help="queues to consume (default: ocr,delivery)")
    p.add_argument("-n", "--hostname", default=None, help="worker name (Celery's -n), e.g. ocr1@%%h")
    p.add_argument("-B", "--beat", action="store_true", help="also run the nightly scheduler (one per site!)")
    p.add_argument("-l", "--loglevel", default="INFO")
    p.set_defaults(func=worker)


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
