"""Running work: the layer above the stages that takes files in and gets them processed.

    receive.py    store the original, run the pipeline on it, record the result or the quarantine
    guard.py      the per-file guard: an unexpected failure quarantines that file (`internal_error`)
    jobs.py       submit, claim and run one document as a queue task (idempotent through the store)
    heartbeat.py  renew a running document's claim (its lease) from a thread of the process running it
    stuck.py      why a document is still `processing` and when it is queued again (status, doctor)
    enqueue.py    queue a submitted document (broker) or process it in this process (embedded)
    hotfolder.py  take complete files dropped into a watched folder
    follow.py     submit files and follow them in the store until each is final (`shinsei run`)
    nightly.py    the nightly batch: named steps (requeue, retry, export, purge)

Nothing here imports Celery or workers/: the broker's enqueue is handed in by the top layer.
"""
