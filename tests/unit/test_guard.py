"""The per-file guard (pipeline/intake/guard.py) in every entry point: a file on which a library
raises unexpectedly is quarantined as `internal_error`, its traceback logged once with 個人番号-like
digits redacted, and the next file is still processed.

The failing file is a real PNG; the fault is injected into a dependency (OpenCV's `resize`, which
the pipeline calls on every page) for that file's size only. Beside it lie a real AES-256,
password-protected PDF (pypdf's own encryption) and a demo scan. The OCR model is replaced by
`FakeRecognizer` (`Engine.load` patched), so these run in the unit suite; the real model's run of
the same folder is in tests/integration/test_cli.py.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter

from pipeline.cli.main import main
from pipeline.errors import TransientError
from pipeline.forms.align import prepare_template
from pipeline.forms.template import load_all_templates
from pipeline.intake import guard, jobs
from pipeline.ocr.fake import FakeRecognizer
from pipeline.run import Engine
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.conftest import DEMO

POISON_SIZE = (777, 555)  # (width, height) of the file OpenCV "fails" on
SECRET = "123456789018"  # a valid 個人番号 in the exception text: must never reach a log


@pytest.fixture(scope="module")
def template_features() -> list:
    settings = Settings(data_dir=Path("/nonexistent-not-used"))
    return [prepare_template(t, settings.work_dpi) for t in load_all_templates(Path(settings.templates_dir))]


@pytest.fixture
def fake_engine(template_features, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Engine.load` gives the real templates around a recogniser that reads nothing."""

    def load(cls, settings: Settings, recognizer=None) -> Engine:
        return Engine(settings, template_features, FakeRecognizer(lambda crop: ""))

    monkeypatch.setattr(Engine, "load", classmethod(load))


@pytest.fixture
def poisoned_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    real = cv2.resize

    def resize(src, *args, **kwargs):
        if isinstance(src, np.ndarray) and src.shape[:2] == POISON_SIZE[::-1]:
            raise cv2.error(f"OpenCV(5.0.0) resize.cpp:4208: error: (-215:Assertion failed) {SECRET}")
        return real(src, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", resize)


def aes256_locked_pdf(path: Path) -> Path:
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.encrypt("secret", "owner", algorithm="AES-256")
    with open(path, "wb") as fh:
        w.write(fh)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inbox = tmp_path / "scans"
    inbox.mkdir()
    aes256_locked_pdf(inbox / "a_locked.pdf")
    Image.new("RGB", POISON_SIZE, (250, 250, 250)).save(inbox / "b_poison.png")
    shutil.copy2(DEMO / "doc_0001.png", inbox / "c_form.png")
    return inbox


@pytest.fixture(autouse=True)
def _plain_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other tests' commands (watch, batch) add a handler to "shinsei" and stop propagation.
    monkeypatch.setattr(logging.getLogger("shinsei"), "handlers", [])
    monkeypatch.setattr(logging.getLogger("shinsei"), "propagate", True)


def _guard_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "shinsei.intake" and r.levelno >= logging.ERROR]


def test_run_on_a_folder_quarantines_the_failing_file_and_carries_on(
    folder: Path, cli_env: Settings, fake_engine, poisoned_opencv, capsys, caplog
) -> None:
    assert main(["run", str(folder)]) == 0
    out = capsys.readouterr()
    assert re.search(r"documents\s+3", out.out) and re.search(r"quarantined\s+2", out.out)
    assert re.search(r"review\s+1", out.out)
    assert "b_poison.png" in out.err and "予期しないエラー" in out.err and "cv2.error" in out.err

    store = open_store(cli_env)
    try:
        docs = {d.source_name: d for d in store.list_documents()}
    finally:
        store.close()
    assert (docs["a_locked.pdf"].status, docs["a_locked.pdf"].reason) == ("quarantined", "encrypted_pdf")
    poison = docs["b_poison.png"]
    assert (poison.status, poison.reason) == ("quarantined", "internal_error")
    assert "cv2.error" in poison.message and "システム担当者" in poison.message
    assert docs["c_form.png"].status == "review"  # the file after it was still read

    (record,) = _guard_records(caplog)  # logged once
    text = record.getMessage()
    assert "b_poison.png" in text and "Traceback" in text and "resize" in text
    assert SECRET not in caplog.text and SECRET not in out.err and SECRET not in out.out

    (qdir,) = (cli_env.data_dir / "quarantine").glob("*_internal_error")
    meta = json.loads((qdir / "reason.json").read_text(encoding="utf-8"))
    assert meta["original_name"] == "b_poison.png" and meta["exception"] == "cv2.error"
    assert "Traceback" in meta["traceback"] and SECRET not in meta["traceback"]
    (locked,) = (cli_env.data_dir / "quarantine").glob("*_encrypted_pdf")
    assert json.loads((locked / "reason.json").read_text(encoding="utf-8"))["original_name"] == "a_locked.pdf"


