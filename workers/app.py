"""The Celery app and what each worker process loads once.

`worker_process_init` (in each prefork child, after the fork) builds the process's `Resources`:
its own database engine and the OCR `Engine` (templates + ONNX model). With more than one process
per machine each gets `cpu_count // concurrency` ONNX/OpenCV threads (1 on a 2-core machine with
two processes), so processes do not oversubscribe the cores. Where no child is forked (`--pool
solo`, tests calling a task directly), the first task builds them instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from pipeline.memory import keep_freed_pages
from pipeline.settings import Settings, get_settings
from pipeline.store import Store, open_store
from workers.sweep import RequeueSweep

log = logging.getLogger("shinsei.worker")

app = Celery("shinsei", include=["workers.tasks"])
app.config_from_object("celeryconfig")
# Every worker re-queues documents whose holder died or whose message was lost (workers/sweep.py).
app.steps["worker"].add(RequeueSweep)
# `celery -A workers beat` keeps its schedule state in the data directory, and opens it before any
# signal is sent: the folder must exist when the app is imported.
Path(app.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)


@dataclass
class Resources:
    settings: Settings
    store: Store
    _engine: Any = field(default=None, repr=False)

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from pipeline.run import Engine

            self._engine = Engine.load(self.settings)
        return self._engine


_resources: Resources | None = None
_concurrency = 1  # of this worker's pool, learnt in the parent before it forks


def process_settings(settings: Settings, concurrency: int) -> Settings:
    """One process's share of the cores: `ocr_threads` capped at cpu_count // concurrency."""
    if concurrency <= 1:
        return settings
    threads = max(1, min(settings.ocr_threads, (os.cpu_count() or 1) // concurrency))
    return settings.model_copy(update={"ocr_threads": threads})


def resources() -> Resources:
    global _resources
    if _resources is None:
        settings = process_settings(get_settings(), _concurrency)
        try:
            import cv2

            cv2.setNumThreads(settings.ocr_threads)
        except ImportError:  # pragma: no cover - cv2 is a dependency
            pass
        _resources = Resources(settings, open_store(settings))
    return _resources


@worker_init.connect
def _remember_concurrency(sender: Any = None, **_: Any) -> None:
    global _concurrency
    _concurrency = int(getattr(sender, "concurrency", None) or 1)


@worker_process_init.connect
def _load_process_resources(**_: Any) -> None:
    keep_freed_pages()  # page-sized arrays reused, not faulted in afresh (pipeline/memory.py)
    res = resources()
    warm = getattr(res.engine.recognizer, "_load", None)  # open the ONNX session now, not in a task
    if callable(warm):
        warm()
    log.info("worker process %d ready (%d OCR threads)", os.getpid(), res.settings.ocr_threads)


@worker_process_shutdown.connect
def _close_process_resources(**_: Any) -> None:
    global _resources
    if _resources is not None:
        _resources.store.close()
        _resources = None
