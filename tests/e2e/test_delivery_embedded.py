"""Embedded mode end to end: `shinsei run` reads the bundled demo scans with targets configured. The
OCR model runs once, in that one process. Documents left in review are delivered only after a
person settles them. Here the review step is done through the store API with the samples' true
values, and the acceptance writes the outbox rows in its own transaction, as the review page does.
`shinsei outbox run` then puts every accepted record into the cp932 CSV and the fixed-width file,
verified."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.outbox import Outbox

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "samples" / "demo"
TARGETS = ["nursery_csv", "nursery_fixed"]


def _shinsei(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env |= {
        "SHINSEI_DATA_DIR": str(data),
        "SHINSEI_DELIVERY_TARGETS": ",".join(TARGETS),
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.model
@pytest.mark.services
def test_run_review_accept_and_deliver(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = sorted(p for p in DEMO.iterdir() if p.suffix in (".png", ".jpg", ".pdf", ".tiff"))
    res = _shinsei(data, "run", *map(str, files))
    assert res.returncode == 0, res.stderr
    con = sqlite3.connect(data / "shinsei.sqlite3")
    auto = con.execute(
        "select count(*) from pages p join documents d on d.id = p.document_id "
        "where d.status = 'accepted' and p.form_id is not null"
    ).fetchone()[0]
    con.close()
    assert f"delivery: {2 * auto} verified" in res.stderr

    # The review step: every field the machine did not accept gets the sample's true value, then the
    # document is accepted and its outbox rows written in the same transaction.
    store = open_store(Settings(data_dir=data, delivery_targets=TARGETS))
    reviewed: dict[int, dict[str, object]] = {}
    reviewed_pages = 0
    for summary in store.list_documents(status="review", limit=100):
        doc = store.get_document(summary.id)
        gt = json.loads((DEMO / (Path(doc.source_name).stem + ".json")).read_text(encoding="utf-8"))
        truth = {p["page"]: p["values"] for p in gt["pages"]}
        pages = [p for p in doc.pages if p.form_id]
        if not pages:
            continue
        for page in pages:
            for f in page.fields:
                if not f.accepted:
                    # a `review: double` field (個人番号) needs the same value from a second person
                    for clerk in ("reviewer1", "reviewer2") if f.double_entry else ("reviewer1",):
                        store.correct_field(summary.id, page.index, f.name, truth[page.index][f.name], clerk)
        reviewed[summary.id] = truth[pages[0].index]
        reviewed_pages += len(pages)
        before = len(Outbox(store).list(limit=10000))
        assert store.set_status(summary.id, "accepted", "reviewer1")  # the review page's accept
        assert len(Outbox(store).list(limit=10000)) == before + 2 * len(pages)
    assert len(reviewed) >= 5

    res = _shinsei(data, "outbox", "run")
    assert res.returncode == 0, res.stderr
    rows = Outbox(store).list(limit=1000)
    assert {d.state for d in rows} == {"verified"}
    assert len(rows) == 2 * (auto + reviewed_pages)  # one per identified page and target
    text = "".join(
        f.read_bytes().decode("cp932") for f in (data / "deliveries" / "nursery_csv").glob("*.csv")
    )
    names = [
        r["児童氏名"] for r in csv.DictReader(io.StringIO(text, newline="")) if r["受付キー"] != "受付キー"
    ]
    for values in reviewed.values():
        assert values["child_name"] in names
    store.close()
