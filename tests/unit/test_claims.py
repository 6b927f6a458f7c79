"""The queue's claim protocol (`Store.begin_attempt`) on SQLite: idempotent deliveries, and a
document that keeps killing workers is parked. The same protocol under real Redis and Celery is in
tests/integration/test_queue.py."""

from __future__ import annotations

import os
import re
import sys
import time
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


# --------------------------------------------------------------------------- leases (issue 15)


def _lease(s: Store, sha: str, seconds_from_now: float) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from pipeline.store.tables import DocumentRow

    with s.transaction() as t:
        t.execute(
            update(DocumentRow)
            .where(DocumentRow.sha256 == sha)
            .values(lease_until=datetime.now(UTC) + timedelta(seconds=seconds_from_now))
        )


def _age(s: Store, sha: str, seconds: float) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from pipeline.store.tables import DocumentRow

    with s.transaction() as t:
        t.execute(
            update(DocumentRow)
            .where(DocumentRow.sha256 == sha)
            .values(submitted_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


def test_a_claim_lapses_without_its_heartbeat_and_is_taken_over(sqlite_store: Store) -> None:
    s, sha = sqlite_store, "d" * 64
    s.submit_document(sha, "d.png", None)
    assert s.begin_attempt(sha, "t1", "h:1", lease_s=45, max_attempts=5).action == "run"
    assert s.begin_attempt(sha, "t2", "h:2", lease_s=45, max_attempts=5).action == "busy"
    assert s.renew_lease(sha, "t1", 45) is True
    assert s.renew_lease(sha, "t2", 45) is False  # not t2's claim
    _lease(s, sha, -1)  # h:1 stopped beating
    taken = s.begin_attempt(sha, "t2", "h:2", lease_s=45, max_attempts=5)
    assert (taken.action, taken.attempts) == ("run", 2)
    assert s.renew_lease(sha, "t1", 45) is False  # the dead holder's late beat changes nothing


def test_the_heartbeat_renews_the_lease_while_the_document_runs(sqlite_store: Store) -> None:
    from pipeline.intake.heartbeat import Heartbeat

    s, sha = sqlite_store, "e" * 64
    s.submit_document(sha, "e.png", None)
    s.begin_attempt(sha, "t1", "h:1", lease_s=2, max_attempts=5)
    first = s.get_document_row(sha).lease_until
    with Heartbeat(s, sha, "t1", lease_s=2, every_s=0.05) as hb:
        time.sleep(0.4)
    assert hb.beats >= 3 and not hb.lost
    later = s.get_document_row(sha).lease_until
    assert later > first
    time.sleep(0.2)
    assert s.get_document_row(sha).lease_until == later  # stopped with the document
    # re-queued meanwhile (its lease ran out): the beat notices it no longer holds the claim
    s.requeue_stuck(queued_before=first, shas=[sha], now=later)
    with Heartbeat(s, sha, "t1", lease_s=2, every_s=0.05) as hb:
        time.sleep(0.3)
    assert hb.lost and hb.beats == 0


def test_the_sweep_requeues_dead_holders_and_lost_messages_but_not_a_backlog(tmp_path: Path) -> None:
    from pipeline.intake import jobs
    from pipeline.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", requeue_unstarted_s=60)
    s = open_store(settings)
    try:
        running, dead, backlog, lost, young, failed = (c * 64 for c in "123456")
        for sha in (running, dead, backlog, lost, young, failed):
            s.submit_document(sha, f"{sha[0]}.png", None)
        for sha in (running, dead):
            s.begin_attempt(sha, f"t{sha[0]}", "h:1", lease_s=45, max_attempts=5)
        _lease(s, dead, -1)
        for sha in (backlog, lost, failed):
            _age(s, sha, 300)
        s.record_failed_task(
            "shinsei.process_document", exc=ValueError("x"), document_sha256=failed, retryable=True
        )
        asked: list[list[str]] = []

        def in_broker(shas: list[str]) -> set[str]:
            asked.append(sorted(shas))
            return {backlog}  # its message still waits in the queue

        queued: list[str] = []
        got = jobs.requeue_stuck(s, settings, queued.append, queued_for_s=60, in_broker=in_broker)
        assert sorted(got) == sorted(queued) == sorted([dead, lost])
        assert asked == [sorted([backlog, lost])]  # only unstarted documents past 60 s are asked about
        # a second sweeper right after finds nothing: each document was queued once
        again: list[str] = []
        assert jobs.requeue_stuck(s, settings, again.append, queued_for_s=60, in_broker=in_broker) == []
        assert again == []
        row = s.get_document_row(dead)
        assert row.claim_token is None and row.lease_until is None and row.task_attempts == 1
    finally:
        s.close()


def test_diagnosis_says_when_each_processing_document_moves_on(tmp_path: Path) -> None:
    from pipeline.intake.stuck import diagnose
    from pipeline.settings import Settings
    from pipeline.store.tables import utcnow

    settings = Settings(data_dir=tmp_path / "data")
    s = open_store(settings)
    try:
        running, dead, young, old = (c * 64 for c in "wxyz")
        for sha in (running, dead, young, old):
            s.submit_document(sha, f"{sha[0]}.png", None)
        for sha in (running, dead):
            s.begin_attempt(sha, f"t{sha[0]}", "ocr01:4242", lease_s=45, max_attempts=5)
        _lease(s, dead, -20)
        _age(s, old, 120)
        now = utcnow()
        by = {d.sha256: d for d in s.in_flight()}
        assert diagnose(by[running], now, settings).state == "running"
        gone = diagnose(by[dead], now, settings)
        assert gone.state == "holder_gone" and gone.requeue_in_s == 30
        assert "ocr01:4242" in gone.ja and "応答しません" in gone.ja and "died" in gone.en
        assert diagnose(by[young], now, settings).state == "queued"
        assert diagnose(by[old], now, settings).state == "waiting_or_lost"
        assert diagnose(by[old], now, settings, held=True).state == "waiting"
        lost = diagnose(by[old], now, settings, held=False)
        assert lost.state == "lost" and "失われ" in lost.ja
    finally:
        s.close()


def test_status_and_doctor_show_the_processing_documents(cli_env, capsys) -> None:
    from pipeline.cli.main import main

    s = open_store(cli_env)
    try:
        s.submit_document("f" * 64, "申込書_0001.png", None)
        s.submit_document("9" * 64, "scan_0002.png", None)
        s.begin_attempt("9" * 64, "t9", "ocr02:777", lease_s=45, max_attempts=5)
        _lease(s, "9" * 64, -5)
    finally:
        s.close()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "processing (2):" in out
    line = next(x for x in out.splitlines() if "scan_0002.png" in x and "holder_gone" in x)
    assert "ocr02:777" in line and "within 30 s" in line
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "処理中の書類 2 件" in out and "組み込みモード" in out
    assert re.search(r"ocr02:777 が\d+秒前から応答しません", out)


def test_a_retry_holds_the_claim_for_its_countdown(cli_env) -> None:
    """A task waiting to be retried does not beat: `on_retry` keeps its claim for the countdown
    (Celery's Retry carries it as `when`) plus one lease, so the sweep leaves it alone."""
    from datetime import timedelta

    from billiard.einfo import ExceptionInfo
    from celery.exceptions import Retry

    from pipeline.store.tables import utcnow
    from workers.tasks import process_document

    s = open_store(cli_env)
    sha = "7" * 64
    try:
        s.submit_document(sha, "retry.png", None)
        s.begin_attempt(sha, "task-7", "h:1", lease_s=45, max_attempts=5)
        try:
            raise Retry(exc=RuntimeError("database temporarily unavailable"), when=300)
        except Retry:
            einfo = ExceptionInfo()
        process_document.on_retry(None, "task-7", (sha,), {}, einfo)
        until = s.get_document_row(sha).lease_until
        assert timedelta(seconds=340) < until - utcnow() <= timedelta(seconds=345)
    finally:
        s.close()
        worker_app = sys.modules["workers.app"]
        if worker_app._resources is not None:
            worker_app._resources.store.close()
            worker_app._resources = None


def test_a_holder_known_dead_on_this_machine_is_not_waited_for(tmp_path: Path) -> None:
    """A claim held by a process of this machine that no longer exists is queued again at once,
    before its lease runs out; one held by a living process, or on another machine, waits."""
    import socket
    import subprocess

    from pipeline.intake import jobs
    from pipeline.settings import Settings

    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    settings = Settings(data_dir=tmp_path / "data")
    s = open_store(settings)
    try:
        gone, alive, remote = "g" * 64, "l" * 64, "r" * 64
        for sha, holder in (
            (gone, f"{host}:{dead.pid}"),
            (alive, f"{host}:{os.getpid()}"),
            (remote, f"elsewhere:{dead.pid}"),
        ):
            s.submit_document(sha, f"{sha[0]}.png", None)
            s.begin_attempt(sha, f"t{sha[0]}", holder, lease_s=45, max_attempts=5)
        assert jobs.holder_gone(f"{host}:{dead.pid}") and not jobs.holder_gone(f"{host}:{os.getpid()}")
        zombie = subprocess.Popen(["true"])  # exits, and is not reaped until wait()
        wait_until = time.monotonic() + 5
        while not jobs.holder_gone(f"{host}:{zombie.pid}") and time.monotonic() < wait_until:
            time.sleep(0.01)
        assert jobs.holder_gone(f"{host}:{zombie.pid}")
        zombie.wait()
        queued: list[str] = []
        assert jobs.requeue_stuck(s, settings, queued.append, queued_for_s=60, in_broker=lambda x: set()) == [
            gone
        ]
        # Redis redelivered the same task (same token) to a new process meanwhile: the stale
        # (token, holder) pair no longer matches, so the live claim is not reset
        s.begin_attempt(gone, "tg", f"{host}:{os.getpid()}", lease_s=45, max_attempts=5)
        stale = {gone: ("tg", f"{host}:{dead.pid}")}
        assert s.requeue_stuck(queued_before=utcnow_minus(60), gone=stale) == []
        assert s.get_document_row(gone).claimed_by == f"{host}:{os.getpid()}"
    finally:
        s.close()


def utcnow_minus(seconds: float):
    from datetime import timedelta

    from pipeline.store.tables import utcnow

    return utcnow() - timedelta(seconds=seconds)
