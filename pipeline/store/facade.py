"""`Store`: the one object callers hold, made of the store's concerns. Each concern is a class of
its own module, so a reader (or a new wing: review page, delivery, report) finds a concern's SQL
in one place:

    DocumentStore    documents.py  documents, pages, fields, status history
    ReviewStore      review.py     reviewer corrections
    AuditStore       audit.py      the hash-chained audit log
    FailedTaskStore  failed.py     the dead-letter table
    ClaimStore       claims.py     queue claims (submit, claim, release, park, requeue)
    ExportStore      export.py     export and retention reads and marks, the nightly lock

The outbox (`outbox.py`: `deliveries` rows, `enqueue_deliveries`, and `Outbox` for the relay) is
written by DocumentStore whenever a document becomes accepted, to `Store.delivery_targets`.

`open_store(settings_or_url)` makes the engine, migrates, and returns a `Store` (from Settings, with
the configured delivery targets: an unknown profile stops it here, at start-up).
"""

from __future__ import annotations

from sqlalchemy import URL

from pipeline.settings import Settings
from pipeline.store.audit import AuditStore
from pipeline.store.claims import ClaimStore
from pipeline.store.db import make_engine, upgrade_engine
from pipeline.store.documents import DocumentStore
from pipeline.store.export import ExportStore
from pipeline.store.failed import FailedTaskStore
from pipeline.store.outbox import configured_targets
from pipeline.store.review import ReviewStore


class Store(DocumentStore, ReviewStore, AuditStore, FailedTaskStore, ClaimStore, ExportStore):
    """The typed API over the store. Each method runs in its own transaction."""


def open_store(settings_or_url: Settings | str | URL, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store named by settings (`resolved_database_url()`) or a URL."""
    engine = make_engine(settings_or_url)
    try:
        if upgrade:
            upgrade_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    store = Store(engine)
    if isinstance(settings_or_url, Settings):
        from pipeline.store.crypto import FieldCipher, install

        install(engine, FieldCipher.from_settings(settings_or_url))  # 個人番号 encrypted at rest
        store.qa_sample_rate = settings_or_url.qa_sample_rate
    if isinstance(settings_or_url, Settings) and settings_or_url.delivery_targets:
        try:
            store.delivery_targets = configured_targets(settings_or_url)
        except BaseException:
            engine.dispose()
            raise
    return store
