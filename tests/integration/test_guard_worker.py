"""The per-file guard in a real Celery worker (issue 10): `shinsei run` with a broker on a folder
holding a real file on which OpenCV raises (a 5000×2 px strip: the page is scaled to 400 px wide,
which leaves it 0 px high), a real AES-256 password-protected PDF and a form. The worker
quarantines the strip as `internal_error` and goes on; nothing is parked or left in failed_tasks.

A private redis-server, a real `celery -A workers worker` (the OCR model) and PostgreSQL, as in
tests/integration/test_queue.py; the services are started with bench/queue_rig.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from bench.queue_rig import Redis, Worker
from pipeline.ingest import sha256_file
from pipeline.store import open_store

pytestmark = [pytest.mark.services, pytest.mark.model]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_a_file_that_makes_opencv_raise_is_quarantined_by_the_worker_and_the_batch_goes_on(
    pg_url: str, tmp_path: Path
) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("RGB", (5000, 2), (255, 255, 255)).save(scans / "a_strip.png")
    w = PdfWriter(clone_from=REPO / "samples" / "demo" / "doc_0009.pdf")
    w.encrypt("secret", "owner", algorithm="AES-256")
    w.write(scans / "b_locked.pdf")
    Image.open(REPO / "templates_forms" / "nursery_enrolment" / "blank.png").save(scans / "c_form.png")
    shas = {p.name: sha256_file(p) for p in scans.iterdir()}

    redis = Redis(tmp_path / "redis", aof=False)
    redis.start()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env = base | {
        "SHINSEI_BROKER_URL": redis.url,
        "SHINSEI_DATA_DIR": str(tmp_path / "data"),
        "SHINSEI_DATABASE_URL": pg_url,
        "PYTHONUNBUFFERED": "1",
    }
    worker = Worker(env, tmp_path / "worker.log", concurrency=1, name="guard")
    try:
        worker.wait_ready()
        run = subprocess.run(
            [str(BIN / "shinsei"), "run", str(scans)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        worker.stop()
        redis.kill()
    assert run.returncode == 0, run.stderr
    assert re.search(r"documents\s+3", run.stdout) and re.search(r"quarantined\s+2", run.stdout)

    store = open_store(pg_url)
    try:
        states = store.document_states(list(shas.values()))
        assert (states[shas["a_strip.png"]].status, states[shas["a_strip.png"]].reason) == (
            "quarantined",
            "internal_error",
        )
        assert states[shas["b_locked.pdf"]].reason == "encrypted_pdf"
        assert states[shas["c_form.png"]].status == "review"  # processed after the failing file
        assert store.list_failed_tasks() == []  # quarantined by the guard, not parked as a failure
        row = store.get_document_row(shas["a_strip.png"])
        assert "cv2.error" in row.message and "システム担当者" in row.message
    finally:
        store.close()
    log = worker.log()
    assert log.count("unexpected cv2.error while processing") == 1  # the traceback, logged once
    assert "Traceback" in log
