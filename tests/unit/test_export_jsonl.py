"""`shinsei export --jsonl`: every document's pages and fields, for integrators and outside
measurement, on a real SQLite store; 個人番号 masked unless asked for, and the export audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from pipeline.cli.main import main
from pipeline.result import DocumentResult, FieldResult, Issue, PageResult, Route
from pipeline.store import open_store
from pipeline.store.tables import AuditLog

MY_NUMBER = "123456789018"


def test_export_jsonl_writes_every_document_with_fields_reasons_and_form(cli_env, tmp_path, capsys) -> None:
    store = open_store(cli_env)
    held = Issue("correction", "訂正線があります。", ("child_name",))
    fields = (
        FieldResult("child_name", "text_ja", "山田太郎", "山田太郎", 0.71, issues=(held,), accepted=False),
        FieldResult("child_my_number", "my_number", MY_NUMBER, MY_NUMBER, 0.99, accepted=True),
    )
    page = PageResult(0, "nursery_enrolment", "2026.1", Route.review, fields=fields)
    store.save_document_result(
        DocumentResult("a" * 64, "scan.pdf", Route.review, (page,)),
        stored_path=None,
        kind="pdf",
        size_bytes=1,
        page_count=1,
    )
    unknown = PageResult(0, None, None, Route.unknown_form, issues=(Issue("poor_scan", "画質が悪い"),))
    store.save_document_result(
        DocumentResult("b" * 64, "fax.tif", Route.unknown_form, (unknown,)),
        stored_path=None,
        kind="tiff",
        size_bytes=1,
        page_count=1,
    )
    store.close()

    out = tmp_path / "all.jsonl"
    assert main(["export", "--jsonl", str(out)]) == 0
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["source_name"] for d in docs] == ["scan.pdf", "fax.tif"]
    p = docs[0]["pages"][0]
    assert p["form_id"] == "nursery_enrolment"
    name, number = p["fields"]
    assert name == {
        "name": "child_name",
        "kind": "text_ja",
        "value": "山田太郎",
        "machine_value": "山田太郎",
        "confidence": 0.71,
        "accepted": False,
        "corrected": False,
        "reasons": ["correction"],
    }
    assert number["accepted"] is True and number["value"] == "********9018"
    assert MY_NUMBER not in out.read_text(encoding="utf-8")
    assert docs[1]["pages"][0]["form_id"] is None and docs[1]["pages"][0]["reasons"] == ["poor_scan"]

    assert main(["export", "--jsonl", "-", "--include-my-number"]) == 0
    assert MY_NUMBER in capsys.readouterr().out
    store = open_store(cli_env)
    try:
        assert store.verify_audit_chain()
        with store.session() as s:
            exports = list(
                s.scalars(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id))
            )
        assert [(e.detail["format"], e.detail["records"], e.detail["my_number_output"]) for e in exports] == [
            ("jsonl", 2, False),
            ("jsonl", 2, True),
        ]
    finally:
        store.close()
