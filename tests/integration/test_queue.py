"""The queue for real: a private `redis-server` on a free port and real `celery -A workers worker`
processes started here, PostgreSQL as the store, and the `shinsei` CLI (`run` in broker mode,
`watch`) as subprocesses. No mocks and no eager mode. Faults are real too: a pool process killed
with SIGKILL in the middle of a document, Redis killed and restarted empty in the middle of a batch.

Inputs are made here: the nursery form's blank with a unique nonce per file (the pipeline reads it
as a form with empty fields → review, ~0.13 s a page), and tiny blank PNGs for the burst
(→ unknown_form, blank page). Each file has its own sha256.

The claim protocol itself (`Store.begin_attempt`) is tested without services in
tests/unit/test_claims.py.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.queue_rig import Redis, Worker, wait_for
from pipeline.store import FINAL_STATUSES, Store, open_store

# A private redis-server, Celery workers running the real pipeline (the OCR model), PostgreSQL.
pytestmark = [pytest.mark.services, pytest.mark.model]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------- inputs


@lru_cache(maxsize=1)
def _blank_tiff(pages: int) -> bytes:
    blank = Image.open(REPO / "templates_forms" / "nursery_enrolment" / "blank.png").convert("L")
    buf = io.BytesIO()
    blank.save(buf, "TIFF", save_all=True, append_images=[blank] * (pages - 1), compression="tiff_deflate")
    return buf.getvalue()


def form_file(path: Path, pages: int) -> Path:
    """A `pages`-page TIFF of the blank form, unique by a nonce after its last IFD (ignored by readers)."""
    path.write_bytes(_blank_tiff(pages) + b"nonce:" + uuid.uuid4().bytes)
    return path


def tiny_png(path: Path, i: int) -> Path:
    """A small blank PNG with a unique tEXt chunk: a real file, processed to a blank-page verdict."""
    buf = io.BytesIO()
    Image.fromarray(np.full((80, 60), 255, np.uint8)).save(buf, "PNG")
    data = buf.getvalue()
    body = b"tEXt" + b"nonce\x00" + f"{i}-{uuid.uuid4()}".encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    path.write_bytes(data[:-12] + chunk + data[-12:])  # before IEND
    return path


# --------------------------------------------------------------------------- services


# The private redis-server, celery worker and waiting helper are the benchmarks' own
# (bench/queue_rig.py), so the tests and `bench/chaos.py` start services the same way.
class RedisServer(Redis):
    """A private redis-server this test module owns, without persistence: a restart loses every
    queued message, the worst case the store must cover."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, aof=False)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def env(broker: RedisServer, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("data")
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    return base | {
        "SHINSEI_BROKER_URL": broker.url,
        "SHINSEI_DATA_DIR": str(data),
        "SHINSEI_DATABASE_URL": pg_url,
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def store(pg_url: str) -> Iterator[Store]:
    s = open_store(pg_url)
    yield s
    s.close()


@pytest.fixture(scope="module")
def worker(env: dict[str, str], store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = Worker(env, tmp_path_factory.mktemp("logs") / "worker.log", concurrency=2, name="w1")
    try:
        w.wait_ready()
        yield w
    finally:
        w.stop()


def shinsei(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "shinsei"), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
        text=True,
    )


def all_final(store: Store, shas: list[str]) -> bool:
    states = store.document_states(shas)
    return len(states) == len(shas) and all(s.status in FINAL_STATUSES for s in states.values())


def assert_exactly_once(store: Store, shas: list[str], pages: int | None = None) -> None:
    """Each document is in one final state, reached once, with its pages stored once, and nothing
    in the failed-task table."""
    states = store.document_states(shas)
    assert sorted(states) == sorted(shas)
    for sha in shas:
        st = states[sha]
        assert st.status in FINAL_STATUSES, (sha, st)
        if pages is not None:
            assert st.pages == pages, (sha, st)
        history = [(h.from_status, h.to_status) for h in store.status_history(sha)]
        assert history[0] == (None, "processing") and len(history) == 2, (sha, history)
    failed = {t.document_sha256 for t in store.list_failed_tasks(limit=10_000)}
    assert not failed & set(shas)


# --------------------------------------------------------------------------- faults


def test_kill_9_in_the_middle_of_a_document_still_completes_it_once(env, worker, store, tmp_path) -> None:
    f = form_file(tmp_path / "twelve_pages.tiff", 12)  # ~1.5 s of OCR
    run = shinsei(env, "run", str(f), "--json", log=tmp_path / "run.log")
    from pipeline.ingest import sha256_file

    sha = sha256_file(f)
    row = wait_for(
        lambda: (r := store.get_document_row(sha)) is not None and r.claimed_by and r,
        60,
        "a worker to claim the document",
        every=0.02,
    )
    time.sleep(0.4)  # well into the pages
    assert store.get_document_row(sha).status == "processing", "finished before the kill: use a bigger file"
    victim = int(row.claimed_by.rsplit(":", 1)[1])
    os.kill(victim, signal.SIGKILL)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0, (tmp_path / "run.log").read_text()
    assert_exactly_once(store, [sha], pages=12)
    done = store.get_document_row(sha)
    assert done.task_attempts == 2 and done.claimed_by != row.claimed_by  # redelivered, taken over
    assert f"pid:{victim} exited with 'signal 9 (SIGKILL)'" in worker.log()
    assert [line for line in out.splitlines() if sha in line] and '"route": "review"' in out


def test_the_same_file_dropped_twice_is_processed_once(env, worker, store, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = shinsei(env, "watch", str(inbox), "--stable-seconds", "0.5", log=tmp_path / "watch.log")
    try:
        src = form_file(tmp_path / "application.tiff", 2)
        from pipeline.ingest import sha256_file

        sha = sha256_file(src)
        shutil.copy(src, inbox / "scan_0001.tiff")
        shutil.copy(src, inbox / "scan_0001 (2).tiff")  # dropped twice at once
        wait_for(lambda: all_final(store, [sha]), 60, "the document to be processed")
        shutil.copy(src, inbox / "scan_0001.tiff")  # and again the next morning
        wait_for(lambda: not any(inbox.iterdir()), 30, "the inbox to be emptied")
        time.sleep(1.0)  # time for a wrongly queued second task to run
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    assert_exactly_once(store, [sha], pages=2)
    assert store.get_document_row(sha).task_attempts == 1  # one task ever ran on it
    assert (tmp_path / "watch.log").read_text().count("is the same file as document") == 2


def test_a_burst_of_200_files_into_the_hot_folder_is_all_processed(env, worker, store, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = shinsei(env, "watch", str(inbox), "--stable-seconds", "0.5", log=tmp_path / "watch.log")
    try:
        files = [tiny_png(tmp_path / f"b{i:03d}.png", i) for i in range(200)]
        from pipeline.ingest import sha256_file

        shas = [sha256_file(f) for f in files]
        time.sleep(1.0)  # the watcher is up
        for f in files:
            os.replace(f, inbox / f.name)
        wait_for(lambda: all_final(store, shas), 120, "all 200 documents to be processed", every=0.5)
        wait_for(lambda: not any(inbox.iterdir()), 10, "the inbox to be emptied")
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    assert_exactly_once(store, shas)
    assert {s.route for s in store.document_states(shas).values()} == {"unknown_form"}


def test_the_nightly_batch_runs_as_a_celery_task_on_the_delivery_queue(env, worker, store) -> None:
    from sqlalchemy import select

    from pipeline.intake.nightly import step_names
    from pipeline.store.tables import AuditLog

    call = [str(BIN / "celery"), "-A", "workers", "call", "shinsei.nightly", "--args", '["2026-11-24"]']
    subprocess.run(call, cwd=REPO, env=env, check=True, capture_output=True, timeout=60)

    def ran() -> dict | None:
        with store.session() as s:
            details = s.scalars(select(AuditLog.detail).where(AuditLog.action == "batch_nightly")).all()
        return next((d for d in details if d["day"] == "2026-11-24"), None)

    detail = wait_for(ran, 60, "the nightly batch to run in the worker")
    assert detail["ok"] and [st["name"] for st in detail["steps"]] == step_names()
    # the audit row is committed just before the task returns: its log line may follow a moment later
    wait_for(
        lambda: re.search(r"Task shinsei\.nightly\[[\w-]+\] succeeded", worker.log()), 10, "the success log"
    )


def test_the_worker_survives_losing_redis_while_one_document_runs(
    env, broker, worker, store, tmp_path
) -> None:
    """One document running (its message unacked) while the other pool process is idle, so the
    consumer sits in a blocking BRPOP: the exact state in which Celery 5.7's reconnect closed a
    channel whose transport it had already collected, and the whole worker died with
    "Unrecoverable error: AttributeError('NoneType' object has no attribute 'hostname')"."""
    from pipeline.ingest import sha256_file

    f = form_file(tmp_path / "long.tiff", 12)  # ~1.5 s of OCR
    sha = sha256_file(f)
    mark = len(worker.log())
    run = shinsei(env, "run", str(f), "--json", log=tmp_path / "run.log")
    wait_for(
        lambda: (r := store.get_document_row(sha)) is not None and r.claimed_by, 60, "a claim", every=0.02
    )
    time.sleep(0.2)
    assert store.get_document_row(sha).status == "processing", "finished before the restart"
    broker.kill()
    time.sleep(0.5)
    broker.start()
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    log = worker.log()[mark:]
    assert worker.proc.poll() is None and "Unrecoverable error" not in log, log[-3000:]
    assert "Connection to broker lost" in log  # the fault did happen
    assert_exactly_once(store, [sha], pages=12)
    # and the worker still takes new work after reconnecting
    g = form_file(tmp_path / "after.tiff", 1)
    after = shinsei(env, "run", str(g), "--json", log=tmp_path / "run2.log")
    out, _ = after.communicate(timeout=120)
    assert after.returncode == 0 and sha256_file(g) in out, worker.log()[mark:][-3000:]


def test_redis_restarted_empty_in_the_middle_of_a_batch(env, broker, worker, store, tmp_path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    files = [form_file(folder / f"app_{i:02d}.tiff", 4) for i in range(24)]  # ~0.5 s each
    from pipeline.ingest import sha256_file

    shas = [sha256_file(f) for f in files]
    run = shinsei(env, "run", str(folder), "--json", log=tmp_path / "run.log")
    wait_for(
        lambda: sum(s.status in FINAL_STATUSES for s in store.document_states(shas).values()) >= 3,
        60,
        "a start",
    )
    states = store.document_states(shas)
    assert sum(s.status == "processing" for s in states.values()) >= 10, "the batch ended before the restart"
    broker.kill()  # SIGKILL: every queued and unacked message is gone
    time.sleep(1.0)
    broker.start()
    out, _ = run.communicate(timeout=150)
    assert run.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert_exactly_once(store, shas, pages=4)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert len(lines) == 24 and len({re.search(r'"sha256": "(\w+)"', x)[1] for x in lines}) == 24
    assert all(store.get_document_row(s).task_attempts == 1 for s in shas)  # no document ran twice
