"""The store: documents, pages, fields, review corrections, status history, the hash-chained audit log,
failed tasks, queue claims, export marks and the delivery outbox, on SQLite (default, under data_dir) or PostgreSQL.
Schema by Alembic (tables.py, migrations/). One module per concern; `Store` (facade.py) joins them.

    store = open_store(settings)            # engine + `alembic upgrade head`
    doc_id = store.save_document_result(result, stored_path=..., kind="pdf", size_bytes=..., page_count=2)
"""

from pipeline.privacy import redact  # re-exported: the store redacts what it writes
from pipeline.store.audit import append_audit, verify_audit_chain
from pipeline.store.claims import Attempt, DocState, InFlight
from pipeline.store.db import Database, is_transient, make_engine, upgrade_database
from pipeline.store.documents import DocumentSummary, RecordNotFound
from pipeline.store.facade import Store, open_store
from pipeline.store.failed import FailedTask
from pipeline.store.tables import FINAL_STATUSES, STATUSES

__all__ = [
    "Attempt",
    "DocState",
    "InFlight",
    "FINAL_STATUSES",
    "STATUSES",
    "Database",
    "DocumentSummary",
    "FailedTask",
    "RecordNotFound",
    "Store",
    "append_audit",
    "is_transient",
    "make_engine",
    "open_store",
    "redact",
    "upgrade_database",
    "verify_audit_chain",
]
