"""What several commands share: the usage error, who is acting, INFO logging for long-running
commands, and the enqueue function (the CLI is on top, so it may hand `workers.tasks`'s enqueue to
the intake layer; pipeline/intake itself never imports Celery)."""

from __future__ import annotations

import getpass
import logging
import sys

from pipeline.errors import ExitCode, ShinseiError
from pipeline.intake import enqueue
from pipeline.intake.jobs import Enqueue
from pipeline.settings import Settings
from pipeline.store import Store


class UsageError(ShinseiError):
    exit_code = ExitCode.bad_args
    reason = "bad_args"


def actor() -> str:
    """The login name, for the audit log and status history."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def info_logging() -> None:
    logger = logging.getLogger("shinsei")
    logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    if logging.getLogger().level > logging.INFO:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def celery_enqueue() -> Enqueue:
    from workers.tasks import enqueue_document  # imports Celery: only with a broker

    return enqueue_document


def enqueuer(settings: Settings, store: Store) -> Enqueue:
    """Celery with a broker; otherwise process in this process (embedded mode)."""
    return enqueue.enqueuer(settings, store, celery_enqueue)


def safe_url(url: str | None) -> str:
    """A broker URL without its password, for logs."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url or ""))
