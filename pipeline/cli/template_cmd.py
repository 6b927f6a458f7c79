"""`shinsei template check FORM_ID`: validate a template and draw its boxes over the blank.
`shinsei template import FIELD_MAP.json --blank BLANK`: write a template from a form's field list
(pipeline/forms/fieldmap.py) into the templates folder, ready to check."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import cv2

from pipeline.errors import TemplateError
from pipeline.forms import dateparts
from pipeline.forms.blank import read_blank, read_blank_as_stored, size_note
from pipeline.forms.fieldmap import form_id_of, template_from_fieldmap, to_yaml
from pipeline.forms.overlay import LEGEND, draw_fields, overlapping_fields
from pipeline.forms.template import find_template, load_template
from pipeline.run import complete_template
from pipeline.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="check form templates")
    tsub = p.add_subparsers(dest="template_command", required=True)
    c = tsub.add_parser(
        "check",
        help="validate a template and write a PNG with every field box drawn",
        description="Validate a template (every problem listed at once, exit status 4 if any) and"
        " draw its boxes over the blank. Templates are looked up in SHINSEI_TEMPLATES_DIR"
        " (default: the repository's templates_forms/); see docs/templates.md.",
    )
    c.add_argument(
        "form", help="form id (its folder under SHINSEI_TEMPLATES_DIR) or a path to a template.yaml"
    )
    c.add_argument(
        "--out", type=Path, default=None, help="PNG to write (default: DATA_DIR/<form_id>_check.png)"
    )
    c.set_defaults(func=check)
    m = tsub.add_parser(
        "import",
        help="write a template from a form's field list (JSON, boxes in mm: docs/templates.md)",
    )
    m.add_argument("fieldmap", type=Path, help="the field list (JSON)")
    m.add_argument("--blank", type=Path, required=True, help="the blank form: PNG/JPEG/TIFF scan or PDF")
    m.add_argument("--form-id", default=None, help="form id (default: the field list's own, when usable)")
    m.add_argument(
        "--into", type=Path, default=None, help="templates folder to write into (default: the templates dir)"
    )
    m.add_argument("--force", action="store_true", help="replace an existing template of that form id")
    m.set_defaults(func=import_fieldmap)


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
    for a, b, w, h in overlapping_fields(tpl):
        print(
            f"  warning: the boxes of {a} and {b} overlap by {w:g} x {h:g} mm: writing there may be read"
            " as either's; keep each box to its own cell, unless the form prints one field inside the other"
        )
    if tpl.inferred:
        # Hints the template leaves out, assumed from labels and boxes (docs/templates.md): the
        # city writes them down to keep them, or writes otherwise.
        print(f"  assumed where the template says nothing ({len(tpl.inferred)}):")
        for line in tpl.inferred:
            print(f"    {line}")
    else:
        print("  assumed where the template says nothing: none")
    print(f"  wrote {out}")
    print(f"  ({LEGEND})")
    return 0


PDF_BLANK_DPI = 300  # a PDF blank is rendered at this resolution (pipeline/forms/blank.py)


def blank_dpi_of(blank: Path, page_width_mm: float) -> int:
    """The resolution of a blank image, from its width and the page's; a PDF's is the one it is
    rendered at."""
    if blank.suffix.lower() == ".pdf":
        return PDF_BLANK_DPI
    img = cv2.imread(str(blank), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise TemplateError(f"{blank}: the blank cannot be read as an image or PDF")
    return max(100, min(600, round(img.shape[1] / (page_width_mm / 25.4))))


def import_fieldmap(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = json.loads(Path(args.fieldmap).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TemplateError(f"{args.fieldmap}: not a readable JSON field list ({e})") from None
    if not Path(args.blank).is_file():
        raise TemplateError(f"{args.blank}: no such blank form")
    form_id = args.form_id or form_id_of(str(data.get("form_id", "")) if isinstance(data, dict) else "")
    if not form_id:
        print(
            f"{args.fieldmap}: its form id {data.get('form_id')!r} cannot name a folder; give --form-id",
            file=sys.stderr,
        )
        return 2
    page_w = float((data.get("page_size_mm") or {}).get("w", 210))
    blank_name = "blank" + Path(args.blank).suffix.lower()
    imported = template_from_fieldmap(
        data, form_id=form_id, blank=blank_name, blank_dpi=blank_dpi_of(Path(args.blank), page_w)
    )
    folder = Path(args.into or settings.templates_dir) / form_id
    if (folder / "template.yaml").exists() and not args.force:
        print(f"{folder / 'template.yaml'} exists; give --force to replace it", file=sys.stderr)
        return 2
    header = (
        f"{imported.template['title']}: written by `shinsei template import` from {Path(args.fieldmap).name}\n"
        f"on {dt.date.today().isoformat()}. Check it with `shinsei template check {form_id}`, then add\n"
        "what a field list does not say: rules between fields (docs/templates.md), date ranges,\n"
        "vocabularies. Left out or assumed:"
    )
    text = to_yaml(imported, header)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(args.blank, folder / blank_name)
        (folder / "template.yaml").write_text(text, encoding="utf-8")
        tpl = load_template(folder)
    except Exception:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    kinds: dict[str, int] = {}
    for f in tpl.fields:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    print(
        f"wrote {folder / 'template.yaml'}: {len(tpl.fields)} fields, blank {blank_name} at {tpl.blank_dpi} dpi"
    )
    print("  kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    for n in imported.notes:
        print(f"  {n}")
    print(f"  next: shinsei template check {form_id}")
    return 0
