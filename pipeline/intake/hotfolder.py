"""The hot folder: staff drop scans into an inbox; each complete file is stored, recorded, removed
from the inbox and queued (`shinsei watch INBOX`).

A file is taken only when complete:
  - by default when its size and mtime have not changed for `stable_s` seconds (a scanner or a
    copy over the network writes in bursts; 5 s is the default), or
  - with `done_marker`, only once `NAME.done` exists next to `NAME` (for writers that pause longer;
    the marker is removed with the file).
Names that are never taken: hidden files (`.x`), Office lock files (`~$x`), `*.part`, `*.tmp`,
`*.crdownload`, `*.done`, Thumbs.db, desktop.ini. Subfolders are watched only with `recursive`.

Taking a file, in this order, so that a crash at any point loses nothing and doubles nothing:
  1. `submit`: copy into the content-addressed originals store (atomic rename) and record the
     document as `processing` in the database (committed); same bytes seen before → a duplicate
  2. fsync the stored copy, then delete the inbox file (never before it is stored)
  3. `enqueue` the sha256 (a new document only); if the broker is down it is retried every tick,
     and the nightly batch re-queues anything still unqueued
A crash before 2 leaves the inbox file, which is taken again (same sha256: nothing doubled).

Events come from watchdog (inotify, or polling for network shares where inotify sees nothing); a
full rescan every `rescan_s` catches anything an event queue overflow (a 1,000-file burst) missed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from pipeline.intake.jobs import Enqueue, Submitted

log = logging.getLogger("shinsei.hotfolder")

DONE_SUFFIX = ".done"
IGNORED_NAMES = frozenset({"Thumbs.db", "desktop.ini", ".DS_Store"})
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", DONE_SUFFIX)


@dataclass(frozen=True)
class WatchOptions:
    stable_s: float = 5.0
    done_marker: bool = False
    recursive: bool = False
    polling: bool = False
    rescan_s: float = 30.0
    tick_s: float = 0.5

    @classmethod
    def from_settings(cls, settings, **overrides) -> WatchOptions:
        opts = cls(
            stable_s=settings.hotfolder_stable_s,
            done_marker=settings.hotfolder_done_marker,
            recursive=settings.hotfolder_recursive,
            polling=settings.hotfolder_polling,
        )
        return cls(**{**opts.__dict__, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class _Candidate:
    size: int
    mtime_ns: int
    since: float  # monotonic time the file was first seen with this size and mtime


@dataclass
class TickResult:
    taken: list[str] = field(default_factory=list)  # sha256 of new documents
    duplicates: list[str] = field(default_factory=list)  # same bytes as a known document
    failed: list[Path] = field(default_factory=list)  # kept in the inbox, tried again later


def is_ignored(path: Path) -> bool:
    name = path.name
    return name in IGNORED_NAMES or name.startswith((".", "~$")) or name.lower().endswith(IGNORED_SUFFIXES)


class HotFolder:
    """Decides when inbox files are complete and takes them. Thread-safe `notice`; everything else
    runs on the caller's thread (`run`, or `scan` + `tick` in tests)."""

    def __init__(
        self,
        inbox: Path,
        opts: WatchOptions,
        submit: Callable[[Path], Submitted],
        enqueue: Enqueue,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inbox = Path(inbox)
        self.opts = opts
        self.submit = submit
        self.enqueue = enqueue
        self.clock = clock
        self._candidates: dict[Path, _Candidate] = {}
        self._events: queue.SimpleQueue[Path | None] = queue.SimpleQueue()  # None: rescan
        self._unqueued: list[str] = []  # recorded but not yet queued (broker down)
        self._retry_after: dict[Path, float] = {}

    # --- discovering files ---

    def _wanted(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.inbox)
        except ValueError:
            return False
        if not self.opts.recursive and len(rel.parts) != 1:
            return False
        return not any(p.startswith(".") for p in rel.parts[:-1]) and not is_ignored(path)

    def notice(self, path: Path | None) -> None:
        """Called from watchdog's thread: `path` may have changed (None: rescan everything)."""
        self._events.put(path)

    def scan(self) -> None:
        walker = self.inbox.rglob("*") if self.opts.recursive else self.inbox.iterdir()
        for p in walker:
            if p.is_file() and self._wanted(p):
                self._see(p)

    def _drain(self) -> None:
        rescan = False
        while True:
            try:
                p = self._events.get_nowait()
            except queue.Empty:
                break
            if p is None:
                rescan = True
            else:
                if p.name.endswith(DONE_SUFFIX):
                    p = p.with_name(p.name[: -len(DONE_SUFFIX)])
                if self._wanted(p):
                    self._see(p)
        if rescan:
            self.scan()

    def _see(self, path: Path) -> None:
        if path in self._candidates:
            return
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        self._candidates[path] = _Candidate(st.st_size, st.st_mtime_ns, self.clock())

    @property
    def pending(self) -> int:
        """Files seen but not taken yet, plus documents recorded but not yet queued."""
        return len(self._candidates) + len(self._unqueued)

    # --- taking files ---

    def _ready(self, path: Path, cand: _Candidate, now: float) -> bool:
        try:
            st = path.stat()
        except FileNotFoundError:
            del self._candidates[path]
            return False
        if (st.st_size, st.st_mtime_ns) != (cand.size, cand.mtime_ns):
            self._candidates[path] = _Candidate(st.st_size, st.st_mtime_ns, now)
            return False
        if now < self._retry_after.get(path, 0.0):
            return False
        if self.opts.done_marker:
            return path.with_name(path.name + DONE_SUFFIX).exists()
        return now - cand.since >= self.opts.stable_s

    def tick(self) -> TickResult:
        """Take every complete file now; retry queueing what the broker refused before."""
        self._drain()
        result = TickResult()
        self._flush_unqueued()
        now = self.clock()
        for path, cand in sorted(self._candidates.items()):
            if self._ready(path, cand, now):
                self._take(path, cand, result)
        return result

    def _take(self, path: Path, cand: _Candidate, result: TickResult) -> None:
        try:
            sub = self.submit(path)
        except FileNotFoundError:
            self._forget(path)
            return
        except Exception as exc:  # database down, permission denied: keep the file, try again later
            log.warning("could not take %s (%s: %s); will try again", path.name, type(exc).__name__, exc)
            self._retry_after[path] = self.clock() + max(5.0, self.opts.stable_s)
            result.failed.append(path)
            return
        st = path.stat() if path.exists() else None
        if st is not None and (st.st_size, st.st_mtime_ns) != (cand.size, cand.mtime_ns):
            # The writer was not finished after all: keep the file; it is taken again once stable.
            log.warning("%s changed while being taken; it will be taken again when complete", path.name)
            self._candidates[path] = _Candidate(st.st_size, st.st_mtime_ns, self.clock())
        else:
            _fsync(sub.stored_path)
            path.unlink(missing_ok=True)  # stored and recorded: the inbox copy may go
            path.with_name(path.name + DONE_SUFFIX).unlink(missing_ok=True)
            self._forget(path)
        if sub.new:
            log.info("took %s as %s", path.name, sub.sha256[:12])
            result.taken.append(sub.sha256)
            self._unqueued.append(sub.sha256)
            self._flush_unqueued()
        else:
            log.info("%s is the same file as document %s: not processed again", path.name, sub.sha256[:12])
            result.duplicates.append(sub.sha256)

    def _forget(self, path: Path) -> None:
        self._candidates.pop(path, None)
        self._retry_after.pop(path, None)

    def _flush_unqueued(self) -> None:
        while self._unqueued:
            sha = self._unqueued[0]
            try:
                self.enqueue(sha)
            except Exception as exc:
                log.warning("could not queue %s (%s); will try again", sha[:12], exc)
                return
            self._unqueued.pop(0)

    # --- running ---

    def run(self, stop: threading.Event, on_tick: Callable[[TickResult], None] | None = None) -> None:
        """Watch until `stop` is set."""
        observer = self._observer()
        observer.start()
        try:
            self.scan()
            last_scan = self.clock()
            while not stop.is_set():
                res = self.tick()
                if on_tick is not None:
                    on_tick(res)
                if self.clock() - last_scan >= self.opts.rescan_s:
                    self.scan()
                    last_scan = self.clock()
                stop.wait(self.opts.tick_s)
        finally:
            observer.stop()
            observer.join(timeout=5)

    def run_until_empty(self, timeout_s: float) -> TickResult:
        """Take what is in the inbox now, waiting for files to become complete; then return."""
        total = TickResult()
        self.scan()
        deadline = self.clock() + timeout_s
        while self.clock() < deadline:
            res = self.tick()
            total.taken += res.taken
            total.duplicates += res.duplicates
            if not self.pending:
                break
            time.sleep(self.opts.tick_s)
        return total

    def _observer(self):
        if self.opts.polling:
            from watchdog.observers.polling import PollingObserver

            observer = PollingObserver(timeout=max(1.0, self.opts.tick_s))
        else:
            from watchdog.observers import Observer

            observer = Observer()
        observer.schedule(_Handler(self), str(self.inbox), recursive=self.opts.recursive)
        return observer


class _Handler(FileSystemEventHandler):
    def __init__(self, folder: HotFolder) -> None:
        self.folder = folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "deleted", "closed_no_write"):
            return
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                self.folder.notice(None)  # a folder moved in with files: look at everything
            return
        path = getattr(event, "dest_path", "") or event.src_path
        self.folder.notice(Path(os.fsdecode(path)))


def _fsync(path: Path) -> None:
    """Make the stored copy durable before the inbox copy is deleted."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
