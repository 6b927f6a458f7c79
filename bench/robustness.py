"""Field accuracy when the same pages reach shinsei through other scanners and settings.

    python bench/robustness.py [--n 30] [--seed 5772] [--dir DIR]

Generates N pages (holdout fonts and digits, mixed profile), then reads each one as generated
and after one change that a city's scanners or printers make and the generator does not: the
form printed "fit to page" (94% / 97%), a 3% keystone (a sheet fed crooked, a copy-stand photo),
a grey or dim scan (recycled paper, the scanner's grey mode: paper near 195 instead of 240),
150/200 dpi, and a page shifted so its top-left edge is cut off. Prints per variant: pages
identified as the right form, exact match over filled fields, marks (ticks, circles) exact, and
fields auto-accepted. A variant far below "as generated" is a scan the pipeline does not cope with.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import generate, is_filled, load_gt, page_options, same, work_dir  # noqa: E402
from pipeline.run import Engine, process_page  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

MARKS = ("choice", "multi_choice", "checkbox", "signature")


def fit_to_page(img: np.ndarray, scale: float) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    out = np.full_like(img, 255)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def keystone(img: np.ndarray, d: float) -> np.ndarray:
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[d * w, 0], [w - d * w, d * h], [w, h], [0, h - d * h]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, (w, h), borderValue=(255, 255, 255))


def grey_dim(img: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    k = 175 / max(1.0, float(np.median(grey)))
    return np.clip(grey.astype(np.float32) * k + 20, 0, 255).astype(np.uint8)


def shifted(img: np.ndarray) -> np.ndarray:
    m = np.float32([[1, 0, -60], [0, 1, -90]])  # 5 mm left, 7.5 mm up at 300 dpi
    return cv2.warpAffine(img, m, img.shape[1::-1], borderValue=(255, 255, 255))


# The pipeline is told no resolution: alignment finds the scale, as for a real scan.
VARIANTS: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = [
    ("as generated", lambda i: i),
    ("fit to page 97%", lambda i: fit_to_page(i, 0.97)),
    ("fit to page 94%", lambda i: fit_to_page(i, 0.94)),
    ("keystone 3%", lambda i: keystone(i, 0.03)),
    ("grey, dim paper", grey_dim),
    ("200 dpi", lambda i: cv2.resize(i, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA)),
    ("150 dpi", lambda i: cv2.resize(i, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)),
    ("edge cut off", shifted),
]


def main() -> int:
    ap = page_options(__doc__, n=30, seed=5772)
    args = ap.parse_args()

    work = work_dir(args, "rob")
    files = generate(work, args.n, args.seed, profile="mixed", fonts="holdout", formats="png")
    engine = Engine.load(Settings(reference_date=dt.date(2026, 11, 26)))
    pages = [(cv2.imread(str(f)), load_gt(f)) for f in files]

    print(f"\nshinsei robustness: {len(pages)} pages, seed {args.seed}, mixed profile, holdout fonts\n")
    print(f"{'variant':<18}{'identified':>11}{'exact(filled)':>15}{'marks exact':>13}{'auto-acc':>10}")
    for name, transform in VARIANTS:
        ident = filled = right = marks = marks_right = fields = accepted = 0
        for img, gt in pages:
            want = gt["pages"][0]["values"]
            page = process_page(transform(img), 0, engine)
            got = {f.name: f for f in page.fields} if page.form_id == gt["form_id"] else {}
            ident += bool(got)
            for field, value in want.items():
                f = got.get(field)
                ok = f is not None and same(f.value, value)
                fields += 1
                accepted += f is not None and f.accepted
                if is_filled(value):
                    filled += 1
                    right += ok
                if f is not None and f.kind in MARKS:
                    marks += 1
                    marks_right += ok
        print(
            f"{name:<18}{f'{ident}/{len(pages)}':>11}{right / max(1, filled):>15.1%}"
            f"{marks_right / max(1, marks):>13.1%}{accepted / max(1, fields):>10.1%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
