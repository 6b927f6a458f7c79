"""`shinsei read FILE --explain`: run the pipeline on one file and show what each stage saw.

For IT staff and template authors: nothing is stored, and the output (which may show a
個人番号 in full) goes only to the terminal; the 個人番号 is masked unless `--reveal` is given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.forms.template import load_all_templates
from pipeline.mask import mask_my_number
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
    specs = {
        (t.form_id, f.name): f for t in load_all_templates(Path(settings.templates_dir)) for f in t.fields
    }
    doc = process_file(args.file, engine).result
    data = doc.export()
    if not args.reveal:
        for p in data["pages"]:
            for f in p["fields"]:
                if f["kind"] == "my_number":
                    f["value"], f["raw"], f["chars"] = (
                        mask_my_number(f["value"]),
                        mask_my_number(f["raw"]),
                        [],
                    )
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.file.name}: {doc.route}" + (f" ({doc.reason}: {doc.message})" if doc.reason else ""))
    for p in data["pages"]:
        print(
            f"\npage {p['index'] + 1}: form {p['form_id'] or '-'} {p['form_version'] or ''}  match {p['match_score']:.3f}"
            f"  turned {p['orientation']}°  skew {p['skew_deg']:+.2f}°  route {p['route']}"
        )
        for i in p["issues"]:
            print(f"  ! [{i['code']}] {i['message']}")
        for f in p["fields"]:
            spec = specs.get((p["form_id"], f["name"]))
            thr = threshold_for(spec, settings) if spec else float("nan")
            val = "・".join(f["value"]) if isinstance(f["value"], list) else f["value"]
            mark = "ok " if f["accepted"] else "REV"
            print(
                f"  {mark} {f['name']:<20} {str(val):<28} conf {f['confidence']:.3f} / {thr:.2f}  raw {f['raw']!r}"
            )
            if args.explain:
                if f["chars"]:
                    print("        chars " + " ".join(f"{c}:{prob:.2f}" for c, prob in f["chars"]))
                for i in f["issues"]:
                    print(f"        [{i['code']}/{i['severity']}] {i['message']}")
    return 0
