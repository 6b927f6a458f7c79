"""`shinsei outbox ...` as a user types it (in-process `main`, a SQLite store in a temp folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.settings import Settings, get_settings
from pipeline.store import open_store
from tests.integration.delivery_data import accept, sample_values


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHINSEI_DELIVERY_TARGETS", "nursery_csv")
    monkeypatch.setenv("SHINSEI_DELIVERY_RETRY_WAIT_MAX_S", "0.1")
    get_settings.cache_clear()
    store = open_store(Settings())
    yield store
    store.close()
    get_settings.cache_clear()


def test_preview_run_list_retry(env, capsys: pytest.CaptureFixture[str]) -> None:
    store = env
    values = sample_values()[0][1]
    good = accept(store, values)
    bad = accept(store, dict(sample_values()[1][1], address="東京都𠮷区1-1"))

    assert main(["outbox", "preview", "--target", "nursery_csv"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 2 pending record(s)" in out and values["child_name"] in out
    assert "********" + values["child_my_number"][-4:] in out and values["child_my_number"] not in out
    assert "refused: " in out and "𠮷" in out  # the refusal is visible before anything runs
    assert store.get_document_row(bad).status == "accepted"  # a dry run changes nothing

    assert main(["outbox", "run"]) == 0
    assert main(["outbox", "list", "--json"]) == 0
    rows = {r["document_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[good]["state"] == "verified" and rows[good]["receipt"].endswith(":2")
    assert rows[bad]["state"] == "failed" and rows[bad]["unencodable"][0]["char"] == "𠮷"
    assert store.get_document_row(bad).status == "review"

    assert main(["outbox", "list"]) == 0
    table = capsys.readouterr().out
    assert "nursery_csv" in table and "verified" in table and "failed" in table
    assert main(["outbox", "list", "--state", "unknown"]) == 0
    shown = capsys.readouterr()
    assert "no delivery in state unknown" in shown.err and "   id " not in shown.out
    assert main(["outbox", "list", "--state", "failed", "--target", "nursery_csv"]) == 0
    assert "no delivery" not in capsys.readouterr().err

    assert main(["outbox", "retry", str(rows[bad]["id"])]) == 0
    assert main(["outbox", "list", "--state", "pending", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [rows[bad]["id"]]
    assert main(["outbox", "reconcile", "--stale-after", "0"]) == 0
    with store.session() as s:
        from sqlalchemy import select

        from pipeline.store.tables import AuditLog

        actions = list(s.scalars(select(AuditLog.action)))
    assert {"delivery_preview", "deliver", "delivery_retry"} <= set(actions)
    assert store.verify_audit_chain()
