"""`shinsei read FILE... --explain`: run the pipeline on files and show what each stage saw.

For IT staff and template authors: nothing is stored. Each file goes through the per-file guard
(`pipeline/intake/guard.py`): one that fails unexpectedly is shown as quarantined with reason
`internal_error` and the next file is read. A path that does not exist is reported and makes the
exit status non-zero; and the output (which may show a
個人番号 in full) goes only to the terminal; the 個人番号 is masked unless `--reveal` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.cli.pages_view import print_pages, rules_of
from pipeline.errors import ExitCode
from pipeline.intake.guard import process_guarded
from pipeline.privacy import mask_export
from pipeline.run import Engine
from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "read", help="run the pipeline on one file without storing anything; --explain shows each stage"
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument(
        "--explain", action="store_true", help="per-character probabilities, thresholds and reasons"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="the whole result as JSON on stdout (one file: an object; several: a list of them)",
    )
    p.add_argument("--reveal", action="store_true", help="show 個人番号 unmasked")
    p.set_defaults(func=read)


def read(args: argparse.Namespace, settings: Settings) -> int:
    missing = [f for f in args.files if not f.is_file()]
    for f in missing:
        print(f"shinsei: {f}: no such file", file=sys.stderr)
    if len(missing) == len(args.files):
        return int(ExitCode.bad_args)
    engine = Engine.load(settings)
    rule = rules_of((t.template for t in engine.templates), settings)

    results = []
    for path in args.files:
        if path in missing:
            continue
        doc = process_guarded(path, engine)[0].result
        data = doc.export() if args.reveal else mask_export(doc.export())
        results.append(data)
        if args.json:
            continue
        print(f"{path.name}: {doc.route}" + (f" ({doc.reason}: {doc.message})" if doc.reason else ""))
        print_pages(data, rule=rule, explain=args.explain, raw=True)
    if args.json:
        print(json.dumps(results[0] if len(args.files) == 1 else results, ensure_ascii=False, indent=2))
    return int(ExitCode.bad_args) if missing else 0
