"""`shinsei status`, `shinsei show DOC`, `shinsei export --csv FILE | --jsonl FILE`: look at and
export records.

Every show and export is written to the audit log. 個人番号 is masked unless `--reveal` is
given, and revealing is audit-logged as such.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.adapters import csv_file
from pipeline.cli.common import actor
from pipeline.cli.pages_view import print_pages
from pipeline.errors import ShinseiError
from pipeline.forms.template import load_all_templates
from pipeline.privacy import mask_export
from pipeline.settings import Settings
from pipeline.store import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="counts by status and the most recent documents")
    p.add_argument("--limit", type=int, default=15)
    p.set_defaults(func=status)

    p = sub.add_parser("show", help="one document with its fields (個人番号 masked)")
    p.add_argument("doc", help="document id or sha256 (a unique prefix of 8+ characters is enough)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--reveal", action="store_true", help="show 個人番号 in full (audit-logged)")
    p.set_defaults(func=show)

    p = sub.add_parser("export", help="export accepted records (--csv) or every document (--jsonl)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", type=Path, help="CSV file to write (UTF-8 with BOM, CRLF)")
    out.add_argument(
        "--jsonl",
        type=Path,
        help="every document, one JSON line each: pages, fields with value, confidence, "
        "accepted flag and reasons, and the form id (`-` for standard output)",
    )
    p.add_argument("--form", default=None, help="only this form id")
    p.add_argument("--include-my-number", action="store_true", help="export 個人番号 unmasked (audit-logged)")
    p.set_defaults(func=export)


def status(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    counts = store.counts_by_status()
    total = sum(counts.values())
    print(f"documents: {total}")
    for k in ("accepted", "review", "unknown_form", "quarantined", "exported", "processing"):
        if counts.get(k):
            print(f"  {k:<13} {counts[k]}")
    docs = store.list_documents(limit=args.limit)
    if docs:
        print()
        print(f"{'id':>4}  {'status':<12} {'pages':>5} {'to review':>9}  {'file':<28} reason")
        for d in docs:
            print(
                f"{d.id:>4}  {d.status:<12} {d.pages:>5} {d.fields_in_review:>9}  {d.source_name[:28]:<28} {d.message or d.reason or ''}"
            )
    return 0


def _resolve(store: Any, key: str) -> Any:
    if key.isdigit() and len(key) < 8:
        row = store.get_document_row(int(key))
    else:
        row = store.get_document_row(key)
        if row is None and len(key) >= 8:
            matches = [d for d in store.list_documents(limit=100000) if d.sha256.startswith(key)]
            row = store.get_document_row(matches[0].id) if len(matches) == 1 else None
    if row is None:
        raise ShinseiError(f"no document {key!r} (see `shinsei status`)", reason="not_found")
    return row


def show(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    row = _resolve(store, args.doc)
    doc = store.get_document(row.id)
    has_my_number = any(f.kind == "my_number" and f.value for p in doc.pages for f in p.fields)
    store.audit(
        actor(),
        "reveal_my_number" if args.reveal else "view",
        document_id=row.id,
        detail={"via": "cli show"},
        my_number_accessed=bool(args.reveal and has_my_number),
    )
    data = doc.export() if args.reveal else mask_export(doc.export())
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"document {row.id}  {doc.source_name}  sha256 {doc.sha256[:16]}…  status {row.status}")
    if doc.message:
        print(f"  {doc.message}")
    print_pages(data)
    return 0


def export(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    if args.jsonl is not None:
        return _export_jsonl(store, args)
    templates = {t.form_id: t for t in load_all_templates(Path(settings.templates_dir))}
    if args.form is None and len(templates) > 1:
        raise ShinseiError(
            f"several forms are configured; choose one with --form ({', '.join(templates)})",
            reason="bad_args",
        )
    form_id = args.form or next(iter(templates))
    if form_id not in templates:
        raise ShinseiError(f"no form {form_id!r} (known: {', '.join(templates)})", reason="bad_args")
    rows_written = csv_file.write_records(
        args.csv,
        form_id,
        templates[form_id],
        store.accepted_pages(form_id=form_id),
        include_my_number=bool(args.include_my_number),
    )
    store.audit(
        actor(),
        "export",
        detail={
            "file": args.csv.name,
            "form_id": form_id,
            "records": rows_written,
            "my_number_output": bool(args.include_my_number),
        },
        my_number_accessed=bool(args.include_my_number),
    )
    print(f"exported {rows_written} accepted record(s) to {args.csv}", file=sys.stderr)
    return 0


def _export_jsonl(store: Any, args: argparse.Namespace) -> int:
    """One JSON object per document and line (UTF-8), for integrators and outside measurement."""
    to_stdout = str(args.jsonl) == "-"
    out = sys.stdout if to_stdout else args.jsonl.open("w", encoding="utf-8", newline="\n")
    n = 0
    try:
        for rec in store.documents_for_integration(include_my_number=bool(args.include_my_number)):
            if args.form is not None and all(p["form_id"] != args.form for p in rec["pages"]):
                continue
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    finally:
        if not to_stdout:
            out.close()
    store.audit(
        actor(),
        "export",
        detail={
            "file": "-" if to_stdout else args.jsonl.name,
            "format": "jsonl",
            "form_id": args.form,
            "records": n,
            "my_number_output": bool(args.include_my_number),
        },
        my_number_accessed=bool(args.include_my_number),
    )
    print(f"exported {n} document(s) to {args.jsonl}", file=sys.stderr)
    return 0
