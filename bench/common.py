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
