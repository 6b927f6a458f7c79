"""Synthetic filled-and-scanned application forms with exact ground truth.

    python -m samples.generate --n 20 --seed 7 --out /tmp/synth \\
        [--form nursery_enrolment] [--formats png,jpg,pdf,tiff] [--profile mild|hard|mixed] \\
        [--fonts train|holdout] [--multipage] [--jobs 2]

Writes `DIR/doc_0001.<ext>` + `DIR/doc_0001.json` (ground truth) per file and `DIR/manifest.json`.
One file is one application page; with `--multipage`, PDF and TIFF files hold 2–3 applications (one
per page). Deterministic: file i depends only on (seed, i) and the options, never on --n or --jobs.
See samples/README.md for the ground-truth format.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from pipeline.forms.template import Template, load_template
from samples import profile, stroke_digits
from samples.handwriting import FONT_SETS, Hand, Style, digit_font_paths, font_paths, vary_writer
from samples.render import P_EARLY_START, P_EXTRA_CORRECTION, P_SEAL, render_page
from samples.scan import (
    P_BILEVEL,
    P_JPEG_HEAVY,
    Scan,
    bilevel,
    colourise,
    harden,
    sample_params,
    scan_page,
    widen_params,
)

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates_forms"
P_THIN_PEN = 0.2  # of pages: written with a thin pen (2.2-3.0 px at 300 dpi, against 3.5-5.5)
# Of fax pages: written in a light pen (a grey ballpoint, a pencil) whose strokes the fax's threshold
# breaks into dashes and dots, as on dev set A's worst fax pages (the print stays whole there).
# Such a page reads about a third of its fields; at 0.4 it outweighed every other behaviour of the
# bench, so it stays the occasional bad fax it is in the offices' mail (one fax page in seven).
P_FAX_LIGHT_INK = 0.15
# Of writers: digits drawn as pen strokes in Japanese writers' shapes (samples.stroke_digits) rather
# than MNIST's American ones; dev set A's writers write open 4s, looped 2s, flagged 1s that no MNIST
# sample has, and a bench that only shows MNIST flatters the digit reading.
P_STROKE_DIGITS = 0.4
# Of writers: every digit in one Latin handwriting font's shapes (`DIGIT_FONT_SETS`), as dev set A's
# writers write them; takes the place of MNIST or stroke digits for that writer.
P_FONT_DIGITS = 0.25
FAX_LIGHT_INK = (95.0, 140.0)  # grey level of such a pen (0-255, before blur and threshold)
FAX_LIGHT_MARGIN = (-8.0, 10.0)  # the fax's fixed threshold this far from the pen's grey
FORMATS = ("png", "jpg", "pdf", "tiff")
PDF_DATE = time.struct_time((2026, 1, 1, 0, 0, 0, 3, 1, 0))  # fixed, so PDFs are byte-identical
INK_COLOURS = {
    "black": ((18, 22), (18, 24), (22, 32)),
    "blue-black": ((22, 40), (30, 50), (70, 110)),
    "blue": ((35, 60), (55, 85), (140, 185)),  # a plain blue ballpoint: lighter, bluer
}
P_BLUE_PEN = 0.4  # of blue-black writers: a plain blue ballpoint instead
# Of fax files saved as PNG or TIFF: a fax server's resolution, 204 dpi across and 98 down
# (standard mode) or 196 down (fine), instead of a square 200 dpi; the header says so.
FAX_MODES = {"square": (200, 200), "fine": (204, 196), "standard": (204, 98)}
FAX_MODE_ODDS = (0.5, 0.25, 0.25)
FAX_INK_SHARE = 160  # grey level (of 255) at and under which a resampled fax pixel is black


@dataclass
class Options:
    seed: int
    form: str = "nursery_enrolment"
    formats: tuple[str, ...] = ("png",)
    profile: str = "mixed"
    fonts: str = "train"
    multipage: bool = False
    templates: Path = TEMPLATES
    p_colour: float | None = None  # rate of each colour effect on colour pages (None: scan.py's own)


@dataclass
class Page:
    gt: dict[str, Any]
    scan: Scan


def _template(opts: Options) -> Template:
    return _load(str(Path(opts.templates) / opts.form))


@lru_cache(maxsize=8)
def _load(path: str) -> Template:
    return load_template(Path(path))


def make_page(
    template: Template,
    opts: Options,
    file_index: int,
    page: int,
    profile_name: str,
    fax: bool,
    force_violation: str | None = None,
    force: dict[str, Any] | None = None,
) -> Page:
    """Render and scan one application page.

    `force` pins choices for the demo: "font", "stamp", "p_correction", "p_thin_pen", "p_jpeg_heavy",
    "violation" and "scan" (a dict of `ScanParams` attributes). The page's random stream is still
    drawn in the same order.
    """
    force = force or {}
    rng = np.random.default_rng([opts.seed, file_index, page])
    fills, invalid = profile.make_page_values(template, rng, force_violation)
    names = sorted(FONT_SETS[opts.fonts])
    font = names[int(rng.integers(len(names)))]
    font = force.get("font", font)
    hard = profile_name == "hard"
    style = Style(
        rot_max=8.0 if hard else 4.0,
        spacing=float(rng.uniform(0.86, 1.02)),
        digit_scale=float(rng.uniform(0.7, 0.86)),
        pen_px=float(rng.uniform(3.5, 5.5)),
    )
    if force.get("writer_variation", True):
        # Per-writer slant, slope and baseline drift, from a stream of their own (no draws from
        # the page's stream, so every other choice is as before).
        vary_writer(style, np.random.default_rng([opts.seed, file_index, page, 4]))
    # Thin pens (0.19-0.25 mm lines, a fine ballpoint) from a stream of their own, like the scan's hard JPEG,
    # so every other draw on the page is unchanged (dev set A's 200 dpi digits, findings §8).
    own = np.random.default_rng([opts.seed, file_index, page, 3])
    if own.random() < float(force.get("p_thin_pen", P_THIN_PEN)):
        style.pen_px = float(own.uniform(2.2, 3.0))
    # Stroke-drawn digits (open 4s, looped 2s, …) for a share of writers, from a stream of their own.
    digit_rng = np.random.default_rng([opts.seed, file_index, page, 7])
    if digit_rng.random() < float(force.get("p_stroke_digits", P_STROKE_DIGITS)):
        style.digits = stroke_digits.writer(digit_rng)
    # Digits in a handwriting font's shapes (dev set A's writers), from a stream of their own.
    font_digits = np.random.default_rng([opts.seed, file_index, page, 10])
    if font_digits.random() < float(force.get("p_font_digits", P_FONT_DIGITS)):
        choices = digit_font_paths(opts.fonts)
        style.digit_font = choices[int(font_digits.integers(len(choices)))]
    hand = Hand(rng, opts.fonts, font, style, digit_rng=digit_rng)
    colour_name = "blue-black" if rng.random() < 0.35 else "black"
    ink = tuple(float(rng.uniform(*r)) for r in INK_COLOURS[colour_name])
    # Colour: a blue ballpoint and colour on the paper (`colourise`), from a stream of their own.
    # Streams 8 and 9: colour and marks once shared stream 7 with the digits, so a blue pen went
    # with stroke digits; each behaviour must be drawn independently of the others.
    colour = np.random.default_rng([opts.seed, file_index, page, 8])
    blue_pen, blue = (
        colour.random() < P_BLUE_PEN,
        tuple(float(colour.uniform(*r)) for r in INK_COLOURS["blue"]),
    )
    if colour_name == "blue-black" and blue_pen:
        colour_name, ink = "blue", blue
    # Drawn from a stream of its own, so every other choice on the page is unchanged.
    light = np.random.default_rng([opts.seed, file_index, page, 6])
    light_ink = fax and light.random() < float(force.get("p_fax_light_ink", P_FAX_LIGHT_INK))
    if light_ink:
        level = float(light.uniform(*FAX_LIGHT_INK))
        ink = (level, level, min(255.0, level + 15.0)) if colour_name != "black" else (level, level, level)
    weight = int(rng.choice([-1, 0, 0, 1, 1, 2]))
    stamp = bool(force.get("stamp", rng.random() < 0.5))
    p_corr = float(force.get("p_correction", 0.03))
    # Behaviours added after dev set A draw from their own stream, so the main stream (and every
    # page drawn before them) stays as it was.
    extra = np.random.default_rng([opts.seed, file_index, page, 1])
    rendered = render_page(
        template,
        fills,
        hand,
        rng,
        stamp=stamp,
        ink_colour=ink,
        weight=weight,
        p_correction=p_corr,
        extra_rng=extra,
        p_era_unmarked=float(force.get("p_era_unmarked", 0.08)),
        struck_rng=np.random.default_rng([opts.seed, file_index, page, 2]),
        p_struck_mark=float(force.get("p_struck_mark", 0.08)),
        corr_rng=np.random.default_rng([opts.seed, file_index, page, 5]),
        p_extra_correction=float(force.get("p_extra_correction", P_EXTRA_CORRECTION)),
        p_seal=float(force.get("p_seal", P_SEAL)),
        mark_rng=np.random.default_rng([opts.seed, file_index, page, 9]),
        lead_rng=np.random.default_rng([opts.seed, file_index, page, 11]),
        p_early_start=float(force.get("p_early_start", P_EARLY_START)),
    )
    params = widen_params(sample_params(rng, profile_name, fax), extra)
    params = harden(params, own, float(force.get("p_jpeg_heavy", P_JPEG_HEAVY)))
    params = colourise(params, colour, force.get("p_colour", opts.p_colour))
    # The scanner's mode is the file's: every page of it drawn from the first page's stream.
    bw = np.random.default_rng([opts.seed, file_index, 0, 12])
    params = bilevel(params, bw, float(force.get("p_bilevel", P_BILEVEL)))
    if light_ink:
        # Just above the pen's grey: the strokes' cores survive in pieces, their blurred edges do not.
        params.threshold = int(min(200.0, level + light.uniform(*FAX_LIGHT_MARGIN)))
    for key, value in force.get("scan", {}).items():
        setattr(params, key, value)  # e.g. {"upside_down": True, "clean_bg": True}
    boxes = [b for f in template.fields for _, b in f.all_boxes()]
    scan = scan_page(
        rendered.rgb,
        template.blank_dpi / 25.4,
        (template.page.width_mm, template.page.height_mm),
        boxes,
        params,
        rng,
    )
    gt: dict[str, Any] = {
        "page": page,
        "rotation_deg": round(params.rotation_deg, 3),
        "upside_down": params.upside_down,
        "profile": profile_name,
        "font": font,
        "dpi": params.dpi,
        "values": {k: v.value for k, v in fills.items()},
        "written": {k: v.written for k, v in fills.items()},
        "corrected": rendered.corrected,
        "corrections": rendered.corrections,
        "stamp": stamp,
    }
    if invalid:
        gt["invalid"] = invalid
    gt["fax"] = params.fax
    if params.bilevel is not None:
        gt["bilevel"] = True
    if params.contrast is not None:
        gt["low_contrast"] = True
    if params.dark_gradient is not None:
        gt["dark_gradient"] = True
    if params.stain is not None:
        gt["stain"] = True
    if params.jpeg_baked is not None:
        gt["jpeg_heavy"] = True
    for key in ("paper_colour", "tint", "pattern", "highlight"):  # colour that is not ink: its name
        value = getattr(params, key)
        if value is not None:
            gt[key] = value if isinstance(value, str) else value[-1]
    if style.pen_px < 3.5:
        gt["thin_pen"] = True
    if light_ink:
        gt["light_ink"] = True
    if style.digit_font is not None:
        gt["digits"] = {"source": "font", "font": Path(style.digit_font).name}
    elif style.digits is not None:
        gt["digits"] = {"source": "stroke", "variants": {str(d): v for d, v in style.digits.variants.items()}}
    else:
        gt["digits"] = {"source": "mnist"}
    gt["ink"] = colour_name
    gt["marks"] = rendered.marks
    gt["transform"] = [[round(float(v), 6) for v in row] for row in scan.mm_to_px]
    return Page(gt, scan)


def fax_resolution(image: Image.Image, mode: str) -> tuple[Image.Image, tuple[float, float]]:
    """A 200 dpi bilevel page as a fax server stores it in `mode` (`FAX_MODES`), and the scale
    (across, down) from the 200 dpi page's pixels to the stored ones."""
    across, down = FAX_MODES[mode]
    sx, sy = across / 200, down / 200
    if (sx, sy) == (1.0, 1.0):
        return image, (1.0, 1.0)
    grey = np.asarray(image.convert("L"))
    size = (round(grey.shape[1] * sx), round(grey.shape[0] * sy))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    # The fax's sensor sees each stored pixel's whole area: ink over about 3/8 of it is black (the
    # page was thresholded once already; at half, a stroke one row of two tall was lost).
    black = small <= FAX_INK_SHARE
    stored = Image.fromarray(np.where(black, 0, 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)
    return stored, (size[0] / grey.shape[1], size[1] / grey.shape[0])


def _save(images: list[Image.Image], fmt: str, dpi: int | tuple[int, int], quality: int) -> bytes:
    buf = io.BytesIO()
    first, rest = images[0], images[1:]
    if isinstance(dpi, tuple):
        if fmt not in ("png", "tiff"):
            raise ValueError("only PNG and TIFF keep a resolution that differs across and down")
    else:
        dpi = (dpi, dpi)
    if fmt == "png":
        first.save(buf, "PNG", dpi=dpi, compress_level=6)
    elif fmt == "jpg":
        im = first.convert("L") if first.mode == "1" else first
        im.save(buf, "JPEG", quality=quality, dpi=dpi)
    elif fmt == "pdf":
        extra = {} if first.mode == "1" else {"quality": quality}
        first.save(
            buf,
            "PDF",
            save_all=True,
            append_images=rest,
            resolution=float(dpi[0]),
            creationDate=PDF_DATE,
            modDate=PDF_DATE,
            producer="shinsei samples",
            **extra,
        )
    elif fmt == "tiff":
        comp = "group4" if first.mode == "1" else "tiff_lzw"
        first.save(buf, "TIFF", save_all=True, append_images=rest, compression=comp, dpi=dpi)
    else:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return buf.getvalue()


def file_plan(opts: Options, index: int) -> tuple[str, int, str, bool]:
    """(format, pages, profile, fax) for file `index`, from (seed, index) alone."""
    rng = np.random.default_rng([opts.seed, index, 10**6])
    fmt = opts.formats[(index - 1) % len(opts.formats)]  # formats take turns
    pages = int(rng.choice([2, 3], p=[0.7, 0.3])) if opts.multipage and fmt in ("pdf", "tiff") else 1
    prof = opts.profile if opts.profile != "mixed" else ("hard" if rng.random() < 0.3 else "mild")
    fax = prof == "hard" and rng.random() < 0.65
    return fmt, pages, prof, fax


def make_file(
    opts: Options,
    index: int,
    out: Path,
    template: Template | None = None,
    plan: tuple[str, int, str, bool] | None = None,
    force: list[dict[str, Any]] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Write doc_<index>.<ext> and its .json; returns the manifest entry."""
    template = template or _template(opts)
    fmt, n_pages, prof, fax = plan or file_plan(opts, index)
    force = force or [{}] * n_pages
    pages = [
        make_page(template, opts, index, j, prof, fax, force[j].get("violation"), force[j])
        for j in range(n_pages)
    ]
    stem = name or f"doc_{index:04d}"
    fname = f"{stem}.{fmt}"
    quality = pages[0].scan.params.jpeg_quality
    images = [p.scan.image for p in pages]
    dpi: int | tuple[int, int] = pages[0].scan.params.dpi
    # A fax server's resolution, from a stream of this file's own (every page drawn as before).
    mode_rng = np.random.default_rng([opts.seed, index, 10**6 + 1])
    mode = str(mode_rng.choice(list(FAX_MODES), p=FAX_MODE_ODDS))
    if fax and fmt in ("png", "tiff") and mode != "square" and dpi == 200:
        stored = [fax_resolution(im, mode) for im in images]
        images = [im for im, _ in stored]
        for page, (_, (sx, sy)) in zip(pages, stored, strict=True):
            t = np.diag([sx, sy, 1.0]) @ np.array(page.gt["transform"], float)
            page.gt["transform"] = [[round(float(v), 6) for v in row] for row in t]
            page.gt["fax_mode"] = mode
        dpi = FAX_MODES[mode]
    data = _save(images, fmt, dpi, quality)
    (out / fname).write_bytes(data)
    gt = {
        "file": fname,
        "form_id": template.form_id,
        "form_version": template.version,
        "pages": [p.gt for p in pages],
    }
    (out / f"{stem}.json").write_text(json.dumps(gt, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {
        "file": fname,
        "gt": f"{stem}.json",
        "format": fmt,
        "pages": n_pages,
        "profile": prof,
        "bytes": len(data),
    }


def _work(args: tuple[Options, int, str]) -> dict[str, Any]:
    opts, index, out = args
    return make_file(opts, index, Path(out))


def generate(opts: Options, n: int, out: Path, jobs: int = 1, start: int = 1) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    font_paths(opts.fonts)  # fail early with the install hint
    digit_font_paths(opts.fonts)
    template = _template(opts)
    t0 = time.perf_counter()
    indices = list(range(start, start + n))
    if jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs) as pool:
            entries = pool.map(_work, [(opts, i, str(out)) for i in indices], chunksize=1)
    else:
        entries = [make_file(opts, i, out, template) for i in indices]
    manifest = {
        "generator": "samples.generate",
        "form_id": template.form_id,
        "form_version": template.version,
        "seed": opts.seed,
        "profile": opts.profile,
        "fonts": opts.fonts,
        "formats": list(opts.formats),
        "multipage": opts.multipage,
        **({"p_colour": opts.p_colour} if opts.p_colour is not None else {}),
        "files": entries,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    pages = sum(e["pages"] for e in entries)
    dt = time.perf_counter() - t0
    print(
        f"wrote {len(entries)} files ({pages} pages) to {out} in {dt:.1f} s ({dt / max(1, pages):.2f} s/page)",
        file=sys.stderr,
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m samples.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--n", type=int, required=True, help="number of files")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--form", default="nursery_enrolment", help="template folder under --templates")
    ap.add_argument("--templates", type=Path, default=TEMPLATES)
    ap.add_argument(
        "--formats", default="png", help="comma list of png,jpg,pdf,tiff; files take them in turn"
    )
    ap.add_argument("--profile", choices=["mild", "hard", "mixed"], default="mixed")
    ap.add_argument("--fonts", choices=["train", "holdout"], default="train")
    ap.add_argument("--multipage", action="store_true", help="PDF/TIFF files hold 2–3 applications")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (output does not depend on it)")
    ap.add_argument("--start", type=int, default=1, help="index of the first file")
    ap.add_argument(
        "--p-colour", type=float, default=None, help="rate of each colour effect on colour pages (bench them)"
    )
    a = ap.parse_args(argv)
    alias = {"jpeg": "jpg", "tif": "tiff"}
    formats = tuple(
        alias.get(s.strip().lower(), s.strip().lower()) for s in a.formats.split(",") if s.strip()
    )
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        ap.error(f"--formats: unknown {', '.join(bad) or '(empty)'}; choose from {', '.join(FORMATS)}")
    if a.n < 0:
        ap.error("--n must be ≥ 0")
    opts = Options(
        seed=a.seed,
        form=a.form,
        formats=formats,
        profile=a.profile,
        fonts=a.fonts,
        multipage=a.multipage,
        templates=a.templates,
        p_colour=a.p_colour,
    )
    try:
        generate(opts, a.n, a.out, jobs=a.jobs, start=a.start)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
