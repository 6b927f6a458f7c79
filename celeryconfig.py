"""Celery configuration for shinsei, loaded by `workers.app` (`app.config_from_object("celeryconfig")`).

Values come from shinsei's `Settings` (environment `SHINSEI_*`, `.env`): the broker from
`SHINSEI_BROKER_URL` (default redis://127.0.0.1:6379/0), results from `SHINSEI_RESULT_BACKEND`
(default: the broker). Check what a machine will use with `python -m celeryconfig`.

Reliability, in one sentence: a message is acknowledged only after its document is stored, a lost
worker puts it back, and every task is idempotent through the database (pipeline/intake/jobs.py), so
at-least-once delivery never processes a document into two records. See docs/deploy.md.
"""

from __future__ import annotations

from celery.schedules import crontab
from kombu import Exchange, Queue

from pipeline.settings import get_settings

_settings = get_settings()

broker_url = _settings.broker_url or "redis://127.0.0.1:6379/0"
result_backend = _settings.result_backend or broker_url

# --- queues: CPU-bound OCR apart from short I/O work, so a delivery never waits behind a burst ---
task_queues = (
    Queue("ocr", Exchange("ocr", type="direct"), routing_key="ocr"),
    Queue("delivery", Exchange("delivery", type="direct"), routing_key="delivery"),
)
task_default_queue = "ocr"
task_default_exchange = "ocr"
task_default_routing_key = "ocr"
task_routes = {
    "shinsei.process_document": {"queue": "ocr"},
    "shinsei.nightly": {"queue": "delivery"},
    "shinsei.deliver.*": {"queue": "delivery"},
}

# --- reliability (each with its reason) ---
# Ack after the task returns: a worker that dies mid-document leaves the message to be redelivered.
task_acks_late = True
# A child killed by -9/OOM re-queues its message instead of acking it; loops are capped by the
# per-document start count in the database (settings.task_max_attempts), not by Celery.
task_reject_on_worker_lost = True
# Take one message per process at a time: documents take seconds, so prefetching only strands work
# behind a busy process (and holds messages a dying worker would take down with it).
worker_prefetch_multiplier = 1
# A task that raised or hit its hard time limit is acked, not redelivered: its failure is in our
# failed_tasks table, and redelivering a document that always fails would loop.
task_acks_on_failure = True
task_acks_on_timeout = True
# Soft limit raises in the task (recorded as failed, document parked); hard limit kills the process.
task_soft_time_limit = _settings.task_soft_time_limit_s
task_time_limit = _settings.task_time_limit_s
# Retry backoff cap for transient errors (tasks: autoretry_for=TransientError, exponential, jitter).
RETRY_BACKOFF_MAX_S = 600
# Redis redelivers an unacked message after the visibility timeout: it must exceed the slowest task
# plus the longest retry countdown (a retried task waits, unacked, in the worker), or a running
# document would be handed to a second worker. Same value for broker and backend, as Celery asks.
# It is not what rescues a document whose worker died: the claim's 45 s lease is (renewed by a
# heartbeat while the document runs; workers/sweep.py re-queues lapsed ones). docs/deploy.md,
# "Leases and the visibility timeout".
VISIBILITY_TIMEOUT_S = 2 * (_settings.task_time_limit_s + RETRY_BACKOFF_MAX_S)
broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
result_backend_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
visibility_timeout = VISIBILITY_TIMEOUT_S
# ONNX Runtime and OpenCV grow their arenas; a process past this is replaced after its task.
worker_max_memory_per_child = _settings.worker_max_memory_kb  # KiB
# A Redis restart must not stop a worker: reconnect for as long as it takes, at start-up too.
broker_connection_retry_on_startup = True
broker_connection_max_retries = None
# On losing Redis, let running documents finish: the result goes to the database in one
# transaction, and a copy Redis may hand out again finds it done. Cancelling would only throw
# finished work away (and leave the claim to expire).
worker_cancel_long_running_tasks_on_connection_loss = False
# Celery's consumer with its reconnect teardown mended: losing Redis while a document runs must
# not stop the worker (workers/consumer.py says how it did).
worker_consumer = "workers.consumer:Consumer"
# On a cold shutdown (second Ctrl-C, systemd stop timeout) give running documents 30 s to finish
# before their messages are requeued.
worker_soft_shutdown_timeout = 30.0
worker_enable_soft_shutdown_on_idle = True
# JSON only: a message is a sha256, never a pickled object.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
# Results (the nightly summary, for `celery result`) are kept one day; a document's outcome is its
# row in our database, so process_document stores none.
result_expires = 24 * 3600

# --- time and the nightly batch (one beat process per deployment: see docs/deploy.md) ---
timezone = _settings.timezone
enable_utc = True
_hour, _minute = (int(x) for x in _settings.nightly_at.split(":"))
beat_schedule = {
    "nightly-batch": {"task": "shinsei.nightly", "schedule": crontab(hour=_hour, minute=_minute)},
    # The outbox relay: rows waiting for a retry, and unknown ones to reconcile (pipeline/intake/relay.py).
    "deliver-outbox": {"task": "shinsei.deliver.all", "schedule": 60.0},
}
beat_schedule_filename = str(_settings.data_dir / "celerybeat-schedule")

worker_concurrency = _settings.worker_concurrency

if __name__ == "__main__":
    import sys

    for key, value in sorted(globals().items()):
        if (
            not key.startswith("_")
            and key.islower()
            and not callable(value)
            and key not in ("annotations", "sys")
        ):
            if key.endswith("_url") or key == "result_backend":
                from kombu.utils.url import maybe_sanitize_url

                value = maybe_sanitize_url(value)
            print(f"{key} = {value!r}")
    sys.exit(0)
