"""Scan simulation: paper, skew, flips, blur, noise, fax binarisation.

Profiles:
* mild: colour (20% grey) 300 dpi scan; rotation ±3°, 10% upside down, scale 0.97–1.03, shift ±5 mm,
  paper tone, blur σ 0.5–1.2, Gaussian noise; JPEG quality 50–90 is applied when saved as JPEG.
* hard: rotation ±7°, slight perspective, punch holes (half the pages), and either a fax (65%: 200 dpi,
  Otsu or fixed threshold, speckle; saved as 1-bit) or a poor grey/colour scan (blur up to 1.6,
  stronger noise, uneven light, JPEG quality 50–70).
* mixed: each file 70% mild, 30% hard.

`bilevel` (a stream of its own) sends one colour or grey file in ten through a scanner's
black-and-white mode: 1 bit, thresholded at 55-80% of the page's own paper grey.

`widen_params` then turns some colour and grey pages into what office scanners sent in
development set A (docs/devset-a-findings.md, G5): 200 dpi instead of 300 (30% of non-fax pages;
the blur σ stays in output pixels, so it is stronger relative to the strokes), and low contrast
(15%: ink no darker than 25–40% grey, paper at 80–90%). It draws from its own random stream so that
the rest of the page is unchanged. The same stream also makes a few fax pages go dark down the page
before thresholding (`P_DARK_GRADIENT`: the lower part turns solid black, as on one dev-set fax),
and puts coloured blotches on a few colour pages (`P_STAIN`: cyan, yellow or brown, 20–50%
opaque, as the stain on one dev-set scan), G7 in the findings. `colourise` (a stream of its own)
adds colour that is not ink to some colour pages: coloured paper, light saturated tint blotches
(dev set A's cyan page), a guilloche security pattern, highlighter over a few fields. `harden` (a stream of its own) bakes
heavy JPEG (quality 25–45, `P_JPEG_HEAVY` of 200 dpi colour/grey pages) into the image, so that
PNG benches see the blocks and ringing of an office scanner's JPEG too; samples/generate.py draws
thin pens (`P_THIN_PEN`) from the same stream.

Geometry: the filled page (template dpi) goes through one homography H = perspective · translate ·
rotate · scale onto an A4 canvas at the output dpi. `rotation_deg` is the counter-clockwise rotation
of the content as seen on screen (PIL `Image.rotate` convention); `upside_down` adds 180° on top. To
undo: rotate by −(rotation_deg + 180·upside_down). The shift is chosen (within ±5 mm where possible)
so that every template field box stays at least 1 mm inside the canvas. `Scan.mm_to_px` maps template
millimetres to output pixels exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass
class ScanParams:
    profile: str
    fax: bool
    rotation_deg: float
    upside_down: bool
    scale: float
    shift_mm: tuple[float, float]
    dpi: int
    grey: bool
    blur: float
    noise: float
    paper: tuple[float, float, float]
    background: int
    light: float
    perspective: float
    punch: bool
    threshold: int | None  # None: Otsu
    speckle: float
    jpeg_quality: int
    clean_bg: bool
    contrast: tuple[float, float] | None = None  # (ink floor, paper ceiling) as fractions of white
    dark_gradient: tuple[float, float] | None = None  # fax: (where it starts, 0-1 down the page; depth)
    stain: tuple[int, float, tuple[float, float, float]] | None = None  # (seed, opacity, RGB colour)
    jpeg_baked: int | None = None  # JPEG quality the scanner itself compressed with (8×8 blocks, ringing)
    # Colour on the paper that is not ink (`colourise`): each a name from the tables below, or None.
    paper_colour: str | None = None  # coloured paper (PAPER_COLOURS)
    tint: tuple[int, float, str] | None = None  # saturated light blotches: (seed, opacity, TINT_COLOURS name)
    pattern: tuple[int, float, str] | None = None  # guilloche security lines: (seed, opacity, colour name)
    highlight: tuple[int, str] | None = None  # highlighter over 1-3 fields: (seed, HIGHLIGHT_COLOURS name)
    bilevel: float | None = None  # a scanner's black-and-white mode: threshold, a share of the paper's grey


def sample_params(rng: np.random.Generator, profile: str, fax: bool) -> ScanParams:
    hard = profile == "hard"
    tone = rng.uniform(0.93, 1.0)
    paper = (tone * rng.uniform(0.985, 1.0), tone * rng.uniform(0.98, 1.0), tone * rng.uniform(0.94, 0.99))
    return ScanParams(
        profile=profile,
        fax=fax,
        rotation_deg=float(rng.uniform(-7, 7) if hard else rng.uniform(-3, 3)),
        upside_down=bool(rng.random() < 0.1),
        scale=float(rng.uniform(0.97, 1.03)),
        shift_mm=(float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5))),
        dpi=200 if fax else 300,
        grey=bool(fax or rng.random() < (0.35 if hard else 0.2)),
        blur=float(rng.uniform(0.9, 1.6) if hard and not fax else rng.uniform(0.5, 1.2)),
        noise=float(rng.uniform(4, 9) if hard else rng.uniform(1.5, 4)),
        paper=paper,
        background=int(rng.integers(225, 250)),
        light=float(rng.uniform(0.1, 0.25) if hard else rng.uniform(0.0, 0.08)),
        perspective=float(rng.uniform(0.002, 0.008) if hard else 0.0),
        punch=bool(hard and rng.random() < 0.5),
        threshold=None if rng.random() < 0.5 else int(rng.integers(120, 170)),
        speckle=float(rng.uniform(1e-4, 6e-4) if fax else 0.0),
        jpeg_quality=int(rng.integers(50, 71) if hard else rng.integers(50, 91)),
        clean_bg=bool(rng.random() < (0.3 if hard else 0.6)),
    )


P_LOW_DPI = 0.3
P_LOW_CONTRAST = 0.15
P_DARK_GRADIENT = 0.08  # of fax pages: a lamp failing down the page, thresholded to black (G7)
P_STAIN = 0.05  # of colour pages: coloured blotches (a drink, a marker) over the form (G7)
STAIN_COLOURS = ((60, 200, 220), (230, 200, 60), (150, 110, 60))  # cyan, yellow, brown (RGB)
P_JPEG_HEAVY = 0.5  # of 200 dpi colour/grey pages: compressed hard by the scanner (quality 25-45)


def harden(p: ScanParams, rng: np.random.Generator, p_heavy: float = P_JPEG_HEAVY) -> ScanParams:
    """Heavy JPEG at 200 dpi, as office scanners in dev set A sent (findings §8): 8×8 blocks and
    ringing the size of a stroke. Baked into the image here, so PNG benches see it too. Draws
    from a stream of its own, so every other choice on the page is unchanged."""
    heavy, quality = rng.random() < p_heavy, int(rng.integers(25, 46))
    if heavy and not p.fax and p.dpi <= 200:
        p.jpeg_baked = quality
    return p


# Of colour and grey pages: sent by a scanner in its black-and-white mode (1 bit, G4 in a TIFF), as
# office multifunction printers do for "documents". Unlike a fax's, the threshold follows the page's
# own paper (an automatic exposure), at 55-80% of its grey, so the writing keeps its whole strokes,
# thickened by their grey edges: on dev set A's pages made so, more wrong values were accepted
# (14 of 867 against 5 of 957), and no page of ours was bilevel without being a fax.
P_BILEVEL = 0.1
BILEVEL_SHARE = (0.55, 0.8)


def bilevel(p: ScanParams, rng: np.random.Generator, p_bilevel: float = P_BILEVEL) -> ScanParams:
    """A black-and-white scanner mode on some non-fax pages, drawn from `rng` (a stream of its
    own, so every other choice on the page is unchanged)."""
    on, share = rng.random() < p_bilevel, float(rng.uniform(*BILEVEL_SHARE))
    if on and not p.fax:
        p.bilevel = share
    return p


def widen_params(p: ScanParams, rng: np.random.Generator) -> ScanParams:
    """200 dpi and low-contrast colour/grey scans, drawn from `rng` (a stream of their own)."""
    low_dpi, low_contrast = rng.random() < P_LOW_DPI, rng.random() < P_LOW_CONTRAST
    lo, hi = float(rng.uniform(0.25, 0.4)), float(rng.uniform(0.8, 0.9))
    # Drawn after the draws above, so pages without these keep every earlier value.
    dark, start, depth = (
        rng.random() < P_DARK_GRADIENT,
        float(rng.uniform(0.35, 0.65)),
        float(rng.uniform(0.5, 0.8)),
    )
    stained, seed = rng.random() < P_STAIN, int(rng.integers(1 << 30))
    opacity, colour = float(rng.uniform(0.2, 0.5)), STAIN_COLOURS[int(rng.integers(len(STAIN_COLOURS)))]
    if p.fax:
        if dark:
            p.dark_gradient = (start, depth)
            p.threshold = int(rng.integers(150, 166))
        return p
    if low_dpi:
        p.dpi = 200
    if low_contrast:
        p.contrast = (lo, hi)
    if stained and not p.grey:
        p.stain = (seed, opacity, colour)
    return p


# Colour that is not ink, on colour scans only (grey and fax pages keep their paper grey): forms
# printed on coloured paper, a light saturated tint in blotches over the page (dev set A's cyan
# page, G7: a security tint, a water stain, spilled highlighter ink), a coloured guilloche
# security pattern, and highlighter strokes over written fields. Transmittances (RGB, 0-255) that
# absorb mostly one channel, as printing inks and highlighters do.
P_COLOUR_PAPER = 0.08
P_TINT = 0.04
P_PATTERN = 0.04
P_HIGHLIGHT = 0.06
PAPER_COLOURS = {
    "pink": (252, 220, 230),
    "yellow": (252, 244, 196),
    "green": (220, 244, 220),
    "blue": (212, 230, 250),
}
TINT_COLOURS = {
    "cyan": (20, 236, 240),
    "yellow": (250, 238, 110),
    "pink": (250, 170, 215),
    "green": (170, 240, 170),
    "blue": (190, 226, 250),
}
HIGHLIGHT_COLOURS = {
    "yellow": (255, 245, 90),
    "pink": (255, 150, 205),
    "green": (150, 250, 130),
    "blue": (120, 215, 255),
}


def colourise(p: ScanParams, rng: np.random.Generator, p_colour: float | None = None) -> ScanParams:
    """Coloured paper, tint blotches, a guilloche pattern and highlighter on some colour pages,
    drawn from `rng` (a stream of their own, so every other choice on the page is unchanged).
    `p_colour` replaces each effect's rate (1.0: every colour page gets all four)."""
    rates = (P_COLOUR_PAPER, P_TINT, P_PATTERN, P_HIGHLIGHT) if p_colour is None else (p_colour,) * 4
    draws = rng.random(4)
    seeds = rng.integers(1 << 30, size=3)
    paper = list(PAPER_COLOURS)[int(rng.integers(len(PAPER_COLOURS)))]
    tint = list(TINT_COLOURS)[int(rng.integers(len(TINT_COLOURS)))]
    pattern = list(TINT_COLOURS)[int(rng.integers(len(TINT_COLOURS)))]
    marker = list(HIGHLIGHT_COLOURS)[int(rng.integers(len(HIGHLIGHT_COLOURS)))]
    tint_opacity, pattern_opacity = float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.5, 0.9))
    if p.fax or p.grey:
        return p
    if draws[0] < rates[0]:
        p.paper_colour = paper
        p.paper = tuple(a * b / 255.0 for a, b in zip(p.paper, PAPER_COLOURS[paper], strict=True))
    if draws[1] < rates[1]:
        p.tint = (int(seeds[0]), tint_opacity, tint)
    if draws[2] < rates[2]:
        p.pattern = (int(seeds[1]), pattern_opacity, pattern)
    if draws[3] < rates[3]:
        p.highlight = (int(seeds[2]), marker)
    return p


