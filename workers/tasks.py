"""Tasks: each takes an id, calls one `pipeline` function, and returns a short string or dict.

Transient errors (`TransientError`: database locked or unreachable, shared folder missing) are
retried with exponential backoff; anything else, and retries exhausted, is written to our
failed_tasks table by `on_failure` (Redis has no dead-letter queue). No logic lives here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import ChannelError, OperationalError

from celeryconfig import RETRY_BACKOFF_MAX_S
from pipeline.errors import TransientError
from pipeline.intake import guard, jobs
from pipeline.intake.nightly import run_nightly
from pipeline.settings import get_settings
from workers.app import app, resources

# The document task runs through the per-file guard (jobs.run_document -> process_received): an
# unexpected error quarantines that file as `internal_error`. The task's time limit is the
# worker's to handle (on_failure parks the document for `shinsei failed retry`), not the file's.
guard.let_through(SoftTimeLimitExceeded)


class DocumentTask(Task):
    autoretry_for = (TransientError,)
    retry_backoff = True
    retry_backoff_max = RETRY_BACKOFF_MAX_S
    retry_jitter = True
    max_retries = get_settings().task_max_retries

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        # No heartbeat beats while the retry waits in this worker: hold the claim for the
        # countdown (Celery's Retry carries it as `when`), or the sweep would queue it again.
        sha = args[0] if args else kwargs.get("sha256")
        retry = getattr(einfo, "exception", None)
        retry = getattr(retry, "exc", retry)  # billiard wraps it in ExceptionWithTraceback
        when = getattr(retry, "when", None)
        if isinstance(when, datetime):
            wait = (when - datetime.now(UTC)).total_seconds()
        elif isinstance(when, int | float):
            wait = float(when)
        else:
            wait = float(RETRY_BACKOFF_MAX_S)
        if sha:
            r = resources()
            jobs.hold_claim(r.store, sha, task_id, max(wait, 0.0), r.settings)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        sha = args[0] if args else kwargs.get("sha256")
        jobs.record_failure(
            resources().store,
            sha,
            exc,
            token=task_id,
            attempts=self.request.retries + 1,
            task_name=self.name,
            traceback=str(einfo) if einfo else None,
        )


# ignore_result: the outcome is the document's row in our database; storing a copy in Redis would
# only add a write that fails (noisily, after the work is done) while Redis restarts.
@app.task(bind=True, base=DocumentTask, name="shinsei.process_document", ignore_result=True)
def process_document(self: Task, sha256: str) -> str:
    r = resources()
    out = jobs.run_document(
        sha256, self.request.id, r.engine, r.store, r.settings, jobs.worker_id(r.settings)
    )
    if r.settings.delivery_targets:  # an accepted document has outbox rows now: send them soon
        try:
            deliver_all.apply_async(queue="delivery")
        except OperationalError:  # broker gone for a moment: beat's deliver-outbox picks them up
            pass
    return out


@app.task(name="shinsei.deliver.all", ignore_result=True, acks_late=True)
def deliver_all() -> dict[str, Any]:
    """Send every due outbox row (queue `delivery`); claims make duplicate runs harmless."""
    return relay().drain().export()


def relay() -> Any:
    """This process's relay: its adapters (an RPA browser, database pools) stay open between tasks."""
    global _relay
    if _relay is None:
        from pipeline.intake.relay import Relay

        _relay = Relay(resources().store, resources().settings)
    return _relay


_relay: Any = None


@app.task(bind=True, name="shinsei.nightly", time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60)
def nightly(self: Task, day: str | None = None) -> dict[str, Any]:
    r = resources()
    run = run_nightly(r.settings, r.store, enqueue_document, day=date.fromisoformat(day) if day else None)
    return run.export()


# Redis serves priority 0 first: new documents go behind documents the re-queue sweep queues
# again (workers/sweep.py), so a document whose worker died is not left behind a backlog.
NEW_PRIORITY = 3


def enqueue_document(sha256: str) -> None:
    """Queue one submitted document (call after its `processing` row is committed)."""
    try:
        process_document.apply_async((sha256,), queue="ocr", priority=NEW_PRIORITY)
    except OperationalError as exc:
        raise TransientError(f"broker unreachable: {exc}") from exc


def queue_depth(queue: str = "ocr") -> int:
    """Messages waiting in `queue` (not counting those a worker holds); 0 if it does not exist
    (a Redis that restarted empty has no queues until a worker or a publisher declares them)."""
    try:
        with app.connection_for_read() as conn:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:
        return 0
    except OperationalError as exc:
        raise TransientError(f"broker unreachable: {exc}") from exc
