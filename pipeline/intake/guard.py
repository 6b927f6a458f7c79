"""The per-file guard: one file's unexpected failure never stops a batch.

Every entry point processes a file through `process_guarded` (`shinsei read` directly; `shinsei
run`, `shinsei watch` and the workers' document task through `receive.process_received`). An
exception that escapes the pipeline for one file (a bug, or a library that raises where nobody
expected it) becomes a quarantined result with reason `internal_error`: its message tells the
clerk what happened in plain Japanese and names the exception's class, the traceback is logged
once (with anything that looks like a 個人番号 redacted), and the caller goes on to the next file.

Not the file's fault, and so re-raised for the caller to retry or stop: `TransientError` (the
database or a shared folder is away for now), `TemplateError` (a form template is broken: every
file would fail alike), anything that is not an `Exception` (Ctrl-C, SystemExit), and what the top
layer registers with `let_through` (the Celery worker registers its task time limit, whose
handling is the worker's).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import ingest
from pipeline.errors import TemplateError, TransientError
from pipeline.privacy import redact
from pipeline.result import DocumentResult, Route
from pipeline.run import CropSink, Engine, FileOutcome, process_file

log = logging.getLogger("shinsei.intake")

REASON = "internal_error"
_LET_THROUGH: list[type[BaseException]] = [TransientError, TemplateError]


def let_through(*types: type[BaseException]) -> None:
    """Exceptions the guard re-raises instead of quarantining the file (for the top layer)."""
    for t in types:
        if t not in _LET_THROUGH:
            _LET_THROUGH.append(t)


def passes_through(exc: BaseException) -> bool:
    return not isinstance(exc, Exception) or isinstance(exc, tuple(_LET_THROUGH))


def exception_name(exc: BaseException) -> str:
    """`ValueError`, `cv2.error`, `pypdf.errors.PdfReadError`: enough for IT to know where."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def clerk_message(exc: BaseException) -> str:
    """What the clerk reads: what happened, that the file is safe, whom to tell. Only the class
    name of the exception, never its text (which may quote a value from the form)."""
    return (
        f"このファイルの処理中に予期しないエラーが起きたため、隔離しました（{exception_name(exc)}）。"
        "ファイルはそのまま保管されています。システム担当者に連絡してください。"
    )


@dataclass(frozen=True)
class Failure:
    """What the guard caught, for the quarantine folder's reason.json."""

    exception: str  # class name
    traceback: str  # redacted


def record(exc: BaseException, name: str, sha256: str, stage: str) -> Failure:
    """Log the exception once, with its traceback, 個人番号-like digit runs redacted."""
    tb = redact("".join(traceback.format_exception(exc)).rstrip())
    log.error(
        "%s (%s): unexpected %s while %s; quarantined as %s\n%s",
        redact(name),
        sha256[:12] or "-",
        exception_name(exc),
        stage,
        REASON,
        tb,
    )
    return Failure(exception_name(exc), tb)


def failed_result(exc: BaseException, sha256: str, name: str) -> DocumentResult:
    return DocumentResult(sha256, name, Route.quarantined, reason=REASON, message=clerk_message(exc))


def process_guarded(
    path: Path,
    engine: Engine,
    crops_for: Callable[[str], CropSink] | None = None,
    *,
    name: str | None = None,
) -> tuple[FileOutcome, Failure | None]:
    """`run.process_file`, except that an unexpected exception becomes a quarantined result with
    reason `internal_error` (and the `Failure` that says what it was). `name` is the clerk's file
    name, for the log (default: the path's)."""
    name = name or path.name
    try:
        return process_file(path, engine, crops_for), None
    except Exception as exc:
        if passes_through(exc):
            raise
        caught = exc
    # Logged outside the `except`: should a log handler fail, logging prints the exception being
    # handled, unredacted; here there is none.
    try:
        sha = ingest.sha256_file(path)
    except OSError:
        sha = ""
    failure = record(caught, name, sha, "processing")
    return FileOutcome(failed_result(caught, sha, name), None), failure