def _over(rgb: np.ndarray, alpha: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """`colour` (a transmittance, RGB 0-255) laid over an RGB page with per-pixel `alpha` (0-1):
    light is absorbed, so ink under it stays as dark as it was."""
    tint = np.array(colour, np.float32)[None, None, :] / 255.0
    a = alpha.astype(np.float32)[..., None]
    return np.clip(rgb.astype(np.float32) * (1 - a + a * tint), 0, 255).astype(np.uint8)


def _tint_blotches(out: np.ndarray, seed: int, opacity: float, colour: str) -> np.ndarray:
    """Many mid-sized blotches of a light saturated colour with firm edges, over about a third of
    the page (as dev set A's cyan page): finer noise than `_stain`, thresholded more steeply."""
    r = np.random.default_rng(seed)
    h, w = out.shape[:2]
    coarse = r.random((28, 20)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    alpha = np.clip((field - 0.55) / 0.05, 0, 1) * opacity
    return _over(out, alpha, TINT_COLOURS[colour])


def _guilloche(rgb: np.ndarray, ppm: float, seed: int, opacity: float, colour: str) -> np.ndarray:
    """A security pattern printed on the paper: two families of fine wavy lines (0.2-0.35 mm,
    2-4 mm apart) crossing over the whole page, in one light colour."""
    r = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    width = max(1, int(round(r.uniform(0.2, 0.35) * ppm)))
    xs = np.arange(0, w + 8, 8, dtype=np.float32)
    for sign in (1.0, -1.0):
        gap, amp, wave = r.uniform(2, 4) * ppm, r.uniform(1.5, 4) * ppm, r.uniform(12, 30) * ppm
        phase, tilt = r.uniform(0, 2 * np.pi), sign * r.uniform(0.05, 0.2)
        for y0 in np.arange(-h * 0.3, h * 1.3, gap):
            ys = y0 + tilt * xs + amp * np.sin(2 * np.pi * xs / wave + phase + sign * y0 / (3 * gap))
            pts = np.stack([xs, ys], axis=1).round().astype(np.int32)
            cv2.polylines(mask, [pts], False, 255, width, cv2.LINE_AA)
    return _over(rgb, mask.astype(np.float32) * (opacity / 255.0), TINT_COLOURS[colour])


def _highlighter(
    rgb: np.ndarray, ppm: float, boxes: list[tuple[float, float, float, float]], seed: int, colour: str
) -> np.ndarray:
    """Highlighter strokes over 1-3 field boxes (mm): a translucent band most of a box's height,
    a little askew and past its ends, laid over the writing."""
    r = np.random.default_rng(seed)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    wide = [b for b in boxes if b[2] >= 20]  # text fields, not tick boxes
    for i in r.choice(len(wide), size=min(len(wide), int(r.integers(1, 4))), replace=False):
        x, y, w, h = wide[int(i)]
        cy, band = y + h * r.uniform(0.4, 0.6), h * r.uniform(0.5, 0.9)
        x0, x1 = x + r.uniform(-3, w * 0.3), x + w * r.uniform(0.7, 1.0) + r.uniform(0, 3)
        slope = r.uniform(-0.02, 0.02)
        y0, y1 = cy + slope * (x0 - x), cy + slope * (x1 - x)
        pts = np.array([[x0, y0 - band / 2], [x1, y1 - band / 2], [x1, y1 + band / 2], [x0, y0 + band / 2]])
        cv2.fillPoly(mask, [(pts * ppm).round().astype(np.int32)], 255, cv2.LINE_AA)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.3 * ppm)
    alpha = soft * (float(r.uniform(0.6, 0.9)) / 255.0)
    return _over(rgb, alpha, HIGHLIGHT_COLOURS[colour])


@dataclass
class Scan:
    image: Image.Image  # RGB, L or 1
    params: ScanParams
    mm_to_px: np.ndarray  # 3×3 homography, template mm → output px


def _homography(
    p: ScanParams,
    size_in: tuple[int, int],
    ppm_in: float,
    size_out: tuple[int, int],
    ppm_out: float,
    field_boxes: list[tuple[float, float, float, float]],
    rng: np.random.Generator,
) -> np.ndarray:
    win, hin = size_in
    wout, hout = size_out
    ang = math.radians(p.rotation_deg + (180.0 if p.upside_down else 0.0))
    c, s = math.cos(ang), math.sin(ang)
    k = p.scale * ppm_out / ppm_in
    to_c = np.array([[1, 0, -win / 2], [0, 1, -hin / 2], [0, 0, 1]], float)
    rs = np.array([[k * c, k * s, 0], [-k * s, k * c, 0], [0, 0, 1]], float)  # CCW on screen (y down)
    m = rs @ to_c
    # where do the field boxes land without a shift?  choose a shift that keeps them inside
    pts = []
    for x, y, w, h in field_boxes:
        for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
            pts.append((px * ppm_in, py * ppm_in, 1.0))
    q = (m @ np.array(pts).T).T
    margin = ppm_out  # 1 mm
    shift = []
    for axis, limit, want in ((0, wout, p.shift_mm[0]), (1, hout, p.shift_mm[1])):
        lo = margin - q[:, axis].min()
        hi = limit - margin - q[:, axis].max()
        want_px = limit / 2 + want * ppm_out
        if lo <= hi:
            shift.append(float(np.clip(want_px, lo, hi)))
        else:
            shift.append((lo + hi) / 2)
    t = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]], float)
    hmat = t @ m
    if p.perspective:
        src = np.float32([[0, 0], [wout, 0], [wout, hout], [0, hout]])
        jitter = rng.uniform(-1, 1, (4, 2)) * p.perspective * np.array([wout, hout])
        persp = cv2.getPerspectiveTransform(src, np.float32(src + jitter))
        hmat = persp @ hmat
    return hmat


