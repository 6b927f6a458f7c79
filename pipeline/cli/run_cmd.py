"""`shinsei run PATH...`: process files or folders in-process (embedded mode) and summarise.

Each file is identified by its sha256: a file already in the store is skipped, so running the
same folder twice processes nothing twice. Originals are copied into the data directory before
anything else happens, and a file that cannot be read is copied to quarantine with its reason;
the clerk's own files are never moved or deleted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline import ingest
from pipeline.models import Route
from pipeline.run import Engine, process_file
from pipeline.settings import Settings
from pipeline.store.db import open_store

SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="process scans (files or folders) now, in this process")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON line per document on stdout")
    p.set_defaults(func=run)


def expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.name not in SKIP_NAMES
                and not f.name.startswith(".")
                and f.suffix != ".json"
            )
        elif p.exists():
            files.append(p)
        else:
            print(f"shinsei: {p}: no such file or folder", file=sys.stderr)
    return files


def store_original(src: Path, sha: str, data_dir: Path) -> Path:
    """Copy the scan into the content-addressed originals store (name = sha256, never a value)."""
    dest = data_dir / "originals" / sha[:2] / (sha + src.suffix.lower())
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        shutil.copy2(src, tmp)
        tmp.replace(dest)
    return dest


def crop_sink_factory(data_dir: Path):
    import cv2

    def for_doc(sha: str):
        folder = data_dir / "crops" / sha[:2] / sha

        def sink(page: int, field: str, crop: np.ndarray) -> str:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"p{page:03d}_{field}.png"
            cv2.imwrite(str(path), crop)
            return str(path.relative_to(data_dir))

        return sink

    return for_doc


def run(args: argparse.Namespace, settings: Settings) -> int:
    import json

    files = expand(args.paths)
    if not files:
        print("shinsei: nothing to process", file=sys.stderr)
        return 2
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)
    engine = Engine.load(settings)
    counts: Counter[str] = Counter()
    pages = 0
    started = time.monotonic()
    bar = tqdm(files, unit="file", disable=not sys.stderr.isatty(), file=sys.stderr)
    for path in bar:
        bar.set_postfix_str(path.name[-30:])
        sha = ingest.sha256_file(path)
        if store.has_document(sha):
            counts["already done"] += 1
            continue
        stored = store_original(path, sha, data_dir)
        outcome = process_file(stored, engine, crop_sink_factory(data_dir))
        doc = outcome.result
        doc = type(doc)(**{**doc.__dict__, "source_name": path.name})
        if doc.route == Route.quarantined:
            qdir = ingest.quarantine(
                path, data_dir / "quarantine", sha, doc.reason or "unreadable_file", doc.message or ""
            )
            store.record_quarantine(
                sha,
                path.name,
                str(stored),
                "unknown",
                path.stat().st_size,
                doc.reason or "",
                doc.message or "",
            )
            print(f"quarantined {path.name}: {doc.message} → {qdir}", file=sys.stderr)
        else:
            f = outcome.file
            store.save_document_result(
                doc, stored_path=str(stored), kind=f.kind, size_bytes=f.size_bytes, page_count=f.page_count
            )
            pages += len(doc.pages)
        counts[str(doc.route)] += 1
        if args.json:
            print(
                json.dumps(
                    {"file": path.name, "sha256": sha, "route": str(doc.route), "reason": doc.reason},
                    ensure_ascii=False,
                )
            )
    elapsed = time.monotonic() - started
    docs = sum(v for k, v in counts.items() if k != "already done")
    out = sys.stderr if args.json else sys.stdout
    print("", file=out)
    print(f"documents      {docs}", file=out)
    print(f"pages          {pages}", file=out)
    print(f"straight through {counts[str(Route.accepted)]}", file=out)
    print(f"in review      {counts[str(Route.review)] + counts[str(Route.unknown_form)]}", file=out)
    print(f"quarantined    {counts[str(Route.quarantined)]}", file=out)
    if counts["already done"]:
        print(f"already done   {counts['already done']} (same file seen before; skipped)", file=out)
    print(f"pages/min      {pages / elapsed * 60 if elapsed > 0 else 0:.1f}", file=out)
    print(f"data           {data_dir.resolve()}", file=out)
    return 0
