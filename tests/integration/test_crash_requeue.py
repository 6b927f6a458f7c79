"""Issue 15: with only workers and the hot folder running, a document reaches a final state within
a minute or two of any crash. Real parts: a private `redis-server` with AOF on a free port, real
`celery -A workers worker` processes, `shinsei watch` on an inbox, PostgreSQL. No `shinsei run`
(it would re-queue lost documents itself) and no nightly batch: only the workers' re-queue sweep
(workers/sweep.py) can rescue the documents here.

Leases and intervals are shortened so the tests take seconds: lease 4 s, heartbeat 1 s, sweep every
2 s, unstarted for 5 s. The two crashes of the issue:

1. the MAIN worker process killed with -9 in the middle of a document (its pool process is killed
   with it, as systemd cleans up a unit whose main process died): the claim stays, the message
   sits in Redis's unacked set for the 30-minute visibility timeout;
2. Redis killed just after a worker received a message and before it started it: Celery drops
   the received message on the lost connection, expecting Redis to restore it, and the restore
   cannot reach Redis.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.queue_rig import Redis, Worker, wait_for
from pipeline.ingest import sha256_file
from pipeline.intake import jobs
from pipeline.store import FINAL_STATUSES, Store, open_store
from pipeline.store.tables import utcnow
from tests.integration.test_queue import form_file

pytestmark = [pytest.mark.services, pytest.mark.model]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAST = {
    "SHINSEI_CLAIM_LEASE_S": "4",
    "SHINSEI_CLAIM_HEARTBEAT_S": "1",
    "SHINSEI_REQUEUE_EVERY_S": "2",
    "SHINSEI_REQUEUE_UNSTARTED_S": "5",
}


@pytest.fixture
def rig(pg_url: str, tmp_path: Path) -> Iterator[dict]:
    redis = Redis(tmp_path / "redis", aof=True)
    redis.start()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env = base | FAST | {
        "SHINSEI_BROKER_URL": redis.url,
        "SHINSEI_DATA_DIR": str(tmp_path / "data"),
        "SHINSEI_DATABASE_URL": pg_url,
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = open_store(pg_url)
    workers: list[Worker] = []
    watch = subprocess.Popen(
        [str(BIN / "shinsei"), "watch", str(inbox), "--stable-seconds", "0.3"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "watch.log").open("ab"),
    )  # fmt: skip
    try:
        yield {
            "redis": redis,
            "env": env,
            "inbox": inbox,
            "store": store,
            "workers": workers,
            "tmp": tmp_path,
        }
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.wait(30)
        for w in workers:
            w.stop() if w.proc.poll() is None else w.kill_all()
        redis.kill()
        store.close()


def start_worker(rig: dict, name: str, *extra: str) -> Worker:
    w = Worker(rig["env"], rig["tmp"] / f"{name}.log", concurrency=1, name=name, extra_args=extra)
    rig["workers"].append(w)
    return w


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def final(store: Store, sha: str) -> bool:
    st = store.document_states([sha]).get(sha)
    return st is not None and st.status in FINAL_STATUSES


def assert_final_once(store: Store, sha: str, pages: int) -> None:
    st = store.document_states([sha])[sha]
    assert st.status in FINAL_STATUSES and st.pages == pages, st
    history = [(h.from_status, h.to_status) for h in store.status_history(sha)]
    assert history[0] == (None, "processing") and len(history) == 2, history
    assert not {t.document_sha256 for t in store.list_failed_tasks(limit=1000)} & {sha}


def test_main_worker_process_killed_mid_document_is_final_within_120_s(rig: dict) -> None:
    store: Store = rig["store"]
    w1, w2 = start_worker(rig, "w1"), start_worker(rig, "w2")
    w1.wait_ready()
    w2.wait_ready()
    src = form_file(rig["tmp"] / "long.tiff", 24)  # ~3 s of OCR
    sha = sha256_file(src)
    os.replace(src, rig["inbox"] / src.name)
    row = wait_for(
        lambda: (r := store.get_document_row(sha)) is not None and r.claimed_by and r,
        60,
        "a claim",
        every=0.02,
    )
    pid = int(row.claimed_by.rsplit(":", 1)[1])
    holder, other = (w1, w2) if pid in w1.children() else (w2, w1)
    assert pid in holder.children(), (pid, w1.children(), w2.children())
    time.sleep(0.5)
    assert store.get_document_row(sha).status == "processing", "finished before the kill: use a bigger file"
    killed_at = time.monotonic()
    holder.kill_main()  # the main process: -9
    holder.kill_all()  # and what is left of it, as a supervisor would
    wait_for(lambda: not alive(pid), 10, f"pool process {pid} to die")
    wait_for(lambda: final(store, sha), 120, "the document to be final after its worker died", every=0.2)
    took = time.monotonic() - killed_at
    assert_final_once(store, sha, pages=24)
    done = store.get_document_row(sha)
    assert done.task_attempts == 2 and done.claimed_by != row.claimed_by  # run again, by the other worker
    assert int(done.claimed_by.rsplit(":", 1)[1]) in other.children()
    assert "queued again" in other.log()  # by the sweep, not by Redis (visibility timeout: 30 min)
    # lease 4 s + sweep 2 s + ~3 s of OCR, on a shared machine
    assert took < 60, took


def test_redis_lost_after_a_worker_received_a_message_but_before_it_started(rig: dict) -> None:
    """Worker with one process and a prefetch of two: while A runs, B is received and waits for the
    process (as a message does while a pool process is being replaced). Redis is killed then:
    Celery drops B, expecting Redis to restore it, and the restore cannot reach Redis. B was never
    started; only the sweep brings it back."""
    store: Store = rig["store"]
    w = start_worker(rig, "w1", "--prefetch-multiplier", "2")
    w.wait_ready()
    a_src = form_file(rig["tmp"] / "a.tiff", 24)
    b_src = form_file(rig["tmp"] / "b.tiff", 1)
    a, b = sha256_file(a_src), sha256_file(b_src)
    mark = len(w.log())
    os.replace(a_src, rig["inbox"] / a_src.name)
    wait_for(
        lambda: (r := store.get_document_row(a)) is not None and r.claimed_by, 60, "A's claim", every=0.02
    )
    os.replace(b_src, rig["inbox"] / b_src.name)
    received = re.compile(r"Task shinsei\.process_document\[[\w-]+\] received")
    wait_for(lambda: len(received.findall(w.log()[mark:])) >= 2, 30, "B to be received", every=0.01)
    b_row, a_row = store.get_document_row(b), store.get_document_row(a)
    assert a_row.status == "processing", "A finished before Redis went away: use a bigger file"
    assert b_row.claim_token is None and b_row.task_attempts == 0  # received, not started
    rig["redis"].kill()
    wait_for(lambda: "Connection to broker lost" in w.log()[mark:], 30, "the worker to see Redis gone")
    time.sleep(1.0)
    rig["redis"].start()  # same port, same AOF directory
    wait_for(lambda: final(store, a) and final(store, b), 120, "A and B to be final", every=0.2)
    assert_final_once(store, a, pages=24)
    assert_final_once(store, b, pages=1)
    log = w.log()[mark:]
    assert w.proc.poll() is None and "Unrecoverable error" not in log
    assert store.get_document_row(b).task_attempts == 1  # B ran once, after the sweep queued it again
    assert "queued again" in log


def test_the_broker_check_tells_a_backlog_from_a_lost_message(tmp_path: Path) -> None:
    """`messages_held` on a real Redis: a queued message (any priority) and one delivered but not
    acknowledged are held; once the delivery is older than `fresh_s` it no longer counts. And a
    re-queued document (priority 0) is delivered before the new ones (priority 3)."""
    from celery import Celery

    from workers.sweep import REQUEUED_PRIORITY, messages_held
    from workers.tasks import NEW_PRIORITY

    redis = Redis(tmp_path / "redis", aof=False)
    redis.start()
    app = Celery("probe", broker=redis.url)
    try:
        new, requeued, unknown = "a" * 64, "b" * 64, "c" * 64
        app.send_task("shinsei.process_document", (new,), queue="ocr", priority=NEW_PRIORITY)
        app.send_task("shinsei.process_document", (requeued,), queue="ocr", priority=REQUEUED_PRIORITY)
        assert messages_held(app, [new, requeued, unknown], 60) == {new, requeued}
        with app.connection_for_read() as conn:
            first = conn.default_channel.basic_get("ocr", no_ack=False)  # a worker takes one, no ack
            assert first is not None and first.headers["argsrepr"] == repr((requeued,))
            assert messages_held(app, [new, requeued], 60) == {new, requeued}  # delivered just now
            time.sleep(0.2)
            assert messages_held(app, [new, requeued], 0.1) == {new}  # delivered long ago, not started
    finally:
        redis.kill()


# Holders on "other machines": each worker names its claims with its own SHINSEI_WORKER_HOST, so to
# the other one (and to itself: neither is this hostname) a claim's pid cannot be checked and only
# the lease tells a dead holder from a live one. Lease 6 s, a heartbeat every 2 s, a sweep every 2 s.
FAR = {
    "SHINSEI_CLAIM_LEASE_S": "6",
    "SHINSEI_CLAIM_HEARTBEAT_S": "2",
    "SHINSEI_REQUEUE_EVERY_S": "2",
    "SHINSEI_MAX_PAGES": "200",  # a document that outlives a few leases
}


def test_a_holder_on_another_machine_is_waited_for_while_it_beats_and_requeued_after_its_lease(
    rig: dict,
) -> None:
    """The lease path alone: while the holder's heartbeat renews its claim, the other worker's sweep
    leaves the document alone for several leases (no second start); once the holder is killed -9,
    the document is queued again only after its lease ran out, and is final once, run again by the
    other worker within lease + sweep interval + the document itself."""
    store: Store = rig["store"]
    lease, every = float(FAR["SHINSEI_CLAIM_LEASE_S"]), float(FAR["SHINSEI_REQUEUE_EVERY_S"])
    far = {}
    for name in ("w1", "w2"):
        env = rig["env"] | FAR | {"SHINSEI_WORKER_HOST": f"{name}.far.example"}
        far[name] = Worker(env, rig["tmp"] / f"{name}.log", concurrency=1, name=name)
        rig["workers"].append(far[name])
    for w in far.values():
        w.wait_ready()
    src = form_file(rig["tmp"] / "long.tiff", 150)  # ~19 s of OCR here: outlives the 11 s watched below
    sha = sha256_file(src)
    os.replace(src, rig["inbox"] / src.name)
    row = wait_for(
        lambda: (r := store.get_document_row(sha)) is not None and r.claimed_by and r,
        60,
        "a claim",
        every=0.02,
    )
    claimed = time.monotonic()
    host, _, pid_s = row.claimed_by.rpartition(":")
    pid = int(pid_s)
    holder, other = (far["w1"], far["w2"]) if pid in far["w1"].children() else (far["w2"], far["w1"])
    assert host == f"{holder.name}.far.example" and pid in holder.children(), (row.claimed_by,)
    assert not jobs.holder_gone(row.claimed_by)  # its pid is not checked: another machine's

    # Alive: past lease + two sweeps, the claim is the same one, renewed, and nobody queued it again.
    first_lease = row.lease_until
    while time.monotonic() - claimed < lease + 2 * every + 1:
        now = store.get_document_row(sha)
        assert now.status == "processing", "finished while alive: use a bigger file"
        assert (now.claimed_by, now.claim_token, now.task_attempts) == (
            row.claimed_by,
            row.claim_token,
            row.task_attempts,
        ), now
        time.sleep(0.2)
    before_kill = store.get_document_row(sha)
    assert before_kill.lease_until > first_lease  # the heartbeat renewed it
    assert "queued again" not in other.log() and "queued again" not in holder.log()

    # Dead: killed -9 with its pool; the lease runs out, then the other worker's sweep queues it.
    killed_at = time.monotonic()
    lease_left = max(0.0, (before_kill.lease_until - utcnow()).total_seconds())
    holder.kill_main()
    holder.kill_all()
    wait_for(lambda: not alive(pid), 10, f"pool process {pid} to die")
    # The re-queue clears the claim's token (its holder's name stays until the next claim).
    wait_for(
        lambda: store.get_document_row(sha).claim_token != row.claim_token, 60, "the re-queue", every=0.05
    )
    reclaimed_after = time.monotonic() - killed_at
    taken = wait_for(
        lambda: (r := store.get_document_row(sha)).claim_token not in (None, row.claim_token) and r,
        60,
        "a second claim",
        every=0.05,
    )
    wait_for(lambda: final(store, sha), 90, "the document to be final after its worker died", every=0.2)
    took = time.monotonic() - killed_at
    assert_final_once(store, sha, pages=150)
    done = store.get_document_row(sha)
    assert done.task_attempts == 2 and done.claimed_by == taken.claimed_by  # started twice, in all
    assert int(done.claimed_by.rsplit(":", 1)[1]) in other.children()
    assert done.claimed_by.startswith(f"{other.name}.far.example:")
    # Only after the lease: the second claim is later than the last lease the dead holder renewed,
    # which was at most one heartbeat before the kill.
    assert taken.claimed_at >= before_kill.lease_until, (taken.claimed_at, before_kill.lease_until)
    assert reclaimed_after >= lease_left - 0.5, (reclaimed_after, lease_left)
    assert "queued again" in other.log()
    # lease + sweep interval (+ slack for a loaded machine) to the re-queue, plus the document itself
    assert reclaimed_after < lease + every + 10, reclaimed_after
    assert took < 90, took
