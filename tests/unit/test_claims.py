"""The queue's claim protocol (`Store.begin_attempt`) on SQLite: idempotent deliveries, and a
document that keeps killing workers is parked. The same protocol under real Redis and Celery is in
tests/integration/test_queue.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store, open_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'shinsei.sqlite3'}")
    yield s
    s.close()


def test_claims_make_deliveries_idempotent(sqlite_store: Store) -> None:
    s, sha = sqlite_store, "a" * 64
    assert s.submit_document(sha, "a.png", "/x/a.png") is True
    assert s.submit_document(sha, "again.png", "/x/a.png") is False  # the same bytes: nothing to queue
    assert s.begin_attempt("b" * 64, "t1", "h:1", lease_s=60, max_attempts=3).action == "missing"
    first = s.begin_attempt(sha, "t1", "h:1", lease_s=60, max_attempts=3)
    assert (first.action, first.attempts, first.source_name) == ("run", 1, "a.png")
    # a duplicate message while t1 runs
    assert s.begin_attempt(sha, "t2", "h:2", lease_s=60, max_attempts=3).action == "busy"
    # t1's worker was killed: Redis redelivers the same message (same task id), which takes over
    again = s.begin_attempt(sha, "t1", "h:3", lease_s=60, max_attempts=3)
    assert (again.action, again.attempts) == ("run", 2)
    assert s.get_document_row(sha).claimed_by == "h:3"


def test_a_document_that_keeps_killing_workers_is_parked(sqlite_store: Store) -> None:
    s, sha = sqlite_store, "c" * 64
    s.submit_document(sha, "poison.tiff", None)
    for _ in range(3):
        assert s.begin_attempt(sha, "t", "h:1", lease_s=60, max_attempts=3).action == "run"
    parked = s.begin_attempt(sha, "t", "h:1", lease_s=60, max_attempts=3)
    assert parked.action == "parked"
    row = s.get_document_row(sha)
    assert (row.status, row.reason) == ("quarantined", "processing_failed")
    [failed] = s.list_failed_tasks()
    assert (failed.document_sha256, failed.retryable, failed.attempts) == (sha, False, 3)
    assert s.begin_attempt(sha, "t", "h:1", lease_s=60, max_attempts=3).action == "done"
    assert s.resubmit_document(sha, "clerk") is True  # `shinsei failed retry`
    assert s.begin_attempt(sha, "t9", "h:1", lease_s=60, max_attempts=3).attempts == 1
