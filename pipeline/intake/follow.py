"""Submit files to the queue and follow them in the store until each is in a final state
(`shinsei run` with a broker).

Documents whose message was lost (a Redis restart without persistence) are queued again: when the
queue is empty and a document has not been started for `LOST_AFTER_S`. The broker is reached only
through the two functions the caller hands in (`enqueue`, `queue_depth`), so this module does not
import Celery. What to show (a progress bar, JSON lines) is the caller's too, through callbacks.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pipeline.intake import jobs
from pipeline.intake.jobs import Enqueue
from pipeline.settings import Settings
from pipeline.store import DocState, Store

FOLLOW_POLL_S = 0.5
LOST_AFTER_S = 15.0  # queue empty and a document not started for this long: its message is lost
NO_PROGRESS_HINT_S = 60.0

Finished = Callable[[str, str, DocState], None]  # (file name, sha256, final state)


def submit_all(
    files: list[Path],
    settings: Settings,
    store: Store,
    enqueue: Enqueue,
    counts: Counter[str],
    warn: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Submit every file and enqueue the new ones. Returns {sha256: file name} of the documents to
    follow (new ones, and ones submitted earlier that are not final yet); counts those already done,
    and as "not read" those that cannot be opened (told to `warn`; the others still go)."""
    waiting: dict[str, str] = {}
    for path in files:
        try:
            sub = jobs.submit(path, settings, store, actor="cli")
        except OSError as exc:  # permissions, gone meanwhile: nothing stored for this one
            counts["not read"] += 1
            if warn is not None:
                warn(f"{path}: cannot read ({type(exc).__name__}: {exc.strerror or exc})")
            continue
        if sub.new:
            enqueue(sub.sha256)
            waiting[sub.sha256] = path.name
        elif jobs.is_final(store.document_states([sub.sha256])[sub.sha256].status):
            counts["already done"] += 1
        else:
            waiting[sub.sha256] = path.name  # submitted earlier (a watcher, an interrupted run): follow it
    return waiting


def follow(
    waiting: dict[str, str],
    settings: Settings,
    store: Store,
    enqueue: Enqueue,
    queue_depth: Callable[[str], int],
    counts: Counter[str],
    on_finished: Finished,
    warn: Callable[[str], None],
) -> int:
    """Poll the store until every document in `waiting` is final (emptying `waiting`); counts them
    by route and returns the pages they had. `warn` gets messages for a person."""
    pages = 0
    last_progress = last_requeue = time.monotonic()
    hinted = False
    while waiting:
        time.sleep(FOLLOW_POLL_S)
        done = {s: st for s, st in store.document_states(list(waiting)).items() if jobs.is_final(st.status)}
        for sha, st in done.items():
            name = waiting.pop(sha)
            counts[st.route or st.status] += 1
            pages += st.pages
            on_finished(name, sha, st)
        if done:
            last_progress = time.monotonic()
        now = time.monotonic()
        if waiting and now - last_requeue >= LOST_AFTER_S:
            last_requeue = now
            try:
                lost_after = LOST_AFTER_S if queue_depth("ocr") == 0 else None
                jobs.requeue_stuck(store, settings, enqueue, queued_for_s=lost_after, only=waiting)
            except Exception as exc:  # broker or database down for now: keep following
                warn(f"cannot check for lost messages yet ({type(exc).__name__}: {exc})")
        if not hinted and now - last_progress > NO_PROGRESS_HINT_S:
            hinted = True
            warn(
                f"no document finished for {NO_PROGRESS_HINT_S:.0f} s; is a worker running "
                "(`shinsei worker`) on the same broker and database?"
            )
    return pages
