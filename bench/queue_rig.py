"""What the queue benchmarks start and stop: a private redis-server, a PostgreSQL database, real
`celery -A workers worker` processes and `shinsei` commands, all with their own environment.

Used by bench/throughput.py and bench/chaos.py; nothing here touches the shared Redis on 6379.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import redis

from bench.common import generate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


def create_pg_database(prefix: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database on the local server (127.0.0.1:5432, user postgres):
    its name and its SQLAlchemy URL. The benches, the rig and the tests all make theirs here."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return name, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(name: str) -> None:
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@contextlib.contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """`create_pg_database` for the length of a `with` block; yields the URL, drops it after."""
    name, url = create_pg_database(prefix)
    try:
        yield url
    finally:
        drop_pg_database(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def samples(out: Path, n: int, seed: int, *, formats: str = "png", multipage: bool = False) -> list[Path]:
    """Generated applications for the queue benchmarks (kept in `out`: a second run with the same
    arguments reuses them)."""
    return generate(out, n, seed, profile="mixed", fonts="train", formats=formats, multipage=multipage)


def manifest_pages(folder: Path) -> dict[str, int]:
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {f["file"]: f["pages"] for f in m["files"]}


class Redis:
    def __init__(self, workdir: Path, *, aof: bool) -> None:
        self.port = free_port()
        self.dir = workdir
        self.aof = aof
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.dir.mkdir(parents=True, exist_ok=True)
        args = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", ""]
        args += ["--maxmemory-policy", "noeviction"]
        # docs/deploy.md: AOF with fsync every second (a crash may lose the last second of writes)
        args += ["--appendonly", "yes", "--appendfsync", "everysec"] if self.aof else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            args, stdout=(self.dir / "redis.log").open("ab"), stderr=subprocess.STDOUT
        )
        wait_for(self.ping, 10, f"redis-server on port {self.port}", every=0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Worker:
    def __init__(
        self, env: dict[str, str], log: Path, concurrency: int, name: str, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.env, self.log_path, self.concurrency, self.name = env, log, concurrency, name
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        cmd = [
            str(BIN / "celery"),
            "-A",
            "workers",
            "worker",
            "-Q",
            "ocr,delivery",
            "-c",
            str(self.concurrency),
        ]
        cmd += [
            "-n",
            f"{self.name}@%h",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *self.extra_args,
        ]
        self._mark = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            text = self.log()[self._mark :]
            return (
                " ready." in text and len(re.findall(r"worker process \d+ ready", text)) >= self.concurrency
            )

        wait_for(ready, timeout, f"worker {self.name}")

    def children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill_all(self) -> None:
        """SIGKILL the whole worker (main process and pool), like the OOM killer or a power cut."""
        try:  # the group outlives its leader: pool processes of a main process killed before
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def kill_main(self) -> list[int]:
        """SIGKILL the main worker process only; returns its pool processes (left for the caller:
        a supervisor such as systemd kills what is left of the unit, `kill_all`)."""
        children = self.children()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        return children

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill_all()


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM = peak RSS) of a process, in KiB; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    vals = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return int(vals.get("VmRSS", 0)), int(vals.get("VmHWM", 0))


class Rig:
    """A private Redis + a fresh PostgreSQL database + a data directory, and the env that names them."""

    def __init__(self, workdir: Path, *, aof: bool = True, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.redis = Redis(workdir / "redis", aof=aof)
        self.redis.start()
        self.db, self.db_url = create_pg_database("shinsei_bench")
        self.data_dir = workdir / "data"
        base = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
        self.env = base | {
            "SHINSEI_BROKER_URL": self.redis.url,
            "SHINSEI_DATA_DIR": str(self.data_dir),
            "SHINSEI_DATABASE_URL": self.db_url,
            "PYTHONUNBUFFERED": "1",
        } | (extra_env or {})  # fmt: skip
        self.workers: list[Worker] = []

    def store(self):
        from pipeline.store import open_store

        return open_store(self.db_url)

    def worker(self, name: str, concurrency: int, env: dict[str, str] | None = None) -> Worker:
        w = Worker(self.env | (env or {}), self.workdir / f"{name}.log", concurrency, name)
        self.workers.append(w)
        return w

    def shinsei(self, *args: str, log: str = "shinsei.log") -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "shinsei"), *args], cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=(self.workdir / log).open("ab"), text=True,
        )  # fmt: skip

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        self.redis.kill()
        drop_pg_database(self.db)
