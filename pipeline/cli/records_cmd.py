"""`shinsei status`, `shinsei show DOC`, `shinsei export --csv FILE | --jsonl FILE`: look at
and export records.
`shinsei status` also lists each `processing` document with its holder, age and when the queue
will move it on (pipeline/intake/stuck.py; `shinsei doctor` explains it in words).

Every show and export is written to the audit log. 個人番号 is masked unless `--reveal` is
given, and revealing is audit-logged as such.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.adapters.export import export_csv
from pipeline.cli.common import UsageError, actor
from pipeline.cli.pages_view import clip, pad, print_pages, rules_of
from pipeline.errors import ShinseiError
from pipeline.forms.template import load_all_templates
from pipeline.intake.stuck import diagnose
from pipeline.privacy import mask_export
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.tables import utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="counts by status and the most recent documents")
    p.add_argument("--limit", type=int, default=15)
    p.set_defaults(func=status)

    p = sub.add_parser("show", help="one document with its fields (個人番号 masked)")
    p.add_argument(
        "doc", help="document id, sha256 (a unique prefix of 8+ characters is enough) or file name"
    )
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


def open_existing(settings: Settings) -> Any:
    """The store, for commands that only look: an embedded SQLite database that does not exist yet
    is an error naming the data directory, not a new empty one (the usual cause is a relative
    SHINSEI_DATA_DIR, or none, in another folder than the run's)."""
    if settings.database_url is None and not (Path(settings.data_dir) / "shinsei.sqlite3").is_file():
        raise UsageError(
            f"no shinsei database in {settings.data_dir}: nothing was run with this data directory. "
            "Set SHINSEI_DATA_DIR to the folder `shinsei run` used (after ./scripts/demo.sh: "
            "export SHINSEI_DATA_DIR=$PWD/data/demo from the clone's folder)"
        )
    return open_store(settings)


def data_source(settings: Settings) -> str:
    """Where the records are: the data directory, and the database when it is elsewhere."""
    if settings.database_url is None:
        return str(settings.data_dir)
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url).render_as_string(hide_password=True)
    return f"{settings.data_dir} (database {url})"


def status(args: argparse.Namespace, settings: Settings) -> int:
    store = open_existing(settings)
    counts = store.counts_by_status()
    total = sum(counts.values())
    print(f"data: {data_source(settings)}")
    print(f"documents: {total}")
    for k in ("accepted", "review", "unknown_form", "quarantined", "exported", "processing"):
        if counts.get(k):
            print(f"  {k:<13} {counts[k]}")
    docs = store.list_documents(limit=args.limit, newest_first=True)
    if docs:
        print()
        print(f"{'id':>4}  {'status':<12} {'pages':>5} {'to review':>9}  {'file':<28} reason")
        for d in docs:
            print(
                f"{d.id:>4}  {d.status:<12} {d.pages:>5} {d.fields_in_review:>9}  {pad(clip(d.source_name, 28), 28)} {d.message or d.reason or ''}"
            )
    print_in_flight(store, settings, limit=args.limit)
    return 0


def print_in_flight(store: Any, settings: Settings, limit: int) -> None:
    """The `processing` documents: holder, age, and when a sweep would queue each again."""
    in_flight = store.in_flight(limit=limit)
    if not in_flight:
        return
    now = utcnow()
    print()
    print(f"processing ({len(in_flight)}{'+' if len(in_flight) == limit else ''}):")
    print(f"{'id':>4}  {'state':<15} {'holder':<24} {'age':>6}  {'re-queued':<22} file")
    for d in in_flight:
        dx = diagnose(d, now, settings)
        if dx.requeue_in_s is None:
            when = "by hand (failed)" if dx.state == "failed" else "no (in the queue)"
        elif dx.state in ("queued", "waiting_or_lost"):
            when = f"if lost: within {round(dx.requeue_in_s)} s"
        elif dx.state == "running":
            when = f"if silent; lease {max(0, round(dx.requeue_in_s - settings.requeue_every_s))} s"
        else:
            when = f"within {round(dx.requeue_in_s)} s"
        print(
            f"{d.id:>4}  {dx.state:<15} {(d.claimed_by or '-')[:24]:<24} {round(dx.age_s):>5}s  {when:<22} {d.source_name[:28]}"
        )


def _resolve(store: Any, key: str) -> Any:
    """A document by id, sha256 (or a unique prefix of 8+ characters) or the file name it came in
    as (when one document has it)."""
    if key.isdigit() and len(key) < 8:
        row = store.get_document_row(int(key))
    else:
        row = store.get_document_row(key)
        if row is None:
            docs = store.list_documents(limit=100000)
            by_sha = [d for d in docs if len(key) >= 8 and d.sha256.startswith(key)]
            by_name = [d for d in docs if d.source_name == key]
            matches = by_sha or by_name
            if len(matches) > 1 and not by_sha:
                ids = ", ".join(str(d.id) for d in matches)
                raise ShinseiError(
                    f"{len(matches)} documents came in as {key!r} (ids {ids}): give the id", reason="bad_args"
                )
            row = store.get_document_row(matches[0].id) if len(matches) == 1 else None
    if row is None:
        raise ShinseiError(f"no document {key!r} (see `shinsei status`)", reason="not_found")
    return row


def show(args: argparse.Namespace, settings: Settings) -> int:
    store = open_existing(settings)
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
    print_pages(data, rule=rules_of(load_all_templates(Path(settings.templates_dir)), settings))
    return 0


def export(args: argparse.Namespace, settings: Settings) -> int:
    store = open_existing(settings)
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
    rows_written = export_csv(
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
