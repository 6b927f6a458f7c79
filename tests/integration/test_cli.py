"""The `shinsei` command as a clerk uses it: run a folder, look, show, export (real SQLite)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfWriter

from tests.conftest import DEMO, ROOT

TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def shinsei(args: list[str], data: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHINSEI_DATA_DIR": str(data)}
    env.pop("SHINSEI_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=check,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("inbox")
    for p in list(DEMO.glob("doc_000[1-4].*")) + list((DEMO / "bad").iterdir()):
        if p.suffix != ".json":
            shutil.copy2(p, inbox / p.name)
    # A real AES-256 password-protected PDF among the good scans (it once ended the run).
    w = PdfWriter(clone_from=DEMO / "doc_0009.pdf")
    w.encrypt("secret", "owner", algorithm="AES-256")
    w.write(inbox / "doc_0003_locked.pdf")
    data = tmp_path_factory.mktemp("data")
    before = _digest(inbox)
    first = shinsei(["run", str(inbox)], data)
    return inbox, data, before, first


@pytest.mark.model
def test_run_prints_a_closing_summary_and_keeps_the_originals(ran) -> None:
    inbox, data, before, first = ran
    out = first.stdout
    assert re.search(r"documents\s+9", out)
    assert re.search(r"quarantined\s+4", out)
    assert re.search(r"pages/min\s+\d", out)
    assert "ファイルが空です" in first.stderr
    assert "doc_0003_locked.pdf: このPDFはパスワードで保護されている" in first.stderr
    assert _digest(inbox) == before  # the clerk's folder is untouched
    assert len(list((data / "originals").rglob("*.*"))) == 9
    reasons = sorted(p.name.split("_", 1)[1] for p in (data / "quarantine").iterdir())
    assert reasons == ["corrupt_file", "empty_file", "encrypted_pdf", "unsupported_type"]
    names = {
        json.loads((p / "reason.json").read_text(encoding="utf-8"))["original_name"]
        for p in (data / "quarantine").iterdir()
    }
    assert names == {"broken.pdf", "empty.pdf", "notes.jpg", "doc_0003_locked.pdf"}  # the clerk's names
    # the summary counts as `shinsei status` does (review and unknown_form apart)
    status = shinsei(["status"], data).stdout
    for name in ("review", "unknown_form", "quarantined"):
        in_status = re.search(rf"^  {name}\s+(\d+)", status, re.M)
        in_run = re.search(rf"^{name}\s+(\d+)", out, re.M)
        assert (in_status and in_status.group(1)) == (in_run and in_run.group(1)), (name, status, out)


@pytest.mark.model
def test_the_same_files_again_are_not_processed_twice(ran) -> None:
    inbox, data, _, _ = ran
    again = shinsei(["run", str(inbox)], data)
    assert re.search(r"documents\s+0", again.stdout)
    assert "already done   9" in again.stdout
    assert "pages/min" not in again.stdout  # nothing was read
    con = sqlite3.connect(data / "shinsei.sqlite3")
    assert con.execute("select count(*) from documents").fetchone()[0] == 9


@pytest.mark.model
def test_status_show_and_export_mask_my_number_and_are_audited(ran, tmp_path) -> None:
    _, data, _, _ = ran
    status = shinsei(["status"], data).stdout
    assert "quarantined" in status and "documents: 9" in status and f"data: {data}" in status
    con = sqlite3.connect(data / "shinsei.sqlite3")
    doc_id = con.execute(
        "select id from documents where status != 'quarantined' order by id limit 1"
    ).fetchone()[0]
    shown = shinsei(["show", str(doc_id)], data).stdout
    assert "child_my_number" in shown
    assert not TWELVE_DIGITS.search(shown)
    assert re.search(r"\*{8}\d{4}", shown)
    by_name = shinsei(["show", "doc_0001.png"], data).stdout  # the clerk's file name works too
    assert (
        by_name.startswith("document ")
        and "doc_0001.png" in by_name
        and "page 1: form nursery_enrolment" in by_name
    )
    as_json = shinsei(["show", str(doc_id), "--json"], data).stdout
    assert not TWELVE_DIGITS.search(as_json)
    out = tmp_path / "out.csv"
    shinsei(["export", "--csv", str(out)], data)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    accepted = con.execute("select count(*) from documents where status = 'accepted'").fetchone()[0]
    assert len(rows) == accepted
    assert not TWELVE_DIGITS.search(raw.decode("utf-8-sig"))
    actions = [r[0] for r in con.execute("select action from audit_log order by id")]
    assert "view" in actions and "export" in actions
    log_text = " ".join(str(r) for r in con.execute("select detail from audit_log"))
    assert not TWELVE_DIGITS.search(log_text)


@pytest.mark.model
def test_unknown_document_and_missing_path_are_reported(ran) -> None:
    inbox, data, _, _ = ran
    res = shinsei(["show", "99999"], data, check=False)
    assert res.returncode != 0 and "no document" in res.stderr
    res = shinsei(["run", "/nonexistent/scans"], data, check=False)
    assert res.returncode == 2 and "no such file" in res.stderr
    res = shinsei(["run", str(inbox), "/nonexistent/typo.pdf"], data, check=False)  # among others
    assert res.returncode == 2 and "typo.pdf: no such file" in res.stderr
    assert "already done   9" in res.stdout  # the rest was still looked at


def test_template_check_writes_the_overlay(tmp_path) -> None:
    out = tmp_path / "check.png"
    res = shinsei(["template", "check", "nursery_enrolment", "--out", str(out)], tmp_path)
    assert "OK, 26 fields" in res.stdout and out.stat().st_size > 10_000


@pytest.mark.model
def test_read_explains_each_field_without_storing_anything(tmp_path) -> None:
    page = DEMO / "doc_0001.png"
    res = shinsei(["read", str(page), "--explain"], tmp_path / "data")
    assert "page 1: form nursery_enrolment" in res.stdout and "chars " in res.stdout
    assert "child_my_number" in res.stdout and not TWELVE_DIGITS.search(res.stdout)
    as_json = shinsei(["read", str(page), "--json"], tmp_path / "data").stdout
    assert json.loads(as_json)["pages"][0]["form_id"] == "nursery_enrolment"
    assert not (tmp_path / "data" / "shinsei.sqlite3").exists()
    missing = shinsei(["read", str(tmp_path / "typo.png")], tmp_path / "data", check=False)
    assert missing.returncode == 2 and "typo.png: no such file" in missing.stderr


def test_template_check_warns_of_overlapping_boxes_and_says_what_it_assumed(tmp_path) -> None:
    # A date box drawn across the class written beside it, as a field list's wide box gives.
    folder = tmp_path / "forms" / "overlap"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "templates_forms" / "nursery_enrolment" / "blank.png", folder / "blank.png")
    fields = """
- {name: birth, label: 児童 生年月日, kind: date, box: [20, 40, 100, 8], date_range: [-7y, +0d]}
- {name: age_class, label: 歳児クラス, kind: number, box: [100, 40, 10, 8], min: 0, max: 5}
- {name: name, label: 児童 氏名, kind: text_ja, box: [20, 60, 60, 8]}
"""
    head = (
        "form_id: overlap\nversion: '1'\ntitle: t\npage: {width_mm: 210, height_mm: 297}\nblank: blank.png\n"
    )
    (folder / "template.yaml").write_text(head + "fields:" + fields, encoding="utf-8")
    res = shinsei(
        ["template", "check", str(folder / "template.yaml"), "--out", str(tmp_path / "c.png")], tmp_path
    )
    assert "warning: the boxes of birth and age_class overlap by 10 x 8 mm" in res.stdout
    assert res.stdout.count("warning: the boxes") == 1  # the name's box touches neither
    assert "assumed where the template says nothing: none" in res.stdout
    assert "red: field box" in res.stdout
    # Where templates are looked up is told where an author looks first.
    assert "SHINSEI_TEMPLATES_DIR" in shinsei(["template", "check", "--help"], tmp_path).stdout
