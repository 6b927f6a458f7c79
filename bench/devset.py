"""Field accuracy on development set A: さくら市's nursery application, scanned and filled by others.

    python bench/devset.py [--devset ../shared/devset-a] [--errors 40] [--json out.json]
    python bench/devset.py --check     # `shinsei template check` on the template with the city's blank
    python bench/devset.py --encode fax-standard   # the scans sent as a fax server's TIFFs

The development set (60 scans, the city's blanks, per-field truth) lives outside the repository
(default `../shared/devset-a` from the repository root) and is read, never copied into it. The
template is the hand-written bench/forms/sakura_nursery/template.yaml; its blank is the city's
blank from the development set, copied beside it in a temporary templates folder together with
the bundled forms, so every page must also be told apart from the nursery form the code was built
for. The pipeline runs in-process, as in bench/accuracy.py.

Scoring follows the development set's README ("Scoring as the product is judged"): every field
that is not office-only is scored; a filled field is exact when it equals the truth after
forgiving presentation only (full-width digits, spaces, hyphens in phone numbers and digit boxes,
half-width kana; an address whose prefecture was left out is right with or without it; dates as
ISO; ticks and circles as lists; a signature as present or not). An auto-accepted field is wrong
when it is not exact, a blank one read as something included.

Printed: the accuracy table by kind (the shape of bench/accuracy.py), then the same columns by the
truth's tags (mark style, corrected, era left uncircled, scan mode, dpi, blur, orientation, print
variant), identification inliers, why right fields were held back, and the confidence of wrong
accepted fields. --errors N lists wrong fields with truth, reading, confidence and reasons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipeline.run as run  # noqa: E402
from bench.common import strip_hints  # noqa: E402
from pipeline.result import FieldResult, Route  # noqa: E402
from pipeline.route import blocking, threshold_for  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

BUNDLED = ROOT / "templates_forms"
FORM_DIR = ROOT / "bench" / "forms" / "sakura_nursery"
FORM_ID = "sakura_nursery"
BLANK = "templates/form_A-plain.png"
OFFICE_KINDS = ("office", "office_stamp")
PHONE_DASHES = "-‐‑‒–—―−ー－"


# `--encode`: (dpi across, dpi down) of the stored TIFF. The threshold follows the page's paper
# (ENCODE_SHARE of its median grey), as a scanner's or a fax's automatic exposure does.
ENCODINGS = {"bilevel": (200, 200), "fax-fine": (204, 196), "fax-standard": (204, 98)}
ENCODE_SHARE = 0.72


def encoded(scan: Path, how: str, dpi: float, folder: Path) -> Path:
    """`scan` (at `dpi`) as a 1-bit G4 TIFF at `ENCODINGS[how]`, written into `folder`."""
    across, down = ENCODINGS[how]
    grey = cv2.imread(str(scan), cv2.IMREAD_GRAYSCALE)
    size = (round(grey.shape[1] * across / dpi), round(grey.shape[0] * down / dpi))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    black = grey <= ENCODE_SHARE * float(np.median(grey))
    out = folder / f"{scan.stem}.tif"
    Image.fromarray(np.where(black, 0, 255).astype(np.uint8)).convert("1").save(
        out, compression="group4", dpi=(across, down)
    )
    return out


def templates_dir(devset: Path, stripped: bool = False, template: Path | None = None) -> Path:
    """A temporary templates folder: the bundled forms (linked) and sakura_nursery with the city's
    blank copied beside its template (`stripped`: of its hints and rules, `strip_hints`;
    `template`: another template.yaml for the form, e.g. one `shinsei template import` wrote,
    whose form id must be sakura_nursery; its blank named as it names it, PNG or PDF)."""
    out = Path(tempfile.mkdtemp(prefix="shinsei-devset-forms-"))
    for form in BUNDLED.iterdir():
        if (form / "template.yaml").is_file():
            (out / form.name).symlink_to(form.resolve())
    mine = out / FORM_ID
    mine.mkdir()
    text = (template or FORM_DIR / "template.yaml").read_text(encoding="utf-8")
    (mine / "template.yaml").write_text(strip_hints(text) if stripped else text, encoding="utf-8")
    blank = str((yaml.safe_load(text) or {}).get("blank", "blank.png"))
    source = devset / (BLANK[: -len(".png")] + ".pdf" if blank.lower().endswith(".pdf") else BLANK)
    shutil.copy(source, mine / blank)
    return out


# ---------------------------------------------------------------------------------------------
# Scoring


def _present(s: str, kind: str) -> str:
    """`s` with presentation forgiven: full-width digits and half-width kana folded, spaces
    dropped, and for phones and digit boxes every dash."""
    folded = "".join(
        unicodedata.normalize("NFKC", c) if "０" <= c <= "９" or "\uff61" <= c <= "\uff9f" else c for c in s
    )
    # NFKC of a half-width kana followed by its half-width (han)dakuten leaves a combining mark.
    folded = unicodedata.normalize("NFC", folded)
    folded = "".join(c for c in folded if not c.isspace())
    if kind in ("phone", "digit_boxes", "number"):
        folded = "".join(c for c in folded if c not in PHONE_DASHES)
    return folded


def _empty(v: Any) -> bool:
    # `0 in (None, False)` is True in Python, and 0 is a value (歳児クラス 0).
    return v is None or v is False or v == "" or (isinstance(v, list | tuple) and not v)


def is_filled(truth: dict[str, Any]) -> bool:
    v = truth.get("value")
    return not truth.get("blank") and not _empty(v)


def right(got: Any, truth: dict[str, Any]) -> bool:
    """Is `got` (a FieldResult's value) the truth, presentation forgiven?"""
    kind, want = truth["kind"], truth.get("value")
    if kind == "signature":
        return bool(got) == is_filled(truth)
    if _empty(want) or truth.get("blank"):
        return _empty(got)
    if _empty(got):
        return False
    if kind in ("checkbox", "circle_choice"):
        got_list = got if isinstance(got, list | tuple) else [got]
        return sorted(map(str, got_list)) == sorted(map(str, want))
    g, w = _present(str(got), kind), _present(str(want), kind)
    if g == w:
        return True
    comp = truth.get("components") or {}
    if truth.get("prefecture_omitted") and comp.get("prefecture"):
        return g == _present(comp["prefecture"], kind) + w
    return False


def _nfkc_same(got: Any, truth: dict[str, Any]) -> bool:
    if not isinstance(got, str) or not isinstance(truth.get("value"), str):
        return False
    return right(
        unicodedata.normalize("NFKC", got), {**truth, "value": unicodedata.normalize("NFKC", truth["value"])}
    )


# ---------------------------------------------------------------------------------------------
# Tags a field or page is counted under in the breakdowns


def page_tags(page: dict[str, Any]) -> list[str]:
    scan = page.get("scan", {})
    blur = scan.get("blur_sigma") or 0.0
    tags = [
        f"mode {scan.get('mode')}",
        f"dpi {scan.get('dpi')}",
        f"blur {'<0.5' if blur < 0.5 else '0.5-1.0' if blur < 1.0 else '>=1.0'}",
        f"orientation {page.get('orientation_deg', 0)}",
        f"variant {page.get('template_variant')}",
    ]
    if scan.get("low_contrast"):
        tags.append("low contrast")
    return tags


def field_tags(truth: dict[str, Any]) -> list[str]:
    tags = []
    if truth.get("mark_style"):
        tags.append(f"mark {truth['mark_style']}")
    if truth.get("corrected"):
        tags.append("corrected")
        if truth.get("correction_seal"):
            tags.append("corrected+seal")
    if truth.get("era_marked") is False:
        tags.append("era not circled")
    elif truth.get("era_marked") is True:
        tags.append("era circled")
    if truth.get("prefecture_omitted"):
        tags.append("prefecture omitted")
    comp = truth.get("components") or {}
    if comp.get("building"):
        tags.append("address+building")
    if truth.get("omitted_required"):
        tags.append("omitted required")
    return tags


# ---------------------------------------------------------------------------------------------


class Tally:
    """fields / filled / exact(filled) / auto-accepted / wrong among auto-accepted, by a key."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, key: str, filled: bool, ok: bool, accepted: bool) -> None:
        k = self.rows[key]
        k["fields"] += 1
        k["filled"] += filled
        k["filled right"] += filled and ok
        k["right"] += ok
        k["accepted"] += accepted
        k["accepted wrong"] += accepted and not ok

    def print(self, title: str, keys: list[str] | None = None, total: bool = True) -> None:
        print(
            f"{title:<22}{'fields':>7}{'filled':>7}{'exact(filled)':>15}{'exact(all)':>12}"
            f"{'auto-acc':>10}{'wrong|acc':>11}"
        )
        tot: dict[str, int] = defaultdict(int)
        for key in keys or sorted(self.rows):
            k = self.rows[key]
            for name, v in k.items():
                tot[name] += v
            print(_row(key, k))
        if total:
            print(_row("ALL", tot))
        print()


def _row(name: str, k: dict[str, int]) -> str:
    return (
        f"{name:<22}{k['fields']:>7}{k['filled']:>7}{k['filled right'] / max(1, k['filled']):>15.1%}"
        f"{k['right'] / max(1, k['fields']):>12.1%}{k['accepted'] / max(1, k['fields']):>10.1%}"
        f"{k['accepted wrong'] / max(1, k['accepted']):>11.2%}"
    )


def _record_identification(log: list[tuple[tuple[str, int], ...]]) -> Callable[..., Any]:
    """Wrap run.identify so each page's candidate inlier counts are kept for the report."""
    original = run.identify

    def identify(gray: Any, templates: Any) -> Any:
        ident = original(gray, templates)
        log.append(ident.candidates)
        return ident

    return identify


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "devset-a")
    ap.add_argument(
        "--reference-date",
        type=dt.date.fromisoformat,
        default=None,
        help="the processing day date ranges are measured from (default: today, as a clerk runs it)",
    )
    ap.add_argument(
        "--strip-hints",
        action="store_true",
        help="read with the template stripped of its reading hints and rules (bench.common.strip_hints)",
    )
    ap.add_argument(
        "--template",
        type=Path,
        default=None,
        help="read with this template.yaml (form id sakura_nursery) instead of the hand-written one,"
        " e.g. the one `shinsei template import` writes from the development set's field list",
    )
    ap.add_argument("--errors", type=int, default=0, help="print this many wrong fields")
    ap.add_argument("--only", default=None, help="comma-separated scan ids (scan_0001,...) to read")
    ap.add_argument("--json", type=Path, default=None, help="also write every field's outcome as JSON")
    ap.add_argument(
        "--check", action="store_true", help="only run `shinsei template check` on the template and its blank"
    )
    ap.add_argument(
        "--encode",
        choices=sorted(ENCODINGS),
        default=None,
        help="read each scan re-encoded first (in a temporary folder): a black-and-white G4 TIFF at"
        " 200 dpi, or a fax server's G4 TIFF in fine (204x196 dpi) or standard (204x98 dpi) mode",
    )
    args = ap.parse_args()
    if not (args.devset / "truth" / "index.json").is_file():
        raise SystemExit(f"{args.devset}: no development set here (truth/index.json missing)")
    if args.check:
        forms = templates_dir(args.devset, template=args.template)
        env = {**os.environ, "SHINSEI_TEMPLATES_DIR": str(forms)}
        cmd = [str(Path(sys.executable).parent / "shinsei"), "template", "check", FORM_ID]
        return subprocess.run([*cmd, "--out", str(forms / "check.png")], env=env).returncode

    settings = Settings(
        reference_date=args.reference_date,
        templates_dir=templates_dir(args.devset, args.strip_hints, args.template),
    )
    engine = run.Engine.load(settings)
    specs = {t.template.form_id: t.template for t in engine.templates}[FORM_ID]
    idents: list[tuple[tuple[str, int], ...]] = []
    run.identify = _record_identification(idents)

    index = json.loads((args.devset / "truth" / "index.json").read_text(encoding="utf-8"))
    if args.only:
        keep = set(args.only.split(","))
        index = [d for d in index if d["doc_id"] in keep]
    encode_dir = Path(tempfile.mkdtemp(prefix="shinsei-devset-encoded-")) if args.encode else ROOT
    by_kind, by_tag, by_page_tag, by_field = Tally(), Tally(), Tally(), Tally()
    docs: dict[str, int] = defaultdict(int)
    page_id: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # tag -> [identified, pages]
    inliers: dict[bool, list[int]] = {True: [], False: []}
    outcomes: list[dict[str, Any]] = []
    t0 = time.monotonic()
    for doc in index:
        truth = json.loads((args.devset / "truth" / f"{doc['doc_id']}.json").read_text(encoding="utf-8"))
        n_before = len(idents)
        source = args.devset / doc["file"]
        if args.encode:
            source = encoded(source, args.encode, truth["pages"][0]["scan"]["dpi"], encode_dir)
        result = run.process_file(source, engine).result
        doc_ok = result.route == Route.accepted
        docs["documents"] += 1
        for i, gpage in enumerate(truth["pages"]):
            docs["pages"] += 1
            tags = page_tags(gpage)
            page = next((p for p in result.pages if p.index == i), None)
            identified = page is not None and page.form_id == FORM_ID
            cands = dict(idents[n_before + i]) if n_before + i < len(idents) else {}
            inliers[identified].append(cands.get(FORM_ID, 0))
            for t in tags:
                page_id[t][0] += identified
                page_id[t][1] += 1
            if not identified:
                docs["not identified"] += 1
                doc_ok = False
                outcomes.append({"doc": doc["doc_id"], "page": i, "identified": False, "inliers": cands})
                continue
            docs["identified"] += 1
            docs["straight through pages"] += page.route == Route.accepted
            fields = {f.name: f for f in page.fields}
            for name, ft in gpage["fields"].items():
                if ft["kind"] in OFFICE_KINDS:
                    continue
                f = fields[name]
                filled, ok = is_filled(ft), right(f.value, ft)
                by_kind.add(ft["kind"], filled, ok, f.accepted)
                by_field.add(name, filled, ok, f.accepted)
                for t in field_tags(ft):
                    by_tag.add(t, filled, ok, f.accepted)
                for t in tags:
                    by_page_tag.add(t, filled, ok, f.accepted)
                outcomes.append(_outcome(doc["doc_id"], name, ft, f, ok, filled, specs, settings))
        docs["straight through"] += doc_ok
    elapsed = time.monotonic() - t0
    _report(args, by_kind, by_tag, by_page_tag, by_field, docs, page_id, inliers, outcomes, elapsed)
    if args.json:
        args.json.write_text(
            json.dumps(outcomes, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
    return 0


def _outcome(
    doc: str,
    name: str,
    ft: dict[str, Any],
    f: FieldResult,
    ok: bool,
    filled: bool,
    tpl: Any,
    settings: Settings,
) -> dict[str, Any]:
    spec = tpl.field(name)
    threshold = threshold_for(spec, settings, f.evidence)
    return {
        "doc": doc,
        "field": name,
        "kind": ft["kind"],
        "our_kind": f.kind,
        "truth": ft.get("value"),
        "read": f.value,
        "raw": f.raw,
        "confidence": round(f.confidence, 3),
        "raw_confidence": None if f.raw_confidence is None else round(f.raw_confidence, 6),
        "evidence": f.evidence,
        "threshold": threshold,
        "accepted": f.accepted,
        "right": ok,
        # Right if full-width punctuation and letters were forgiven too (not the judged rule).
        "right_nfkc": ok or _nfkc_same(f.value, ft),
        "filled": filled,
        "reasons": [i.code for i in f.issues],
        "blocking": blocking(f.issues),
        "review_always": spec.review != "auto",  # always or double: a person keys it whatever it reads
        "tags": field_tags(ft),
    }


def _report(
    args: argparse.Namespace,
    by_kind: Tally,
    by_tag: Tally,
    by_page_tag: Tally,
    by_field: Tally,
    docs: dict[str, int],
    page_id: dict[str, list[int]],
    inliers: dict[bool, list[int]],
    outcomes: list[dict[str, Any]],
    elapsed: float,
) -> None:
    pages = max(1, docs["pages"])
    print(f"\nshinsei dev set A ({args.devset}): {FORM_ID}, {docs['pages']} pages\n")
    by_kind.print("kind (truth's)")
    print(f"pages identified        {docs['identified']}/{docs['pages']} ({docs['identified'] / pages:.1%})")
    print(
        f"straight through        {docs['straight through']}/{docs['documents']} documents "
        f"({docs['straight through'] / max(1, docs['documents']):.1%})"
    )
    print(
        f"time                    {elapsed:.1f} s ({docs['pages'] / max(elapsed, 1e-9) * 60:.1f} pages/min)\n"
    )

    by_tag.print("field tag (truth)", total=False)
    by_page_tag.print("page tag (scan)", total=False)
    print(f"{'page tag':<22}{'identified':>12}")
    for t in sorted(page_id):
        print(f"{t:<22}{page_id[t][0]:>6}/{page_id[t][1]:<5}")
    print()
    for found in (True, False):
        xs = sorted(inliers[found])
        if xs:
            print(
                f"inliers, {'identified' if found else 'not identified':<15} n={len(xs)} min {xs[0]} max {xs[-1]} "
                f"lowest {xs[:8]}"
            )
    print()
    by_field.print("field")

    read = [o for o in outcomes if "field" in o]
    held = [o for o in read if o["right"] and not o["accepted"]]
    only_conf = [
        o for o in held if not o["blocking"] and not o["review_always"] and o["confidence"] < o["threshold"]
    ]
    reasons: dict[str, int] = defaultdict(int)
    for o in held:
        for r in o["reasons"] or ["(confidence only)" if o in only_conf else "(review: always)"]:
            reasons[r] += 1
    print(f"right but held back     {len(held)}; held only by confidence {len(only_conf)}")
    for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"   {r:<28}{n:>5}")
    nfkc = [o for o in read if not o["right"] and o["right_nfkc"]]
    print(f"wrong only by full-width punctuation/letters (（）, Ａ): {len(nfkc)}")
    wrong_acc = [o for o in read if o["accepted"] and not o["right"]]
    confs = sorted(o["confidence"] for o in wrong_acc)
    print(f"wrong but accepted      {len(wrong_acc)}; confidence {confs}")
    kinds: dict[str, int] = defaultdict(int)
    for o in wrong_acc:
        kinds[o["kind"]] += 1
    print(f"   by kind {dict(kinds)}")
    wrong_reasons: dict[str, int] = defaultdict(int)
    for o in read:
        if not o["right"]:
            for r in o["reasons"] or ["(none)"]:
                wrong_reasons[r] += 1
    print(f"reasons on wrong fields {dict(sorted(wrong_reasons.items(), key=lambda kv: -kv[1]))}")
    if args.errors:
        print()
        for o in [o for o in read if not o["right"]][: args.errors]:
            print(
                f"  {o['doc']} {o['field']} [{o['kind']}] truth {o['truth']!r} read {o['read']!r} "
                f"conf {o['confidence']:.2f} acc {o['accepted']} {','.join(o['reasons'])} {' '.join(o['tags'])}"
            )
    for o in outcomes:
        if not o.get("identified", True):
            print(f"  not identified: {o['doc']} page {o['page']} inliers {o['inliers']}")


if __name__ == "__main__":
    raise SystemExit(main())
