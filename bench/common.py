"""Shared helpers for the benchmarks: generate pages with the sample generator, compare values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def generate(
    out: Path, n: int, seed: int, *, profile: str = "mixed", fonts: str = "holdout", formats: str = "png"
) -> list[Path]:
    """Run `python -m samples.generate` and return the ground-truth JSON files it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "samples.generate",
        "--n",
        str(n),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--profile",
        profile,
        "--fonts",
        fonts,
        "--formats",
        formats,
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return sorted(out.glob("doc_*.json"))


def load_gt(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


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
