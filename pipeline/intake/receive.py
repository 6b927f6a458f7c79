"""Taking a scan in and recording what became of it (the I/O edge around `pipeline.run`).

`receive` copies a file into the content-addressed originals store and says whether its sha256
was seen before; `process_received` runs the pipeline on the stored copy and writes the outcome
(record, review item or quarantine) to the store. The CLI, the hot-folder watcher and the
Celery tasks all go through these two functions, so every entry point behaves the same, and
through the per-file guard (`guard.py`), so one file's unexpected failure quarantines that file
only.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from pipeline import ingest
from pipeline.intake import guard
from pipeline.result import DocumentResult, Route
from pipeline.run import CropSink, Engine

log = logging.getLogger("shinsei.intake")


@dataclass(frozen=True)
class Received:
    sha256: str
    stored_path: Path
    source_name: str
    already_done: bool


def originals_path(data_dir: Path, sha: str, suffix: str) -> Path:
    return data_dir / "originals" / sha[:2] / (sha + suffix.lower())


def receive(path: Path, data_dir: Path, store) -> Received:
    """Copy `path` into the originals store (named by sha256, never by a value in it)."""
    sha = ingest.sha256_file(path)
    dest = originals_path(data_dir, sha, path.suffix)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        shutil.copy2(path, tmp)
        tmp.replace(dest)  # atomic: a crash leaves a .part, never a half-written original
    return Received(sha, dest, path.name, store.has_document(sha))


def crop_sink(data_dir: Path, sha: str) -> CropSink:
    folder = data_dir / "crops" / sha[:2] / sha

    def sink(page: int, field: str, crop: np.ndarray) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"p{page:03d}_{field}.png"
        cv2.imwrite(str(path), crop)
        return str(path.relative_to(data_dir))

    return sink


def process_received(rec: Received, engine: Engine, store, data_dir: Path) -> DocumentResult:
    """Run the pipeline on a received file and store the outcome; returns the document result.

    Guarded (`pipeline/intake/guard.py`): an unexpected exception while processing or storing
    this one file quarantines it as `internal_error`, and the caller carries on with the next."""
    outcome, failure = guard.process_guarded(
        rec.stored_path, engine, lambda sha: crop_sink(data_dir, sha), name=rec.source_name
    )
    doc = replace(outcome.result, source_name=rec.source_name)
    f = outcome.file
    if doc.route != Route.quarantined:
        if f is None:  # process_file returns the ingested file with every non-quarantined result
            raise RuntimeError(f"{rec.sha256[:12]}: processed without an ingested file")
        try:
            store.save_document_result(
                doc,
                stored_path=str(rec.stored_path),
                kind=f.kind,
                size_bytes=f.size_bytes,
                page_count=f.page_count,
            )
            return doc
        except Exception as exc:
            if guard.passes_through(exc):
                raise
            caught = exc
        failure = guard.record(caught, rec.source_name, rec.sha256, "storing the result")  # outside `except`
        doc = guard.failed_result(caught, rec.sha256, rec.source_name)
    extra = {"exception": failure.exception, "traceback": failure.traceback} if failure else None
    qdir = ingest.quarantine(
        rec.stored_path,
        data_dir / "quarantine",
        rec.sha256,
        doc.reason or "unreadable_file",
        doc.message or "",
        original_name=rec.source_name,
        extra=extra,
    )
    store.record_quarantine(
        rec.sha256,
        rec.source_name,
        str(rec.stored_path),
        f.kind if f is not None else "unknown",
        rec.stored_path.stat().st_size,
        doc.reason or "",
        doc.message or "",
    )
    log.info("quarantined %s (%s) in %s", rec.sha256[:12], doc.reason, qdir)
    return doc
