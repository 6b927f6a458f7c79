"""Field accuracy on generated pages the pipeline was never tuned on.

    python bench/accuracy.py --n 100 --seed 20261126 [--profile mixed] [--fonts holdout]
    python bench/accuracy.py --form change_of_address --templates bench/forms   # the second form

Generates pages with `samples.generate` (holdout fonts and MNIST digits 300–399 by default),
runs the whole pipeline in-process, and prints per kind: exact match over filled fields, share
auto-accepted, and error rate among auto-accepted fields; then per document: identified (as the
right form), orientation right, straight through. Use a seed you have not looked at; report the
table.

`--form` picks the form to fill and `--templates` the folder holding it; the pipeline then loads
that folder's forms and the bundled ones together, so each page must still be told apart from the
nursery form. bench/forms/change_of_address is a second form written as a template alone and never
used for tuning.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import as_imported, generate, is_filled, load_gt, page_options, same, strip_hints, work_dir  # noqa: E402
from pipeline.errors import TemplateError  # noqa: E402
from pipeline.fields.passes import is_facility_name  # noqa: E402
from pipeline.forms.template import load_template  # noqa: E402
from pipeline.result import Route  # noqa: E402
from pipeline.route import blocking  # noqa: E402
from pipeline.run import Engine, process_file  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "templates_forms"


def main() -> int:
    ap = page_options(__doc__, n=100, seed=27182)
    ap.add_argument("--profile", default="mixed", choices=["mild", "hard", "mixed"])
    ap.add_argument("--fonts", default="holdout", choices=["train", "holdout"])
    ap.add_argument("--form", default="nursery_enrolment", help="form id to fill and read")
    ap.add_argument("--templates", type=Path, default=BUNDLED, help="folder holding --form's template")
    ap.add_argument("--errors", type=int, default=0, help="print this many wrong fields")
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    ap.add_argument(
        "--open-facilities",
        action="store_true",
        help="drop the form's facility list, so facility names are written from the generator's own"
        " (samples.profile.FALLBACK_FACILITIES) and read open, as on a city's form without a list",
    )
    ap.add_argument(
        "--strip-hints",
        action="store_true",
        help="read with the form's template stripped of its reading hints and rules (bench.common."
        "strip_hints), as a template written by someone else might be; pages are drawn from the full one",
    )
    ap.add_argument(
        "--as-imported",
        action="store_true",
        help="read with the template `shinsei template import` writes from the form's field list"
        " (bench.common.fieldmap_of: boxes, kinds, cells, options, eras, parts; no rules or hints);"
        " pages are drawn from the full one",
    )
    args = ap.parse_args()
    if args.open_facilities:
        args.templates = open_facilities(args.templates, args.form)

    work = work_dir(args, "acc")
    files = generate(
        work,
        args.n,
        args.seed,
        profile=args.profile,
        fonts=args.fonts,
        form=args.form,
        templates=args.templates,
    )
    # The generator writes applications for 令和8〜9年; measure date ranges from its calendar.
    reading = stripped_copy(args.templates, args.form) if args.strip_hints else args.templates
    if args.as_imported:
        reading = _rewritten_copy(args.templates, args.form, as_imported)
    settings = Settings(reference_date=dt.date(2026, 11, 26), templates_dir=_with_bundled(reading))
    engine = Engine.load(settings)
    forms = {t.template.form_id: t.template for t in engine.templates}
    stats = defaultdict(lambda: defaultdict(int))
    by_scan = defaultdict(lambda: defaultdict(int))  # page scan tag -> counts, as `stats`
    docs = defaultdict(int)
    wrong: list[str] = []
    rows: list[dict] = []  # one per field, for --json (bench/reliability.py reads them)
    t0 = time.monotonic()
    for file in files:
        gt = load_gt(file)
        result = process_file(file, engine).result
        for gpage in gt["pages"]:
            docs["pages"] += 1
            page = next((p for p in result.pages if p.index == gpage["page"]), None)
            if page is None or page.form_id != gt["form_id"]:
                docs["not identified"] += 1
                continue
            docs["identified"] += 1
            want_turn = 180 if gpage.get("upside_down") else 0
            docs["orientation right"] += int(page.orientation == want_turn)
            docs["straight through"] += int(page.route == Route.accepted)
            fields = {f.name: f for f in page.fields}
            for name, want in gpage["values"].items():
                f = fields[name]
                ok = same(f.value, want)
                filled = is_filled(want)
                for k in [stats[f.kind]] + [by_scan[t] for t in _scan_tags(gpage)]:
                    k["fields"] += 1
                    k["filled"] += filled
                    k["filled right"] += filled and ok
                    k["right"] += ok
                    k["accepted"] += f.accepted
                    k["accepted wrong"] += f.accepted and not ok
                rows.append(
                    {
                        "doc": gt["file"],
                        "page": gpage["page"],
                        "field": name,
                        "kind": f.kind,
                        "confidence": round(f.confidence, 4),
                        "raw_confidence": None if f.raw_confidence is None else round(f.raw_confidence, 6),
                        "evidence": f.evidence,
                        "empty_reading": f.raw == "",
                        "accepted": f.accepted,
                        "right": ok,
                        "filled": filled,
                        "blocking": blocking(f.issues),
                        "review_always": forms[gt["form_id"]].field(name).review != "auto",
                        "reasons": [i.code for i in f.issues],
                    }
                )
                if not ok and len(wrong) < args.errors:
                    wrong.append(
                        f"{gt['file']} {name}: want {want!r} got {f.value!r} raw {f.raw!r} conf {f.confidence:.2f} acc {f.accepted}"
                    )
    elapsed = time.monotonic() - t0

    tot = defaultdict(int)
    print(
        f"\nshinsei accuracy: {args.form}, {docs['pages']} pages, seed {args.seed}, profile {args.profile}, "
        f"fonts {args.fonts}\n"
    )
    print(
        f"{'kind':<14}{'fields':>7}{'filled':>7}{'exact(filled)':>15}{'exact(all)':>12}{'auto-acc':>10}{'wrong|acc':>11}"
    )
    for kind in sorted(stats):
        k = stats[kind]
        for key, v in k.items():
            tot[key] += v
        print(_row(kind, k))
    print(_row("ALL", tot))
    print()
    print(f"{'page tag':<14}")
    for tag in sorted(by_scan):
        print(_row(tag, by_scan[tag]))
    print()
    n = max(1, docs["pages"])
    print(f"pages identified        {docs['identified']}/{docs['pages']}")
    print(f"orientation right       {docs['orientation right']}/{docs['identified']}")
    print(
        f"straight through        {docs['straight through']}/{docs['pages']} ({docs['straight through'] / n:.1%})"
    )
    print(
        f"time                    {elapsed:.1f} s ({docs['pages'] / elapsed * 60:.1f} pages/min incl. PDF/TIFF decode)"
    )
    for w in wrong:
        print("  ", w)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"kinds": stats, "total": tot, "docs": docs, "fields": rows}, ensure_ascii=False, indent=1
            )
        )
    return 0


def _scan_tags(gpage: dict) -> list[str]:
    """The scan conditions of a generated page, as dev set A's page tags name them."""
    tags = [f"dpi {gpage.get('dpi', 300)}"]
    if gpage.get("fax"):
        tags.append("mode fax")
        tags.append(f"fax {gpage.get('fax_mode', 'square')}")
    if gpage.get("bilevel"):
        tags.append("bilevel scan")
    if gpage.get("low_contrast"):
        tags.append("low contrast")
    for extra in ("jpeg_heavy", "thin_pen", "light_ink"):
        if gpage.get(extra):
            tags.append(extra.replace("_", " "))
    # Colour that is not ink (samples/scan.py `colourise`, and the older stain), and the pen.
    colour = {"stain": "stain", "paper_colour": "colour paper", "tint": "tint blotches"}
    colour |= {"pattern": "tint pattern", "highlight": "highlighter"}
    tags += [tag for key, tag in colour.items() if gpage.get(key)]
    if gpage.get("ink") == "blue":
        tags.append("blue pen")
    tags.append(f"digits {gpage.get('digits', {}).get('source', 'mnist')}")  # whose digit shapes
    return tags


