"""Run legacy-sim as a child process (for tests and benchmarks): start it on a free port of a given
range, wait until it answers, stop or kill it, and count what it stored (straight from its SQLite)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port(first: int, last: int) -> int:
    """The first port in [first, last] nobody listens on (the caller's assigned range)."""
    for port in range(first, last + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class SimProcess:
    def __init__(self, db: Path, port: int, *args: str) -> None:
        self.db, self.port, self.args = db, port, list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> SimProcess:
        cmd = [
            sys.executable,
            "-m",
            "legacy_sim",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "-q",
            *self.args,
        ]
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"legacy-sim exited: {self.proc.stderr.read().decode(errors='replace') if self.proc.stderr else ''}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"legacy-sim did not answer on {self.url}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def rows(self) -> list[tuple[str, str]]:
        """(受付番号, 外部参照番号) of every stored application."""
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db, timeout=30) as c:
            return list(c.execute("SELECT uketsuke_no, ext_ref FROM applications ORDER BY id"))

    def detail(self, no: str) -> dict[str, str]:
        with sqlite3.connect(self.db, timeout=30) as c:
            c.row_factory = sqlite3.Row
            row = c.execute("SELECT * FROM applications WHERE uketsuke_no = ?", [no]).fetchone()
            return dict(row) if row else {}
