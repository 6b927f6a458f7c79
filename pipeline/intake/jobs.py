"""The unit of queued work: one scanned file, keyed by its sha256. No Celery here.

    submit(path, ...)            receive the file into the originals store and record it as
                                 `processing` (committed) — the caller enqueues only after this
    run_document(sha, token, ...) claim it, run `intake.process_received` with its heartbeat
                                 renewing the claim's lease, store the outcome
    requeue_stuck(...)           queue again what a lost message or a dead holder left behind
    hold_claim(...)              keep a claim through a retry's countdown
    record_failure(...)          a task gave up: failed_tasks row, and park or release the document

Idempotency. Every delivery of a document task first asks the store (`Store.begin_attempt`, one
row-locked transaction): a document in a final state returns at once ("done"); a live claim held by
another delivery means a duplicate message ("busy"); otherwise the delivery claims it with its task
id, which a redelivered message keeps, so a delivery whose worker was killed -9 is taken over by the
same message when Redis hands it out again.

Leases. A claim names its process (host:pid) and holds for `settings.claim_lease_s` (45 s); while
the document runs, a heartbeat thread in that process renews it every `claim_heartbeat_s` (10 s,
pipeline/intake/heartbeat.py). A claim that lapsed means its process is gone (killed -9 with its
whole worker, the machine lost), whatever Redis's visibility timeout says. `requeue_stuck` queues
such documents again, and documents nobody started for a while whose message the broker does not
hold (`in_broker`, asked by the caller: workers/sweep.py asks Redis); every worker runs it on
start and every `requeue_every_s` (30 s), so with only workers and the hot folder running no
document waits for the visibility timeout. The outcome is written by `process_received` in one
transaction keyed by the document's sha256, with its pages unique on (document, page index): a
second run replaces rows, it never adds any. Pages are not checkpointed one by one: an application
is one to three pages (~0.5 s each), so a redelivery redoes at most one file; see docs/deploy.md.

Loops are bounded: each claim counts one start, and a document started `task_max_attempts` times
without finishing is parked (quarantined, reason `processing_failed`, with a failed_tasks row) for
`shinsei failed retry`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pipeline.errors import TemplateError, TransientError
from pipeline.intake.heartbeat import Heartbeat
from pipeline.intake.receive import Received, originals_path, process_received, receive
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.tables import FINAL_STATUSES, utcnow

log = logging.getLogger("shinsei.jobs")

Enqueue = Callable[[str], None]  # sha256 -> queued (Celery) or processed now (embedded)
InBroker = Callable[[list[str]], set[str]]  # sha256s -> those the broker still holds a live message for
TASK_NAME = "shinsei.process_document"


@dataclass(frozen=True)
class Submitted:
    sha256: str
    source_name: str
    stored_path: Path
    new: bool  # recorded now: the caller must enqueue it (after this returned, i.e. after commit)


def lease_seconds(settings: Settings) -> float:
    """How long a claim holds without a heartbeat: past it, its holder is taken for dead."""
    return settings.claim_lease_s


def this_host(settings: Settings | None = None) -> str:
    """The host part of this process's claims: `settings.worker_host` (SHINSEI_WORKER_HOST) when
    set, else the hostname. Containers that share a hostname need distinct names, or one would
    test another's pids as its own (`holder_gone`)."""
    return (settings.worker_host if settings is not None else "") or socket.gethostname()


def worker_id(settings: Settings | None = None) -> str:
    return f"{this_host(settings)}:{os.getpid()}"


def holder_gone(claimed_by: str, host: str | None = None) -> bool:
    """True when a claim's holder (host:pid) is a process of this machine (`host`, default the
    hostname) that no longer exists: its claim need not wait for its lease (a worker restarted
    after a crash sweeps at once). A holder on another machine, or a pid that exists (perhaps
    reused), waits for the lease."""
    holder_host, _, pid = claimed_by.rpartition(":")
    if holder_host != (host or socket.gethostname()) or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    try:  # a zombie (killed, not yet reaped: its parent died too) is gone as well
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] == "Z"
    except (OSError, IndexError):
        return False


def is_final(status: str | None) -> bool:
    return status in FINAL_STATUSES


def submit(path: Path, settings: Settings, store: Store, actor: str = "pipeline") -> Submitted:
    """Copy `path` into the originals store and record it as `processing`. `new` is False when the
    same bytes were seen before (then there is nothing to queue). Never touches `path` itself."""
    rec = receive(path, Path(settings.data_dir), store)
    size = rec.stored_path.stat().st_size
    new = store.submit_document(rec.sha256, rec.source_name, str(rec.stored_path), size, actor=actor)
    return Submitted(rec.sha256, rec.source_name, rec.stored_path, new)