def _rewritten_copy(templates: Path, form: str, rewrite: Callable[[str], str]) -> Path:
    """A folder holding a copy of `form` (from `templates`) whose template.yaml is `rewrite` of
    the original's text."""
    out = Path(tempfile.mkdtemp(prefix="shinsei-bench-forms-"))
    shutil.copytree(templates / form, out / form)
    path = out / form / "template.yaml"
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return out


def open_facilities(templates: Path, form: str) -> Path:
    """A folder holding a copy of `form` (from `templates`) whose facility fields have no
    `vocabulary`: the generator then writes its own facility names and the pipeline reads them
    open (ending and common-word repairs instead of the city's list)."""

    def without_lists(text: str) -> str:
        doc = yaml.safe_load(text)
        for f in doc["fields"]:
            if is_facility_name(f["name"]):
                f.pop("vocabulary", None)
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)

    return _rewritten_copy(templates, form, without_lists)


def stripped_copy(templates: Path, form: str) -> Path:
    """A folder holding a copy of `form` (from `templates`) with its template stripped of hints."""
    return _rewritten_copy(templates, form, strip_hints)


def _with_bundled(templates: Path) -> Path:
    """`templates` itself when it is the bundled folder; else a folder linking both folders' forms
    (a form in `templates` hides the bundled form of the same name)."""
    if templates.resolve() == BUNDLED.resolve():
        return BUNDLED
    both = Path(tempfile.mkdtemp(prefix="shinsei-forms-"))
    for folder in (templates, BUNDLED):
        for form in folder.iterdir():
            if not (form / "template.yaml").is_file() or (both / form.name).exists():
                continue
            try:
                load_template(form)
            except TemplateError as exc:  # e.g. sakura_nursery, whose blank stays in the dev set
                print(f"skipping {form.name}: {exc}", file=sys.stderr)
                continue
            (both / form.name).symlink_to(form.resolve())
    return both


def _row(name: str, k: dict) -> str:
    filled = max(1, k["filled"])
    acc = max(1, k["accepted"])
    return (
        f"{name:<14}{k['fields']:>7}{k['filled']:>7}{k['filled right'] / filled:>15.1%}{k['right'] / max(1, k['fields']):>12.1%}"
        f"{k['accepted'] / max(1, k['fields']):>10.1%}{k['accepted wrong'] / acc:>11.2%}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
