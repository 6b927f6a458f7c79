"""`shinsei template check FORM_ID`: validate a template and draw its boxes over the blank."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from pipeline.forms import dateparts
from pipeline.forms.blank import read_blank, read_blank_as_stored, size_note
from pipeline.forms.overlay import draw_fields
from pipeline.forms.template import find_template, load_template
from pipeline.run import complete_template
from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="check form templates")
    tsub = p.add_subparsers(dest="template_command", required=True)
    c = tsub.add_parser("check", help="validate a template and write a PNG with every field box drawn")
    c.add_argument("form", help="form id (folder under the templates dir) or a path to template.yaml")
    c.add_argument(
        "--out", type=Path, default=None, help="PNG to write (default: DATA_DIR/<form_id>_check.png)"
    )
    c.set_defaults(func=check)


def check(args: argparse.Namespace, settings: Settings) -> int:
    form = Path(args.form)
    tpl = load_template(form) if form.exists() else find_template(Path(settings.templates_dir), args.form)
    if any(dateparts.wants_parts(f) for f in tpl.fields):
        # Found with the recogniser, as the reader will (pipeline.run.Engine.load), and drawn.
        from pipeline.ocr.onnx_ppocr import OnnxRecognizer

        tpl = complete_template(tpl, OnnxRecognizer(threads=settings.ocr_threads))
    blank = read_blank(tpl)
    note = size_note(tpl, read_blank_as_stored(tpl))
    # Into the data directory, not the current folder (often the clone, where it would be committed).
    out = args.out or Path(settings.data_dir) / f"{tpl.form_id}_check.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), draw_fields(tpl, blank))
    kinds: dict[str, int] = {}
    for f in tpl.fields:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    print(f"{tpl.form_id} {tpl.version}: OK, {len(tpl.fields)} fields, {len(tpl.rules)} cross-field rules")
    print("  kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    if note:
        print(f"  warning: {note}")
    if tpl.inferred:
        # Hints the template leaves out, assumed from labels and boxes (docs/templates.md): the
        # city writes them down to keep them, or writes otherwise.
        print(f"  assumed where the template says nothing ({len(tpl.inferred)}):")
        for line in tpl.inferred:
            print(f"    {line}")
    print(f"  wrote {out}")
    return 0