def run_document(
    sha256: str, token: str, engine, store: Store, settings: Settings, worker: str | None = None
) -> str:
    """Process one submitted document for one delivery. Returns the route, or why nothing was
    done ("done", "busy", "missing", "parked")."""
    attempt = store.begin_attempt(
        sha256,
        token,
        worker or worker_id(settings),
        lease_s=lease_seconds(settings),
        max_attempts=settings.task_max_attempts,
    )
    if attempt.action != "run":
        log.info("document %s: %s (status %s)", sha256[:12], attempt.action, attempt.status)
        return attempt.action
    data_dir = Path(settings.data_dir)
    # Found again from the sha256 under this machine's data_dir: the stored path may be another
    # machine's mount point. A missing original is a set-up problem (shared folder not mounted),
    # never the document's fault, so it is retried, not quarantined.
    original = originals_path(data_dir, sha256, Path(attempt.stored_path or "").suffix)
    if not original.is_file():
        raise TransientError(
            f"original {original} not found: is the shared data directory mounted at {data_dir}?"
        )
    rec = Received(sha256, original, attempt.source_name, already_done=False)
    with Heartbeat(store, sha256, token, lease_seconds(settings), settings.claim_heartbeat_s):
        doc = process_received(rec, engine, store, data_dir)
    return str(doc.route)


def hold_claim(store: Store, sha256: str, token: str, seconds: float, settings: Settings) -> None:
    """Keep `token`'s claim for `seconds` plus one lease while its task waits to be retried (no
    heartbeat beats then). Best effort: if the database is unreachable the lease lapses and the
    document is queued again, which is harmless."""
    try:
        store.renew_lease(sha256, token, seconds + lease_seconds(settings))
    except Exception as exc:
        log.warning("document %s: claim not held for its retry (%s)", sha256[:12], type(exc).__name__)


def run_now(engine_for: Callable[[], object], store: Store, settings: Settings) -> Enqueue:
    """Embedded mode's `Enqueue`: process the document in this process, now."""

    def enqueue(sha256: str) -> None:
        token = f"embedded-{uuid.uuid4()}"
        try:
            run_document(sha256, token, engine_for(), store, settings)
        except Exception as exc:
            log.exception("document %s failed", sha256[:12])
            try:
                record_failure(store, sha256, exc, token=token)
            except Exception:
                log.exception(
                    "could not record the failure of %s; the nightly batch will retry it", sha256[:12]
                )

    return enqueue


def is_retryable(exc: BaseException) -> bool:
    """Failures that are no fault of the document: worth retrying as they are (after a fix)."""
    return isinstance(exc, TransientError | TemplateError)


def record_failure(
    store: Store,
    sha256: str | None,
    exc: BaseException,
    *,
    token: str | None,
    attempts: int = 1,
    task_name: str = TASK_NAME,
    traceback: str | None = None,
) -> None:
    """A document task gave up (retries exhausted or a non-transient error). Writes a failed_tasks
    row; a retryable failure leaves the document `processing` (claim released) for the nightly
    `retry_failed` step, any other parks it (quarantined, `processing_failed`) for a person."""
    retryable = is_retryable(exc)
    if sha256 is not None:
        state = store.document_states([sha256]).get(sha256)
        if state is not None and is_final(state.status):  # failed after its outcome was stored
            log.warning("task for %s failed after the document was stored (%s): ignored", sha256[:12], exc)
            return
    store.record_failed_task(
        task_name,
        exc=exc,
        document_sha256=sha256,
        attempts=attempts,
        retryable=retryable,
        traceback=traceback,
    )
    if sha256 is None:
        return
    if retryable:
        if token is not None:
            store.release_claim(sha256, token)
        return
    store.park_document(
        sha256,
        f"処理中に予期しないエラーが起きました（{type(exc).__name__}）。"
        "`shinsei failed list` で内容を確かめ、直してから `shinsei failed retry` でやり直してください。",
    )


def requeue_stuck(
    store: Store,
    settings: Settings,
    enqueue: Enqueue,
    *,
    queued_for_s: float | None = None,
    only: Iterable[str] | None = None,
    in_broker: InBroker | None = None,
) -> list[str]:
    """Queue again the `processing` documents that would otherwise wait: those whose claim's lease
    ran out (the holder died), and those never started for `queued_for_s` (default
    settings.requeue_after_s) whose message looks lost. With `in_broker` (the workers' sweep), a
    claim whose holder was a process of this machine that no longer exists is not waited for
    either (`holder_gone`), and unstarted documents are queued again only when the broker holds no
    live message for them (so a long backlog is not queued a second time). A duplicate message is
    harmless (the second delivery finds it done or busy)."""
    now = utcnow()
    wait = settings.requeue_after_s if queued_for_s is None else queued_for_s
    queued_before = now - timedelta(seconds=wait)
    shas = list(only) if only is not None else None
    gone: dict[str, tuple[str, str]] = {}
    if in_broker is not None:
        wanted = set(shas) if shas is not None else None
        lapsed, unstarted = [], []
        for d in store.in_flight():
            if d.failed_task or (wanted is not None and d.sha256 not in wanted):
                continue
            if d.claimed_by is not None:
                if d.lease_until is None or d.lease_until <= now:
                    lapsed.append(d.sha256)
                elif d.claim_token and holder_gone(d.claimed_by, this_host(settings)):
                    gone[d.sha256] = (d.claim_token, d.claimed_by)
            elif d.submitted_at is None or d.submitted_at < queued_before:
                unstarted.append(d.sha256)
        held = in_broker(unstarted) if unstarted else set()
        shas = lapsed + list(gone) + [s for s in unstarted if s not in held]
    requeued = store.requeue_stuck(queued_before=queued_before, now=now, shas=shas, gone=gone)
    for sha in requeued:
        log.warning("document %s was stuck in processing: queued again", sha[:12])
        enqueue(sha)
    return requeued
