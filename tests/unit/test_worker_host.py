"""SHINSEI_WORKER_HOST: the host part of a worker's claims, and whose pids the sweep checks."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from pipeline.intake import jobs
from pipeline.settings import Settings


def test_worker_host_names_claims_and_decides_whose_pids_are_checked(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    plain = Settings(data_dir=tmp_path / "data")
    named = Settings(data_dir=tmp_path / "data", worker_host="ocr-a.local")
    assert jobs.worker_id() == jobs.worker_id(plain) == f"{socket.gethostname()}:{os.getpid()}"
    assert jobs.worker_id(named) == f"ocr-a.local:{os.getpid()}"
    # A holder named for this worker's host has its pid checked; under another name it waits for
    # its lease, even though the pid is this machine's (and dead).
    assert jobs.holder_gone(f"ocr-a.local:{dead.pid}", jobs.this_host(named))
    assert not jobs.holder_gone(f"ocr-a.local:{dead.pid}", jobs.this_host(plain))
    assert not jobs.holder_gone(f"{socket.gethostname()}:{dead.pid}", jobs.this_host(named))
    assert jobs.holder_gone(f"{socket.gethostname()}:{dead.pid}")


def test_worker_host_is_read_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SHINSEI_WORKER_HOST", "ocr-b.local")
    assert jobs.this_host(Settings(data_dir=tmp_path / "data")) == "ocr-b.local"