def test_read_shows_the_failing_file_as_quarantined_and_reads_the_next(
    folder: Path, cli_env: Settings, fake_engine, poisoned_opencv, capsys, caplog
) -> None:
    files = [str(folder / n) for n in ("a_locked.pdf", "b_poison.png", "c_form.png")]
    assert main(["read", *files]) == 0
    out = capsys.readouterr().out
    assert "a_locked.pdf: quarantined (encrypted_pdf" in out
    assert "b_poison.png: quarantined (internal_error: " in out and "cv2.error" in out
    assert "c_form.png: review" in out and "page 1: form nursery_enrolment" in out
    assert len(_guard_records(caplog)) == 1 and SECRET not in caplog.text
    assert not (cli_env.data_dir / "shinsei.sqlite3").exists()  # read stores nothing

    assert main(["read", "--json", *files]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["route"] for r in results] == ["quarantined", "quarantined", "review"]
    assert results[1]["reason"] == "internal_error"


def test_worker_and_hot_folder_path_quarantines_the_failing_file(
    folder: Path, settings: Settings, store, fake_engine, poisoned_opencv, caplog
) -> None:
    # The Celery document task and `shinsei watch` without a broker both call jobs.run_document.
    engine = Engine.load(settings)
    subs = {p.name: jobs.submit(p, settings, store) for p in sorted(folder.iterdir())}
    enqueue = jobs.run_now(lambda: engine, store, settings)  # what `watch` uses without a broker
    for sub in subs.values():
        enqueue(sub.sha256)
    states = store.document_states([s.sha256 for s in subs.values()])
    assert states[subs["b_poison.png"].sha256].status == "quarantined"
    assert states[subs["b_poison.png"].sha256].reason == "internal_error"
    assert states[subs["c_form.png"].sha256].status == "review"
    assert states[subs["a_locked.pdf"].sha256].reason == "encrypted_pdf"
    assert len(_guard_records(caplog)) == 1
    assert store.list_failed_tasks() == []  # quarantined, not a failed task to retry


def test_a_failure_while_storing_the_result_quarantines_that_file(
    folder: Path, settings: Settings, store, fake_engine, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    engine = Engine.load(settings)
    sub = jobs.submit(folder / "c_form.png", settings, store)

    real = store.save_document_result

    def broken(result, **kwargs):  # fails on the page results; recording a quarantine still works
        if result.pages:
            raise ValueError(f"cannot store {SECRET}")
        return real(result, **kwargs)

    monkeypatch.setattr(store, "save_document_result", broken)
    assert jobs.run_document(sub.sha256, "t-1", engine, store, settings) == "quarantined"
    state = store.document_states([sub.sha256])[sub.sha256]
    assert (state.status, state.reason) == ("quarantined", "internal_error")
    (record,) = _guard_records(caplog)
    assert "storing the result" in record.getMessage() and SECRET not in caplog.text


def test_what_is_not_the_files_fault_is_not_quarantined(
    folder: Path, settings: Settings, store, fake_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine.load(settings)
    sub = jobs.submit(folder / "c_form.png", settings, store)

    def away(*args, **kwargs):
        raise TransientError("database temporarily unavailable")

    monkeypatch.setattr(cv2, "resize", away)
    with pytest.raises(TransientError):  # the worker retries it; the file stays as it was
        jobs.run_document(sub.sha256, "t-1", engine, store, settings)
    assert store.document_states([sub.sha256])[sub.sha256].status == "processing"

    class TimeLimit(Exception):
        pass

    monkeypatch.setattr(guard, "_LET_THROUGH", list(guard._LET_THROUGH))
    guard.let_through(TimeLimit)  # as workers/tasks.py registers Celery's SoftTimeLimitExceeded

    def slow(*args, **kwargs):
        raise TimeLimit()

    monkeypatch.setattr(cv2, "resize", slow)
    with pytest.raises(TimeLimit):
        guard.process_guarded(folder / "c_form.png", engine)
