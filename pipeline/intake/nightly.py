"""The nightly batch: an ordered list of named steps, run by Celery beat (`shinsei.nightly`, at
settings.nightly_at) or by hand (`shinsei batch nightly [--date D]`).

    requeue_stuck    queue again `processing` documents whose message was lost
    retry_failed     resubmit documents whose failed task is retryable (a transient error)
    export_accepted  move the day's `accepted` documents to `exported` and write their CSV files
    purge_retention  delete scans and crops of settled documents older than settings.retention_days
    report           the morning report for supervisors, DATA_DIR/reports/<day>/ (pipeline/report)

A step is a function `step(ctx: BatchContext) -> dict` registered with `@nightly_step("name")`; it
returns what it did (counted, JSON-able) and raises on failure. Later work (delivery to legacy
systems, QA sampling, the daily report) adds a step, not a new mechanism. A failing step is
reported and the later steps still run; the whole run is written to the audit log. Only one batch
runs at a time (a PostgreSQL advisory lock, or a file lock next to the SQLite database), so beat
and a person running it by hand cannot overlap. Every step is safe to run again for the same day.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.adapters.export import Record, export_csv
from pipeline.forms.template import load_all_templates
from pipeline.intake import jobs
from pipeline.settings import Settings
from pipeline.store import FailedTask, Store
from pipeline.store.tables import utcnow

log = logging.getLogger("shinsei.batch")

PURGE_STATUSES = ("exported", "quarantined")  # settled: no person needs the image any more


@dataclass
class BatchContext:
    settings: Settings
    store: Store
    day: date  # the day being closed (local date in settings.timezone)
    enqueue: jobs.Enqueue
    now: datetime = field(default_factory=utcnow)
    actor: str = "batch"

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


Step = Callable[[BatchContext], dict[str, Any]]
NIGHTLY_STEPS: list[tuple[str, Step]] = []


def nightly_step(name: str) -> Callable[[Step], Step]:
    """Register `fn` as the next nightly step under `name` (steps run in registration order)."""

    def register(fn: Step) -> Step:
        if any(n == name for n, _ in NIGHTLY_STEPS):
            raise ValueError(f"nightly step {name!r} is registered twice")
        NIGHTLY_STEPS.append((name, fn))
        return fn

    return register


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    detail: dict[str, Any]
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class BatchRun:
    day: date
    steps: tuple[StepResult, ...] = ()
    skipped: str | None = None  # why nothing ran (another batch holds the lock)

    @property
    def ok(self) -> bool:
        return self.skipped is None and all(s.ok for s in self.steps)

    def export(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "ok": self.ok,
            "skipped": self.skipped,
            "steps": [
                {
                    "name": s.name,
                    "ok": s.ok,
                    "seconds": round(s.seconds, 3),
                    "detail": s.detail,
                    "error": s.error,
                }
                for s in self.steps
            ],
        }


def default_day(settings: Settings, now: datetime | None = None) -> date:
    """The day that ended most recently in settings.timezone (the nightly run closes yesterday)."""
    local = (now or utcnow()).astimezone(ZoneInfo(settings.timezone))
    return local.date() - timedelta(days=1)


def step_names() -> list[str]:
    return [n for n, _ in NIGHTLY_STEPS]


def run_nightly(
    settings: Settings,
    store: Store,
    enqueue: jobs.Enqueue,
    *,
    day: date | None = None,
    only: Sequence[str] | None = None,
    now: datetime | None = None,
) -> BatchRun:
    """Run the nightly steps (or the named ones, in registry order) for `day` (default yesterday)."""
    now = now or utcnow()
    day = day or default_day(settings, now)
    unknown = sorted(set(only or ()) - set(step_names()))
    if unknown:
        raise ValueError(
            f"unknown nightly step(s) {', '.join(unknown)}; the steps are {', '.join(step_names())}"
        )
    ctx = BatchContext(settings, store, day, enqueue, now)
    with store.nightly_lock(ctx.data_dir) as got:
        if not got:
            log.warning("another nightly batch is running; this one does nothing")
            return BatchRun(day, skipped="another nightly batch is running")
        results = []
        for name, fn in NIGHTLY_STEPS:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            try:
                detail = fn(ctx)
                results.append(StepResult(name, True, detail, time.monotonic() - t0))
            except Exception as exc:  # one step's failure must not stop the others
                log.exception("nightly step %s failed", name)
                results.append(
                    StepResult(name, False, {}, time.monotonic() - t0, f"{type(exc).__name__}: {exc}")
                )
        run = BatchRun(day, tuple(results))
        store.audit(ctx.actor, "batch_nightly", detail=run.export())
        return run


# --------------------------------------------------------------------------- the steps


@nightly_step("requeue_stuck")
def requeue_stuck(ctx: BatchContext) -> dict[str, Any]:
    return {"requeued": len(jobs.requeue_stuck(ctx.store, ctx.settings, ctx.enqueue))}


def retry_failed_task(store: Store, task: FailedTask, enqueue: jobs.Enqueue, actor: str) -> str:
    """Resubmit the document of one failed task and mark the task resolved. Returns what happened:
    "queued", "settled" (the document reached a final state meanwhile) or "no document"."""
    if task.document_sha256 is None:
        return "no document"
    queued = store.resubmit_document(task.document_sha256, actor, note=f"retry of failed task {task.id}")
    store.resolve_failed_task(task.id)  # before enqueueing: a new failure gets a new row
    if not queued:
        return "settled"
    enqueue(task.document_sha256)
    return "queued"


@nightly_step("retry_failed")
def retry_failed(ctx: BatchContext) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for task in ctx.store.list_failed_tasks(unresolved_only=True, limit=100_000):
        if task.retryable:
            outcome = retry_failed_task(ctx.store, task, ctx.enqueue, ctx.actor)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def export_key(day: date) -> str:
    return f"export:{day.isoformat()}"


@nightly_step("export_accepted")
def export_accepted(ctx: BatchContext) -> dict[str, Any]:
    """Every `accepted` document last changed before the end of `day` becomes `exported`, noted
    with the batch key; then `<export_dir>/<day>/<form_id>.csv` is written from the documents
    carrying that key. Re-running the same day rewrites the same files (adding any newly accepted);
    a record is never in two days' files."""
    end_of_day = datetime.combine(ctx.day + timedelta(days=1), datetime.min.time(), ctx.tz).astimezone(UTC)
    key = export_key(ctx.day)
    marked = ctx.store.mark_exported(key, end_of_day, ctx.actor)
    ids = ctx.store.exported_in(key)
    folder = Path(ctx.settings.export_dir or ctx.data_dir / "exports") / ctx.day.isoformat()
    files = write_export(ctx, folder, ids)
    records = sum(files.values())
    if ids:
        ctx.store.audit(
            ctx.actor,
            "export",
            detail={"batch": key, "documents": len(ids), "records": records, "files": sorted(files)},
            my_number_accessed=ctx.settings.export_include_my_number,
        )
    return {"newly_exported": len(marked), "documents": len(ids), "records": records, "files": files}


