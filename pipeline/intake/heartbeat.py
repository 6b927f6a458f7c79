"""The heartbeat of a running document: a thread in the process that runs it, renewing the
claim's lease (`Store.renew_lease`) every `claim_heartbeat_s` while the document runs.

A claim lapses `claim_lease_s` after the last beat, so a claim whose process died (killed -9, the
machine lost, the main worker process killed with its pool) runs out within one lease, and any
living worker's re-queue sweep (`jobs.requeue_stuck`) queues the document again. No Celery here:
`jobs.run_document` starts and stops the heartbeat around the pipeline, so the embedded mode and
the workers beat the same way.

A beat that cannot reach the database is logged and tried again at the next one: the lease then
may lapse and the document be run a second time, which the store's sha256-keyed writes make
harmless (docs/deploy.md). A beat that finds the claim gone (re-queued meanwhile, or final) stops.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from pipeline.store import Store

log = logging.getLogger("shinsei.jobs")


class Heartbeat:
    """`with Heartbeat(store, sha256, token, lease_s, every_s): ...` renews the claim while inside."""

    def __init__(self, store: Store, sha256: str, token: str, lease_s: float, every_s: float) -> None:
        self.store, self.sha256, self.token = store, sha256, token
        self.lease_s, self.every_s = lease_s, every_s
        self.beats = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{sha256[:12]}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_s + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                held = self.store.renew_lease(self.sha256, self.token, self.lease_s)
            except Exception as exc:  # database unreachable for now: the next beat tries again
                log.warning("document %s: lease not renewed (%s)", self.sha256[:12], type(exc).__name__)
                continue
            if not held:
                if not self._stop.is_set():
                    self.lost = True
                    log.warning(
                        "document %s: its claim is no longer this delivery's (the lease ran out and it "
                        "was queued again, or it is final); finishing anyway",
                        self.sha256[:12],
                    )
                return
            self.beats += 1
