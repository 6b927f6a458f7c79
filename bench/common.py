"""Shared helpers for the benchmarks: generate (or reuse) pages with the sample generator, read their
ground truth, compare values."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def page_options(doc: str | None, n: int, seed: int) -> argparse.ArgumentParser:
    """A parser for a bench that generates its pages: --n, --seed and --dir, with the bench's
    docstring as its help; the bench adds its own options."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--dir", type=Path, default=None, help="reuse/keep generated pages here")
    return ap


def work_dir(args: argparse.Namespace, name: str) -> Path:
    """--dir, or a fresh temporary folder."""
    return args.dir or Path(tempfile.mkdtemp(prefix=f"shinsei-{name}-"))


def generate(
    out: Path,
    n: int,
    seed: int,
    *,
    profile: str = "mixed",
    fonts: str = "holdout",
    formats: str = "png",
    multipage: bool = False,
    form: str = "nursery_enrolment",
    templates: Path = ROOT / "templates_forms",
) -> list[Path]:
    """Run `python -m samples.generate` into `out` and return the files it wrote (each with its
    ground truth beside it, see `load_gt`). A folder the generator already filled with the same
    arguments is reused as it is, so a benchmark can be re-run on the same pages."""
    want = {
        "seed": seed,
        "profile": profile,
        "fonts": fonts,
        "formats": formats.split(","),
        "multipage": multipage,
        "form_id": form,
    }
    manifest = out / "manifest.json"
    if manifest.is_file():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if len(m["files"]) == n and all(m.get(k) == v for k, v in want.items()):
            return [out / f["file"] for f in m["files"]]
        shutil.rmtree(out)  # the generator's own folder, made with other arguments
    elif out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} holds files that samples.generate did not write: choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "samples.generate", "--n", str(n), "--seed", str(seed), "--out", str(out)]
    cmd += ["--profile", profile, "--fonts", fonts, "--formats", formats, "--jobs", str(os.cpu_count() or 1)]
    cmd += ["--form", form, "--templates", str(templates)]
    if multipage:
        cmd.append("--multipage")
    subprocess.run(cmd, check=True, cwd=ROOT)
    m = json.loads(manifest.read_text(encoding="utf-8"))
    return [out / f["file"] for f in m["files"]]


def load_gt(file: Path) -> dict[str, Any]:
    """The ground truth the generator wrote beside `file` (doc_0001.png → doc_0001.json)."""
    return json.loads(file.with_suffix(".json").read_text(encoding="utf-8"))


def is_filled(value: Any) -> bool:
    return value not in (None, "", [], False)


def same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(got) == bool(want)
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return float(got) == float(want)
    if want in (None, "", []) and got in (None, "", []):
        return True
    return got == want


# What `--strip-hints` takes out of a template: every hint that only helps reading, and every
# cross-field rule, as a template written in haste by someone else might leave them out (the
# boxes, kinds, cells, options, eras and date parts stay: without them nothing can be read).
HINT_KEYS = (
    "charset",
    "reading_of",
    "date_range",
    "vocabulary",
    "max_length",
    "min",
    "max",
    "review",
    "infer_when_unmarked",
)


def strip_hints(text: str) -> str:
    """A template's YAML without the hints of HINT_KEYS and without its `rules`: what shinsei
    assumes where a template says nothing (pipeline/forms/defaults.py) is measured on it."""
    doc = yaml.safe_load(text)
    for f in doc["fields"]:
        for k in HINT_KEYS:
            f.pop(k, None)
        eras = f.get("era_options")
        if isinstance(eras, dict):  # {options: [...], infer_when_unmarked: true}
            eras.pop("infer_when_unmarked", None)
    doc.pop("rules", None)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _mm_box(b: Any) -> dict[str, float] | None:
    return None if b is None else {"x": b[0], "y": b[1], "w": b[2], "h": b[3]}


def fieldmap_of(text: str) -> dict[str, Any]:
    """A template's YAML as the field list a form's maker would hand over (dev set A's JSON shape,
    pipeline/forms/fieldmap.py): boxes, kinds in that list's words, cells, options, eras and
    date parts; no rules and no reading hints. `--as-imported` reads with what `shinsei template
    import` makes of it."""
    doc = yaml.safe_load(text)
    fields = []
    for f in doc["fields"]:
        kind = f["kind"]
        out: dict[str, Any] = {"name": f["name"], "label": f["label"], "box_mm": _mm_box(f["box"])}
        out["required"] = bool(f.get("required"))
        cells = f.get("cells") or {}
        if kind in ("postal_code", "my_number", "digits") and cells:
            out["kind"], out["n_digits"] = "digit_boxes", cells.get("count") or len(cells["boxes"])
            if cells.get("boxes"):
                out["cells"] = [_mm_box(b) for b in cells["boxes"]]
        elif kind == "digits":  # written on a line, no cells: the list calls it a number
            out["kind"] = "number"
        elif kind in ("choice", "multi_choice"):
            opts = f["options"]
            out["kind"] = "checkbox" if any(o.get("box") for o in opts) else "circle_choice"
            out["multiple"] = kind == "multi_choice"
            out["options"] = [
                {"value": o["value"], "box_mm": _mm_box(o.get("box")), "label_mm": _mm_box(o.get("label"))}
                for o in opts
            ]
        elif kind in ("date_wareki", "date"):
            out["kind"] = "date"
            eras = f.get("era_options")
            eras = eras.get("options") if isinstance(eras, dict) else eras
            if eras:
                out["era_options"] = [
                    {
                        "value": o["value"],
                        "box_mm": _mm_box(o.get("box")),
                        "label_mm": _mm_box(o.get("label")),
                    }
                    for o in eras
                ]
            elif f.get("era"):
                out["era_options"] = [{"value": f["era"], "box_mm": None, "label_mm": None}]
            if f.get("parts"):
                out["parts"] = {p: _mm_box(b) for p, b in f["parts"].items()}
        else:
            out["kind"] = {"text_ja": "text_kanji", "free_text": "text_kanji", "kana": "text_kana"}.get(
                kind, kind
            )
        fields.append(out)
    size = doc.get("page") or {"width_mm": 210, "height_mm": 297}
    return {
        "form_id": doc["form_id"],
        "variant": str(doc.get("version", "1")),
        "title": doc.get("title", doc["form_id"]),
        "page_size_mm": {"w": size["width_mm"], "h": size["height_mm"]},
        "fields": fields,
    }


def as_imported(text: str) -> str:
    """A template's YAML as `shinsei template import` writes it from the form's field list
    (`fieldmap_of`), with the same blank."""
    from pipeline.forms.fieldmap import template_from_fieldmap, to_yaml

    doc = yaml.safe_load(text)
    imported = template_from_fieldmap(
        fieldmap_of(text),
        form_id=doc["form_id"],
        blank=doc.get("blank", "blank.png"),
        blank_dpi=doc.get("blank_dpi", 300),
    )
    return to_yaml(imported, "as shinsei template import writes it from the form's field list")
