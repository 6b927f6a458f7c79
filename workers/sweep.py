"""The re-queue sweep, in every worker's main process: on start and every
`settings.requeue_every_s` (30 s), queue again the documents that would otherwise wait for Redis's
visibility timeout (30 minutes) or for the nightly batch.

What to queue is decided by `pipeline.intake.jobs.requeue_stuck` from the database: a claim whose
lease ran out (its holder's heartbeat stopped: the process or the whole worker died), and a
document never started for `requeue_unstarted_s` (60 s) that the broker holds no live message for.
This module adds what only the worker knows, Redis:

- `messages_held(shas)`: the documents with a message still on its way: waiting in the `ocr`
  queue (any priority), or delivered to a worker less than `requeue_unstarted_s` ago and not yet
  acknowledged. An unacknowledged message delivered longer ago whose document has no claim was
  received by a worker that never started it: the worker died, or Redis went away before it
  started and Celery dropped the message expecting Redis to restore it (the restore needs Redis).
  Redis would hand it out again only after the visibility timeout.
- re-queued documents are sent with the highest priority, so they do not wait behind a backlog.

The sweep runs in the worker's event loop (Celery's timer), between messages, in the main
process, so it also works with the pool's processes busy or dying. It holds no database or Redis
connection between runs: pool processes forked later must not inherit one. Two workers sweeping at
once queue each document once (row locks in `Store.requeue_stuck`), and a duplicate message would
be harmless anyway (`begin_attempt` answers "done" or "busy").
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from celery import bootsteps
from kombu.exceptions import OperationalError

from pipeline.intake import jobs
from pipeline.settings import Settings, get_settings
from pipeline.store import Store, open_store

log = logging.getLogger("shinsei.worker")

QUEUE = "ocr"
REQUEUED_PRIORITY = 0  # Redis: 0 is served first; new documents are sent with NEW_PRIORITY


def _task_sha(payload: Any) -> str | None:
    """The sha256 argument of a `shinsei.process_document` message as kombu stores it in Redis."""
    try:
        msg = json.loads(payload) if isinstance(payload, str | bytes) else payload
        if msg.get("headers", {}).get("task") != jobs.TASK_NAME:
            return None
        body = msg["body"]
        if msg.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return str(args[0]) if args else None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def messages_held(app: Any, shas: Iterable[str], fresh_s: float) -> set[str]:
    """Of `shas`, those with a message waiting in the queue or delivered less than `fresh_s` ago
    and not acknowledged. Raises kombu's OperationalError when Redis is unreachable."""
    wanted = set(shas)
    held: set[str] = set()
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        client = channel.client
        keys = {channel._q_for_pri(QUEUE, pri) for pri in channel.priority_steps}
        for key in keys:
            for payload in client.lrange(key, 0, -1):
                if (sha := _task_sha(payload)) in wanted:
                    held.add(sha)
        since = time.time() - fresh_s
        fresh_tags = set(client.zrangebyscore(channel.unacked_index_key, since, "+inf"))
        for tag, entry in client.hgetall(channel.unacked_key).items():
            if tag not in fresh_tags:
                continue
            try:
                payload = json.loads(entry)[0]
            except (ValueError, IndexError, TypeError):
                continue
            if (sha := _task_sha(payload)) in wanted:
                held.add(sha)
    return held


def sweep(app: Any, store: Store, settings: Settings) -> list[str]:
    """One pass: queue again what `jobs.requeue_stuck` finds stuck. Returns the sha256s queued."""
    task = app.tasks[jobs.TASK_NAME]

    def requeue(sha: str) -> None:
        task.apply_async((sha,), queue=QUEUE, priority=REQUEUED_PRIORITY)

    return jobs.requeue_stuck(
        store,
        settings,
        requeue,
        queued_for_s=settings.requeue_unstarted_s,
        in_broker=lambda shas: messages_held(app, shas, settings.requeue_unstarted_s),
    )


class RequeueSweep(bootsteps.StartStopStep):
    """Worker bootstep: `sweep` on start and every `requeue_every_s`, from the worker's timer."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.settings = get_settings()
        self.store: Store | None = None
        self.trefs: list[Any] = []

    def start(self, worker: Any) -> None:
        every = self.settings.requeue_every_s
        self.trefs = [
            worker.timer.call_after(min(2.0, every), self.run, (worker,)),
            worker.timer.call_repeatedly(every, self.run, (worker,)),
        ]
        log.info("re-queue sweep every %.0f s (lease %.0f s)", every, self.settings.claim_lease_s)

    def stop(self, worker: Any) -> None:
        for tref in self.trefs:
            tref.cancel()
        self.trefs = []
        if self.store is not None:
            self.store.close()
            self.store = None

    def run(self, worker: Any) -> None:
        try:
            if self.store is None:
                self.store = open_store(self.settings)
            queued = sweep(worker.app, self.store, self.settings)
            if queued:
                log.warning("re-queue sweep: queued %d stuck document(s) again", len(queued))
        except OperationalError as exc:
            log.warning(
                "re-queue sweep: broker unreachable (%s); next try in %.0f s",
                exc,
                self.settings.requeue_every_s,
            )
        except Exception:
            log.exception("re-queue sweep failed; next try in %.0f s", self.settings.requeue_every_s)
        finally:
            if self.store is not None:
                # no connection survives into a pool process forked before the next run
                self.store.engine.dispose()
