"""The worker's broker consumer: Celery's own, with one fault in its reconnect path mended.

On losing the broker, Celery 5.7 (`on_connection_error_after_connected`) first collects the
connection, which closes its channel and detaches its transport, and then closes the connection
again. When Redis goes away while a document is running (its message unacked) and the consumer
is waiting in BRPOP for more work, the first close of the channel stops at the broken BRPOP before
marking the channel closed. The second close then drops the channel's connection pool and tries
to restore the unacked message through the detached transport: AttributeError ('NoneType' object
has no attribute 'hostname'), which `ignore_errors` does not catch, so the whole worker stopped
with "Unrecoverable error". Catching that error is not enough: the running document's late ack
later goes to the same channel, finds no pool, and fails the same way.

So the second close is skipped when collect has already detached the transport, which is what
Celery 5.6 did. The channel keeps its pool, and the late ack reaches the restarted Redis (a
harmless no-op there) or, while Redis is still down, is logged as a connection error. Nothing is
lost: the running document finishes and is stored, and a document whose message Redis lost is
queued again from the database (pipeline/intake/jobs.py). tests/integration/test_queue.py reproduces the crash every
time without this. Set in celeryconfig.py as `worker_consumer`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger("shinsei.worker")


def _close_unless_collected(conn: Any) -> Callable[[], None]:
    close = conn.close

    def close_lost_connection() -> None:
        # kombu's Connection.collect() sets _transport to None; there is no public way to ask.
        if getattr(conn, "_transport", None) is None:
            log.info("broker connection lost: already collected, not closed a second time")
            return
        close()

    return close_lost_connection


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc: BaseException) -> None:
        conn = self.connection
        if conn is not None:
            conn.close = _close_unless_collected(conn)
        super().on_connection_error_after_connected(exc)
