"""`shinsei read FILE --explain`: run the pipeline on one file and show what each stage saw.

For IT staff and template authors: nothing is stored, and the output (which may show a
個人番号 in full) goes only to the terminal; the 個人番号 is masked unless `--reveal` is given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli.pages_view import print_pages
from pipeline.privacy import mask_export
from pipeline.route import threshold_for
from pipeline.run import Engine, process_file
from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "read", help="run the pipeline on one file without storing anything; --explain shows each stage"
    )
    p.add_argument("file", type=Path)
    p.add_argument(
        "--explain", action="store_true", help="per-character probabilities, thresholds and reasons"
    )
    p.add_argument("--json", action="store_true", help="the whole result as JSON on stdout")
    p.add_argument("--reveal", action="store_true", help="show 個人番号 unmasked")
    p.set_defaults(func=read)


def read(args: argparse.Namespace, settings: Settings) -> int:
    engine = Engine.load(settings)
    specs = {(t.template.form_id, f.name): f for t in engine.templates for f in t.template.fields}

    def threshold(form_id: str | None, name: str) -> float:
        spec = specs.get((form_id, name))
        return threshold_for(spec, settings) if spec else float("nan")

    doc = process_file(args.file, engine).result
    data = doc.export() if args.reveal else mask_export(doc.export())
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.file.name}: {doc.route}" + (f" ({doc.reason}: {doc.message})" if doc.reason else ""))
    print_pages(data, threshold=threshold, explain=args.explain)
    return 0