def _punch_holes(rgb: np.ndarray, ppm: float, rng: np.random.Generator) -> None:
    h = rgb.shape[0]
    cx = rng.uniform(6, 9) * ppm
    r = rng.uniform(2.7, 3.2) * ppm
    mid = h / 2 + rng.uniform(-4, 4) * ppm
    shade = int(rng.integers(15, 45))
    for dy in (-40, 40):
        cv2.circle(rgb, (int(cx), int(mid + dy * ppm)), int(r), (shade, shade, shade), -1, cv2.LINE_AA)


def _remove_background(img: np.ndarray, noise: float) -> np.ndarray:
    """A scanner's background removal: tones near the local paper level become white (soft ramp)."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    h, w = grey.shape
    small = cv2.resize(grey, (w // 16, h // 16), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((5, 5), np.uint8))  # local paper level (ink and lines are darker)
    paper = cv2.resize(cv2.GaussianBlur(paper, (0, 0), 2), (w, h), interpolation=cv2.INTER_LINEAR)
    low = cv2.subtract(paper, int(3 * noise + 18))
    # alpha = (grey - low) / 12, clipped: 0 keeps the pixel, 255 makes it white
    alpha = cv2.multiply(cv2.subtract(grey, low), 255 / 12)
    if img.ndim == 2:
        return cv2.add(img, cv2.multiply(cv2.subtract(255, img), alpha, scale=1 / 255))
    chans = [cv2.add(c, cv2.multiply(cv2.subtract(255, c), alpha, scale=1 / 255)) for c in cv2.split(img)]
    return cv2.merge(chans)


def _stain(out: np.ndarray, seed: int, opacity: float, colour: tuple[float, float, float]) -> np.ndarray:
    """Large soft blotches of one colour over an RGB page: low-frequency noise, thresholded."""
    r = np.random.default_rng(seed)
    h, w = out.shape[:2]
    coarse = r.random((6, 5)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    alpha = np.clip((field - 0.6) / 0.15, 0, 1) * opacity
    return _over(out, alpha, colour)


def scan_page(
    rgb: np.ndarray,
    ppm_in: float,
    page_mm: tuple[float, float],
    field_boxes: list[tuple[float, float, float, float]],
    p: ScanParams,
    rng: np.random.Generator,
) -> Scan:
    """Degrade a clean page (H×W×3 uint8 at ppm_in px/mm) according to `p`."""
    rgb = rgb.copy() if p.punch else rgb
    if p.punch:
        _punch_holes(rgb, ppm_in, rng)
    if p.pattern is not None and not p.grey:
        rgb = _guilloche(rgb, ppm_in, *p.pattern)
    if p.highlight is not None and not p.grey:
        rgb = _highlighter(rgb, ppm_in, field_boxes, *p.highlight)
    ppm_out = p.dpi / 25.4
    wout, hout = int(round(page_mm[0] * ppm_out)), int(round(page_mm[1] * ppm_out))
    hin, win = rgb.shape[:2]
    hmat = _homography(p, (win, hin), ppm_in, (wout, hout), ppm_out, field_boxes, rng)
    src = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if p.grey else rgb
    # paper tone applied before warping so the scanner background stays neutral
    if p.grey:
        src = cv2.convertScaleAbs(src, alpha=float(np.mean(p.paper)))
    else:
        src = cv2.multiply(src, (*p.paper, 0.0))
    border = p.background if p.grey else (p.background, p.background, p.background - 3)
    out = cv2.warpPerspective(
        src, hmat, (wout, hout), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border
    )
    if p.light > 0:
        gx = np.linspace(-1, 1, 8, dtype=np.float32)
        a, b = rng.uniform(-1, 1, 2)
        field = 1 - p.light * (0.5 + 0.5 * (a * gx[None, :] + b * gx[:, None]) / 2)
        field = cv2.resize(field.astype(np.float32), (wout, hout), interpolation=cv2.INTER_LINEAR)
        if out.ndim == 3:
            out = cv2.merge([cv2.multiply(ch, field, dtype=cv2.CV_8U) for ch in cv2.split(out)])
        else:
            out = cv2.multiply(out, field, dtype=cv2.CV_8U)
    if p.dark_gradient is not None:
        start, depth = p.dark_gradient
        ramp = np.clip((np.linspace(0, 1, hout, dtype=np.float32) - start) / 0.15, 0, 1)
        field = np.repeat((1 - depth * ramp)[:, None], wout, axis=1)
        out = (
            cv2.merge([cv2.multiply(ch, field, dtype=cv2.CV_8U) for ch in cv2.split(out)])
            if out.ndim == 3
            else cv2.multiply(out, field, dtype=cv2.CV_8U)
        )
    if p.stain is not None and out.ndim == 3:
        out = _stain(out, *p.stain)
    if p.tint is not None and out.ndim == 3:
        out = _tint_blotches(out, *p.tint)
    out = cv2.GaussianBlur(out, (0, 0), p.blur)
    noise = (rng.standard_normal((hout, wout), dtype=np.float32) * p.noise).astype(np.int16)
    if out.ndim == 3:
        out = cv2.merge([cv2.add(ch, noise, dtype=cv2.CV_8U) for ch in cv2.split(out)])
    else:
        out = cv2.add(out, noise, dtype=cv2.CV_8U)
    if p.contrast is not None:
        lo, hi = p.contrast
        out = cv2.convertScaleAbs(out, alpha=hi - lo, beta=255 * lo)
    if p.clean_bg and not p.fax:
        out = _remove_background(out, p.noise)
    if p.jpeg_baked is not None and not p.fax:
        # OpenCV codes BGR: flip so that the chroma planes (subsampled 2×2) are the real ones.
        bgr = out[..., ::-1] if out.ndim == 3 else out
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_baked])
        if ok:
            back = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            out = np.ascontiguousarray(back[..., ::-1]) if back.ndim == 3 else back
    if p.fax:
        if p.threshold is None:
            _, bw = cv2.threshold(out, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        else:
            _, bw = cv2.threshold(out, p.threshold, 255, cv2.THRESH_BINARY)
        n = int(p.speckle * wout * hout)
        ys = rng.integers(0, hout, n)
        xs = rng.integers(0, wout, n)
        big = rng.random(n) < 0.3
        bw[ys, xs] = 0
        bw[np.clip(ys[big] + 1, 0, hout - 1), xs[big]] = 0
        bw[ys[big], np.clip(xs[big] + 1, 0, wout - 1)] = 0
        drop = rng.integers(0, hout, n // 3), rng.integers(0, wout, n // 3)
        bw[drop] = 255
        image = Image.fromarray(bw).convert("1", dither=Image.Dither.NONE)
    elif p.bilevel is not None:
        grey = out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
        bw = np.where(grey > p.bilevel * float(np.median(grey)), 255, 0).astype(np.uint8)
        image = Image.fromarray(bw).convert("1", dither=Image.Dither.NONE)
    else:
        image = Image.fromarray(out)
    mm = np.array([[ppm_in, 0, 0], [0, ppm_in, 0], [0, 0, 1]], float)
    return Scan(image, p, hmat @ mm)
