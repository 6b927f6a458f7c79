"""How a submitted document gets processed: queued for a worker, or run in this process.

`enqueuer(settings, store, broker)` returns the `Enqueue` (sha256 -> None) the intake layer calls
after a document's `processing` row is committed. With `settings.broker_url` it is the broker's,
made by `broker()`; that function comes from the top layer (the CLI passes
`workers.tasks.enqueue_document`, which sends task `jobs.TASK_NAME`), so nothing under
pipeline/intake imports Celery or workers/. Without a broker (embedded mode) the document is
processed at once with the same `jobs.run_document` the workers call.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.intake import jobs
from pipeline.intake.jobs import Enqueue
from pipeline.run import Engine
from pipeline.settings import Settings
from pipeline.store import Store


def enqueuer(settings: Settings, store: Store, broker: Callable[[], Enqueue]) -> Enqueue:
    """The broker's enqueue when settings name a broker; otherwise process in this process,
    loading the engine (templates, OCR model) on the first document only."""
    if settings.broker_url:
        return broker()
    engine: list[Engine] = []

    def engine_for() -> Engine:
        if not engine:
            engine.append(Engine.load(settings))
        return engine[0]

    return jobs.run_now(engine_for, store, settings)
