"""What a new user met in the first hour (issue 10): the data directory, `show`'s reasons and
columns, the run summary, typos and skipped files, a closed pipe, and the README's links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.cli.pages_view import Rule, clip, pad, print_pages, width
from pipeline.cli.run_cmd import expand
from pipeline.ingest.common import _fmt_pixels
from pipeline.settings import Settings, get_settings
from pipeline.store import open_store
from tests.conftest import ROOT


def test_a_relative_data_dir_is_made_absolute_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings(data_dir=Path("data/demo"))
    assert s.data_dir == tmp_path / "data" / "demo" and s.data_dir.is_absolute()
    assert str(tmp_path / "data" / "demo" / "shinsei.sqlite3") in s.resolved_database_url()


def test_status_names_the_data_dir_and_refuses_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("SHINSEI_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHINSEI_DATA_DIR", "elsewhere")
    get_settings.cache_clear()
    try:
        assert main(["status"]) == 2  # not a new, empty database
        err = capsys.readouterr().err
        assert f"no shinsei database in {tmp_path / 'elsewhere'}" in err and "SHINSEI_DATA_DIR" in err
        assert not (tmp_path / "elsewhere").exists()
        open_store(get_settings()).close()
        assert main(["status"]) == 0
        assert capsys.readouterr().out.startswith(f"data: {tmp_path / 'elsewhere'}\n")
    finally:
        get_settings.cache_clear()


def _field(name: str, value: str, conf: float, accepted: bool, issues=()) -> dict:
    return {
        "name": name,
        "kind": "text_ja",
        "value": value,
        "raw": value,
        "confidence": conf,
        "accepted": accepted,
        "chars": [],
        "issues": [{"code": c, "severity": "warning", "message": m} for c, m in issues],
    }


def test_show_says_why_a_field_is_held_and_keeps_columns_with_full_width_text(capsys) -> None:
    page = {
        "index": 0,
        "form_id": "f",
        "form_version": "1",
        "orientation": 0,
        "skew_deg": 0.0,
        "route": "review",
        "match_score": 0.5,
        "issues": [],
        "fields": [
            _field("kana", "ヤマダタロウ", 0.82, False),
            _field("code", "abc", 0.99, True),
            _field("name", "山田", 0.5, False, [("correction", "訂正線があります。")]),
            _field("always", "x", 1.0, False),
        ],
    }
    rules = {
        "kana": Rule(0.93, False),
        "code": Rule(0.9, False),
        "name": Rule(0.98, False),
        "always": Rule(0.5, True),
    }
    print_pages({"pages": [page]}, rule=lambda form, name: rules[name])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("  ") and "conf" in ln]
    assert lines[0].endswith("確信度 0.82 < 基準 0.93")
    assert "確信度" not in lines[1]
    assert lines[2].endswith("訂正線があります。; 確信度 0.50 < 基準 0.98")
    assert lines[3].endswith("毎回確認する項目です")
    columns = {width(ln[: ln.index(" conf ")]) for ln in lines}
    assert len(columns) == 1, lines  # "conf" starts at the same terminal column on every line


def test_display_width_pad_and_clip() -> None:
    assert width("山田 太郎") == 9 and width("ｶﾅ") == 2 and width("abc") == 3
    assert width(pad("山田", 10)) == 10
    assert clip("申請書スキャン_2026年11月分.pdf", 12) == "申請書スキ…" and width(clip("abc", 12)) == 3


def test_pixel_counts_read_naturally() -> None:
    assert _fmt_pixels(60_000_000) == "6,000万画素"
    assert _fmt_pixels(3_600_000_000) == "36億画素"
    assert _fmt_pixels(144_000_000) == "1.4億画素"


def test_folders_say_what_they_skip_and_typos_are_reported(tmp_path: Path) -> None:
    (tmp_path / "scans" / ".sync").mkdir(parents=True)
    for name in ("a.png", "a.json", ".hidden.png", "Thumbs.db", ".sync/b.png"):
        (tmp_path / "scans" / name).write_bytes(b"x")
    found = expand([tmp_path / "scans", tmp_path / "scans" / "a.json", tmp_path / "typo.pdf"])
    assert [p.name for p in found.files] == ["a.png", "a.json"]  # a file named is always read
    assert dict(found.skipped) == {"*.json": 1, "hidden (.*)": 2, "system files": 1}
    assert found.missing == [tmp_path / "typo.pdf"]


def test_a_typo_among_paths_exits_non_zero_and_nothing_read_gives_no_rate(
    tmp_path: Path, cli_env: Settings, capsys
) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    (tmp_path / "notes.json").write_text("{}")
    assert main(["run", str(empty), str(tmp_path / "typo.pdf")]) == 2
    out = capsys.readouterr()
    assert "typo.pdf: no such file or folder" in out.err
    assert re.search(r"quarantined\s+1", out.out) and "pages/min" not in out.out
    assert re.search(r"review\s+0", out.out) and f"data           {cli_env.data_dir}" in out.out
    (qdir,) = (cli_env.data_dir / "quarantine").iterdir()
    assert json.loads((qdir / "reason.json").read_text(encoding="utf-8"))["original_name"] == "empty.pdf"


def test_status_into_a_closed_pipe_ends_quietly(cli_env: Settings) -> None:
    open_store(cli_env).close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.main", "status"],
        cwd=ROOT,
        env={"SHINSEI_DATA_DIR": str(cli_env.data_dir), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before anything is written (`| head` that has had enough)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_template_check_writes_into_the_data_dir(
    cli_env: Settings, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["template", "check", "nursery_enrolment"]) == 0
    assert (cli_env.data_dir / "nursery_enrolment_check.png").is_file()
    assert not list(tmp_path.glob("*.png"))


def test_readme_and_docs_links_resolve_in_a_clone() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken


def test_the_licence_is_an_spdx_string() -> None:
    # A `{text = ...}` table made setuptools print a deprecation warning three times during set-up.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"


def test_with_a_broker_a_file_that_cannot_be_read_is_told_and_the_rest_submitted(
    tmp_path: Path, settings: Settings, store
) -> None:
    from collections import Counter

    from pipeline.intake import follow

    good = tmp_path / "good.png"
    good.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    queued, told, counts = [], [], Counter()
    waiting = follow.submit_all(
        [tmp_path / "gone.png", good], settings, store, queued.append, counts, told.append
    )
    assert counts["not read"] == 1 and told and "gone.png: cannot read (FileNotFoundError" in told[0]
    assert list(waiting.values()) == ["good.png"] and len(queued) == 1
