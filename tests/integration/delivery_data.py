"""Records for the delivery tests, made without running the OCR model: the bundled demo samples'
ground-truth values (samples/demo/doc_*.json) saved as accepted documents, or small hand-made ones.
Field kinds come from the nursery template."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.result import DocumentResult
from pipeline.store import Store

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo"
TEMPLATE = ROOT / "templates_forms" / "nursery_enrolment" / "template.yaml"
FORM = "nursery_enrolment"
# Servers the SQL-target tests create their databases on (an admin URL each; override by environment).
PG_ADMIN = os.environ.get("SHINSEI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
MARIA_ADMIN = os.environ.get("SHINSEI_TEST_MARIA_URL", "mysql+pymysql://root@127.0.0.1:3306/")


@lru_cache(maxsize=1)
def kinds() -> dict[str, str]:
    data = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    return {f["name"]: f["kind"] for f in data["fields"]}


def sample_values() -> list[tuple[str, dict[str, Any]]]:
    """(sample file, values) for every page of every bundled demo sample."""
    out = []
    for gt in sorted(DEMO.glob("doc_*.json")):
        data = json.loads(gt.read_text(encoding="utf-8"))
        for page in data["pages"]:
            out.append((f"{data['file']}#{page['page']}", dict(page["values"])))
    return out


def accept(store: Store, values: dict[str, Any], name: str = "hand.png", sha: str | None = None) -> int:
    """Save `values` as one accepted single-page document (every field accepted); returns its id."""
    # A leading "f" keeps the document out of the QA draw (review_tables.qa_selected takes the
    # sha256's lowest share), which would otherwise send about 2% of these to review at random.
    sha = sha or "f" + hashlib.sha256(f"{name}:{uuid.uuid4()}".encode()).hexdigest()[1:]
    fields = [
        {
            "name": n,
            "kind": k,
            "raw": "" if values.get(n) is None else str(values.get(n)),
            "value": values.get(n),
            "confidence": 0.99,
            "chars": [],
            "issues": [],
            "accepted": True,
        }
        for n, k in kinds().items()
    ]
    page = {"index": 0, "form_id": FORM, "form_version": "2026.1", "route": "accepted", "fields": fields}
    doc = DocumentResult.from_dict({"sha256": sha, "source_name": name, "route": "accepted", "pages": [page]})
    return store.save_document_result(doc, stored_path=None, kind="png", size_bytes=1, page_count=1)


def accept_samples(store: Store) -> list[int]:
    return [accept(store, v, name) for name, v in sample_values()]


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards); yields its URL."""
    from tests.conftest import new_pg_database

    yield from new_pg_database("shinsei_dlv")


def maria_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = unique_name("shinsei_dlv")
    admin = create_engine(MARIA_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield (
            admin.url.set(database=name)
            .update_query_dict({"charset": "utf8mb4"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
