"""The hot folder on real files and a real SQLite store, with a hand-driven clock; enqueueing is a
list (the Celery side is in tests/integration/test_queue.py). One test runs the real watchdog observer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.errors import TransientError
from pipeline.intake import jobs
from pipeline.intake.hotfolder import HotFolder, WatchOptions, is_ignored
from pipeline.intake.receive import originals_path
from pipeline.settings import Settings
from pipeline.store import Store


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    p = tmp_path / "inbox"
    p.mkdir()
    return p


class Rig:
    def __init__(self, inbox: Path, settings: Settings, store: Store, **opts) -> None:
        self.clock = Clock()
        self.queued: list[str] = []
        self.settings, self.store = settings, store
        self.folder = HotFolder(
            inbox,
            WatchOptions(**({"stable_s": 2.0} | opts)),
            lambda p: jobs.submit(p, settings, store),
            self.queued.append,
            clock=self.clock,
        )

    def tick(self, advance: float = 0.0):
        self.clock.advance(advance)
        return self.folder.tick()


def scan_bytes(n: int) -> bytes:
    return b"%PDF-1.4\n" + n.to_bytes(4, "big") * 64 + b"\n%%EOF\n"


def test_a_file_is_taken_only_when_its_size_and_mtime_are_stable(inbox, settings, store) -> None:
    rig = Rig(inbox, settings, store)
    f = inbox / "scan1.pdf"
    f.write_bytes(scan_bytes(1))
    rig.folder.scan()
    assert rig.tick().taken == []  # just seen
    assert rig.tick(1.0).taken == []  # stable for 1 s < 2 s
    with f.open("ab") as fh:  # the scanner writes more: the clock starts again
        fh.write(b"more")
    assert rig.tick(1.5).taken == []
    assert rig.tick(1.5).taken == []
    res = rig.tick(1.0)
    assert len(res.taken) == 1 and rig.queued == res.taken
    sha = res.taken[0]
    assert not f.exists()  # removed from the inbox only after it was stored
    assert originals_path(Path(settings.data_dir), sha, ".pdf").read_bytes() == scan_bytes(1) + b"more"
    assert store.document_states([sha])[sha].status == "processing"


def test_done_marker_mode_waits_for_the_marker_and_removes_it(inbox, settings, store) -> None:
    rig = Rig(inbox, settings, store, done_marker=True)
    f = inbox / "scan.pdf"
    f.write_bytes(scan_bytes(2))
    rig.folder.scan()
    assert rig.tick(60).taken == []  # stable for a minute, but no marker
    marker = inbox / "scan.pdf.done"
    marker.write_text("")
    rig.folder.notice(marker)  # what watchdog reports
    assert len(rig.tick().taken) == 1
    assert not f.exists() and not marker.exists()


def test_names_that_are_never_taken(inbox, settings, store) -> None:
    names = [
        ".hidden.pdf",
        "~$lock.pdf",
        "scan.pdf.part",
        "x.tmp",
        "dl.crdownload",
        "a.pdf.done",
        "Thumbs.db",
    ]
    for n in names:
        (inbox / n).write_bytes(b"x")
        assert is_ignored(inbox / n)
    rig = Rig(inbox, settings, store)
    rig.folder.scan()
    rig.tick()
    assert rig.tick(10).taken == [] and rig.folder.pending == 0
    assert sorted(p.name for p in inbox.iterdir()) == sorted(names)


def test_subfolders_only_when_recursive(inbox, settings, store) -> None:
    sub = inbox / "2026-11" / "am"
    sub.mkdir(parents=True)
    (sub / "deep.pdf").write_bytes(scan_bytes(3))
    (inbox / "top.pdf").write_bytes(scan_bytes(4))
    flat = Rig(inbox, settings, store)
    flat.folder.scan()
    flat.tick()
    assert len(flat.tick(5).taken) == 1 and (sub / "deep.pdf").exists()
    deep = Rig(inbox, settings, store, recursive=True)
    deep.folder.scan()
    deep.tick()
    assert len(deep.tick(5).taken) == 1 and not (sub / "deep.pdf").exists()
    assert sub.is_dir()  # folders are left alone


def test_the_same_file_dropped_twice_is_recorded_and_queued_once(inbox, settings, store) -> None:
    rig = Rig(inbox, settings, store)
    (inbox / "a.pdf").write_bytes(scan_bytes(5))
    (inbox / "a (copy).pdf").write_bytes(scan_bytes(5))  # both at once
    rig.folder.scan()
    rig.tick()
    res = rig.tick(3)
    assert len(res.taken) == 1 and len(res.duplicates) == 1
    (inbox / "a.pdf").write_bytes(scan_bytes(5))  # and again later
    rig.folder.scan()
    rig.tick()
    res = rig.tick(3)
    assert res.taken == [] and len(res.duplicates) == 1
    assert len(rig.queued) == 1 and list(inbox.iterdir()) == []
    assert store.counts_by_status() == {"processing": 1}


def test_a_file_that_cannot_be_recorded_stays_in_the_inbox(inbox, settings, store) -> None:
    calls = []

    def flaky_submit(p: Path) -> jobs.Submitted:
        calls.append(p)
        if len(calls) == 1:
            raise TransientError("database temporarily unavailable")
        return jobs.submit(p, settings, store)

    queued: list[str] = []
    clock = Clock()
    folder = HotFolder(inbox, WatchOptions(stable_s=1), flaky_submit, queued.append, clock=clock)
    f = inbox / "b.pdf"
    f.write_bytes(scan_bytes(6))
    folder.scan()
    folder.tick()
    clock.advance(2)
    assert folder.tick().failed == [f] and f.exists()  # kept: nothing lost
    clock.advance(2)
    assert folder.tick().taken == []  # backing off
    clock.advance(10)
    assert len(folder.tick().taken) == 1 and not f.exists() and len(queued) == 1


def test_a_broker_outage_delays_queueing_but_loses_nothing(inbox, settings, store) -> None:
    queued: list[str] = []
    broker_up = False

    def enqueue(sha: str) -> None:
        if not broker_up:
            raise TransientError("broker unreachable")
        queued.append(sha)

    clock = Clock()
    folder = HotFolder(
        inbox, WatchOptions(stable_s=1), lambda p: jobs.submit(p, settings, store), enqueue, clock=clock
    )
    for i in range(3):
        (inbox / f"c{i}.pdf").write_bytes(scan_bytes(10 + i))
    folder.scan()
    folder.tick()
    clock.advance(2)
    assert len(folder.tick().taken) == 3
    assert list(inbox.iterdir()) == [] and queued == [] and folder.pending == 3  # stored, not yet queued
    broker_up = True
    folder.tick()
    assert len(queued) == 3 and folder.pending == 0


def test_a_recorded_but_never_queued_document_is_found_by_the_sweeper(inbox, settings, store) -> None:
    """A crash between recording and queueing: the inbox copy is taken again as a duplicate, and
    the stuck `processing` document is queued again by `requeue_stuck` (nightly / `shinsei run`)."""
    f = inbox / "d.pdf"
    f.write_bytes(scan_bytes(20))
    sub = jobs.submit(f, settings, store)  # ... and the process died here
    rig = Rig(inbox, settings, store)
    rig.folder.scan()
    rig.tick()
    assert rig.tick(3).duplicates == [sub.sha256] and rig.queued == [] and not f.exists()
    requeued: list[str] = []
    assert jobs.requeue_stuck(store, settings, requeued.append) == []  # not yet: could be queued
    assert jobs.requeue_stuck(store, settings, requeued.append, queued_for_s=0) == [sub.sha256]
    assert requeued == [sub.sha256]


def test_the_watchdog_observer_sees_a_burst(inbox, settings, store) -> None:
    queued: list[str] = []
    lock = threading.Lock()

    def enqueue(sha: str) -> None:
        with lock:
            queued.append(sha)

    folder = HotFolder(
        inbox,
        WatchOptions(stable_s=0.3, tick_s=0.1, rescan_s=3600),  # no rescans: events alone
        lambda p: jobs.submit(p, settings, store),
        enqueue,
    )
    stop = threading.Event()
    t = threading.Thread(target=folder.run, args=(stop,), daemon=True)
    t.start()
    time.sleep(0.5)
    for i in range(60):
        (inbox / f"burst{i:03d}.pdf").write_bytes(scan_bytes(100 + i))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(queued) < 60 or any(inbox.iterdir())):
        time.sleep(0.1)
    stop.set()
    t.join(10)
    assert len(set(queued)) == 60 and list(inbox.iterdir()) == []
    assert store.counts_by_status() == {"processing": 60}