def write_export(ctx: BatchContext, folder: Path, doc_ids: Sequence[int]) -> dict[str, int]:
    """One CSV per form (UTF-8 with BOM, CRLF; 個人番号 masked unless settings say otherwise),
    written atomically with a manifest by the one CSV writer (pipeline/adapters/export.py). Returns
    {file name: records}."""
    if not doc_ids:
        return {}
    templates = {t.form_id: t for t in load_all_templates(Path(ctx.settings.templates_dir))}
    by_form: dict[str, list[Record]] = {}
    for summary, page, values in ctx.store.pages_of(doc_ids):
        by_form.setdefault(summary.form_id or "unknown", []).append((summary, page, values))
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for form_id, rows in sorted(by_form.items()):
        path = folder / f"{form_id}.csv"
        written[path.name] = export_csv(
            path,
            form_id,
            templates.get(form_id),
            rows,
            include_my_number=ctx.settings.export_include_my_number,
        )
    manifest = {"batch": export_key(ctx.day), "documents": len(set(doc_ids)), "files": written}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return written


@nightly_step("purge_retention")
def purge_retention(ctx: BatchContext) -> dict[str, Any]:
    """Delete the scan, crops and quarantine copy of every settled document (exported or
    quarantined) unchanged for settings.retention_days; its record, values and history stay, and
    each purge is audit-logged. Nothing happens while retention_days is unset."""
    days = ctx.settings.retention_days
    if days is None:
        return {"skipped": "retention_days is not set"}
    before = ctx.now - timedelta(days=days)
    documents = files = 0
    for doc_id, sha, _stored in ctx.store.purge_candidates(before, PURGE_STATUSES, limit=100_000):
        n = purge_files(ctx.data_dir, sha)
        ctx.store.mark_purged(doc_id, n, ctx.actor)
        documents, files = documents + 1, files + n
    return {"documents": documents, "files": files}


def purge_files(data_dir: Path, sha: str) -> int:
    """Delete what the data directory holds for `sha` (original, crops, quarantine copy)."""
    n = 0
    for original in (data_dir / "originals" / sha[:2]).glob(f"{sha}*"):
        original.unlink(missing_ok=True)
        n += 1
    targets = [data_dir / "crops" / sha[:2] / sha, *(data_dir / "quarantine").glob(f"{sha[:16]}_*")]
    for folder in targets:
        if folder.is_dir():
            n += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder, ignore_errors=True)
    return n


@nightly_step("report")
def morning_report(ctx: BatchContext) -> dict[str, Any]:
    """The morning report for supervisors on the day closed: DATA_DIR/reports/<day>/ (pipeline/report)."""
    from pipeline.report import run_report  # imported here: matplotlib loads only when the step runs

    _report, files = run_report(ctx.settings, ctx.store, ctx.day, actor=ctx.actor)
    return {"folder": str(files.folder), "files": 2 + len(files.csvs)}
