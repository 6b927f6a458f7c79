"""Synthetic handwriting on an ink layer: handwriting-style fonts for kanji/kana, real MNIST digits.

Everything draws into an `Ink` layer (a uint8 alpha array the size of the page, 0 = no ink) in pixels;
the page renderer composites the layer with an ink colour. A `Hand` is one writer on one page: a
primary font (with fallbacks for missing glyphs), a slice of the vendored MNIST digits, and jitter
settings (size ±12%, baseline ±8%, rotation ±4° mild / ±8° hard, spacing).

Writers differ (`vary_writer`, from a random stream of their own): a slant (glyphs and digits
sheared by −6°…+14°, most writers lean right), a habitual line slope, and a slow wave of the
baseline along the line; three in ten write numbers partly out of their box (`overrun`). Stroke width varies per page already (`pen_px`, and the page's `weight`,
which thickens or thins all pen ink).

Some writers (`Style.digits`, a `stroke_digits.DigitStyle`) write their digits as pen strokes in
the shapes Japanese writers use (open 4, looped 2, flagged 1, …) instead of MNIST's; see
`samples.stroke_digits`. Others (`Style.digit_font`) write every digit in one Latin handwriting
font's shapes (`DIGIT_FONT_SETS`), drawn with their own pen's width.

Fonts: TRAIN (seto, kiloji, YOzRS, YOzRN) for anything tuned on; HOLDOUT (Klee One from Debian
`fonts-klee`, YOzRE) only with `--fonts holdout`. MNIST samples 0–299 are the train split, 300–399 the
holdout split; nothing beyond 399 exists in the vendored file.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from samples import stroke_digits

ASSETS = Path(__file__).resolve().parent / "assets"
MNIST_FILE = ASSETS / "mnist_digits_0-399.npz"

YOZ = "/usr/share/fonts/truetype/yozvox-yozfont"
FONT_SETS: dict[str, dict[str, str]] = {
    "train": {
        "seto": "/usr/share/fonts/truetype/seto/setofont.ttf",
        "kiloji": "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
        "yozRS": f"{YOZ}/YOzRS_.ttf",
        "yozRN": f"{YOZ}/YOzRN_.ttf",
    },
    "holdout": {
        "klee": "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
        "yozRE": f"{YOZ}/YOzRE_.ttf",
    },
}
MNIST_SPLIT: dict[str, tuple[int, int]] = {"train": (0, 300), "holdout": (300, 400)}
# Latin handwriting fonts from Debian (fonts-bwht, fonts-dkg-handwriting, fonts-femkeklaver,
# fonts-humor-sans, fonts-comic-neue, fonts-rufscript, fonts-kristi, fonts-kaushanscript) whose
# digits some writers write (`Style.digit_font`): dev set A's writers write every number in one
# hand's shapes, a font's, where ours wrote MNIST's or our stroke shapes. The benchmarks write
# with the holdout ones (`--fonts holdout`); the digit classifier has seen no font's digits.
_BWHT = "/usr/share/fonts/opentype/bwht/BecauseWe"
_DKG = "/usr/share/fonts/truetype/fifthhorseman/dkg"
_COMIC = "/usr/share/fonts/opentype/comic-neue/ComicNeue-"
DIGIT_FONT_SETS: dict[str, list[str]] = {
    "train": [
        *(f"{_BWHT}{n}-Regular.otf" for n in ("Build", "Connect", "Learn", "Mentor", "Organize")),
        *(f"{_DKG}{s}.ttf" for s in ("", "Bd", "It")),
        "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
        *(f"{_COMIC}{s}.otf" for s in ("Regular", "Italic", "Light")),
        "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf",
        "/usr/share/fonts/truetype/kristi/Kristi.ttf",
        "/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf",
    ],
    "holdout": [
        f"{_BWHT}Create-Regular.otf",
        f"{_DKG}BI.ttf",
        "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    ],
}
DIGIT_FONT_PACKAGES = (
    "fonts-bwht fonts-dkg-handwriting fonts-femkeklaver fonts-humor-sans fonts-comic-neue "
    "fonts-rufscript fonts-kristi fonts-kaushanscript"
)
PRINTED_FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"  # last resort, and stamps
PRINTED_MINCHO = "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"


def _find_klee() -> str | None:
    try:
        out = subprocess.run(
            ["fc-list", ":family=Klee One", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    paths = sorted(
        line.split(":")[0] for line in out.splitlines() if "Regular" in line or "klee" in line.lower()
    )
    return paths[0] if paths else None


def digit_font_paths(which: str) -> list[str]:
    """Installed digit fonts of a set (`DIGIT_FONT_SETS`); raises with the install hint when one
    is missing."""
    missing = [p for p in DIGIT_FONT_SETS[which] if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(
            f"handwriting digit fonts missing: {', '.join(missing)} (apt-get install -y {DIGIT_FONT_PACKAGES})"
        )
    return list(DIGIT_FONT_SETS[which])


def font_paths(which: str) -> dict[str, str]:
    """Installed fonts of a set; raises with the install hint when one is missing."""
    fonts = dict(FONT_SETS[which])
    if which == "holdout" and not Path(fonts["klee"]).exists():
        found = _find_klee()
        if found:
            fonts["klee"] = found
    missing = [p for p in fonts.values() if not Path(p).exists()]
    if missing:
        hint = "apt-get install -y fonts-klee fonts-seto fonts-kiloji fonts-yozvox-yozfont"
        raise FileNotFoundError(f"handwriting fonts missing: {', '.join(missing)} ({hint})")
    return fonts


@lru_cache(maxsize=512)
def get_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(4, size))


def stroke_width(ink: np.ndarray) -> float:
    """The stroke width of a binary glyph in pixels: twice its area over its edge pixels (exact
    for long strokes, too coarse when small)."""
    b = ink.astype(np.uint8)
    area = int(b.sum())
    edge = area - int(cv2.erode(b, np.ones((3, 3), np.uint8)).sum())
    return 2.0 * area / max(1, edge)


@lru_cache(maxsize=256)
def _font_digit(path: str, digit: int) -> np.ndarray:
    """A digit of a font drawn large (96 px) and cut to its ink: the same for every writer of the
    font, so drawn once (read-only)."""
    big = 96
    im = Image.new("L", (2 * big, 2 * big), 0)
    ImageDraw.Draw(im).text((big // 2, big // 4), str(digit), font=get_font(path, big), fill=255)
    a = np.asarray(im)
    ys, xs = np.nonzero(a > 60)
    a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()
    a.setflags(write=False)
    return a


@lru_cache(maxsize=16)
def stroke_share(path: str) -> float:
    """A font's stroke width as a share of its size, measured on a few kana and a kanji drawn
    large (`stroke_width`)."""
    size = 200
    im = Image.new("L", (6 * size, 2 * size), 0)
    ImageDraw.Draw(im).text((5, 5), "ヤマグチ木", font=get_font(path, size), fill=255)
    return stroke_width(np.asarray(im) > 127) / size


# A pen's line keeps its width whatever the size of the writing: a font's strokes shrink with it
# (Klee's are 3.7% of its size, 1 px at furigana size), and a glyph is thickened to at least
# this share of the writer's pen. Furigana in a 4-5 mm row were otherwise hairlines the scan lost.
PEN_FLOOR = 0.5
# Of 二重線 (`Hand.strike`): the two lines drawn touching, one bar as deep as two pen lines.
P_TIGHT_STRIKE = 0.15


def with_pen_floor(mask: np.ndarray, stroke_px: float, pen_px: float, share: float = PEN_FLOOR) -> np.ndarray:
    """`mask` (a glyph's alpha) thickened by whole pixels until its `stroke_px` wide strokes are
    about `share` of `pen_px`; as it is when they are already. Thickened within its own
    box, so the glyph's extent, and with it the line's layout and every later random draw of the
    page, stays as it was."""
    grow = int(round(share * pen_px - stroke_px))
    if grow < 1 or mask.size <= 1:
        return mask
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1)))


@lru_cache(maxsize=16)
def _notdef(path: str) -> tuple[tuple[int, int], bytes]:
    m = get_font(path, 40).getmask("\U000f0000")
    return m.size, bytes(np.asarray(m))


@lru_cache(maxsize=65536)
def has_glyph(path: str, ch: str) -> bool:
    """True when the font draws `ch` itself (not .notdef, not an empty box for a visible char)."""
    if ch.isspace():
        return True
    m = get_font(path, 40).getmask(ch)
    arr = np.asarray(m)
    if arr.size == 0 or int(arr.max(initial=0)) == 0:
        return False
    return (m.size, bytes(arr)) != _notdef(path)


@lru_cache(maxsize=32)
def _v_centre(path: str) -> float:
    """Vertical offset (fraction of size) that puts a kanji's ink centre on the line with anchor 'mm'."""
    l_, t, r, b = get_font(path, 100).getbbox("東", anchor="mm")
    return -(t + b) / 2 / 100


@lru_cache(maxsize=1)
def load_mnist() -> np.ndarray:
    with np.load(MNIST_FILE) as z:
        return z["digits"]


@lru_cache(maxsize=1)
def _mnist_crops() -> list[list[np.ndarray]]:
    digits = load_mnist()
    out: list[list[np.ndarray]] = []
    for d in range(10):
        row = []
        for s in digits[d]:
            ys, xs = np.nonzero(s > 40)
            row.append(s[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else s)
        out.append(row)
    return out


class Ink:
    """A page-sized alpha layer; pasting keeps the darker (max) value."""

    def __init__(self, height: int, width: int):
        self.a = np.zeros((height, width), np.uint8)

    def paste(self, mask: np.ndarray, x0: int, y0: int) -> None:
        h, w = mask.shape
        H, W = self.a.shape
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
        if xa >= xb or ya >= yb:
            return
        region = self.a[ya:yb, xa:xb]
        np.maximum(region, mask[ya - y0 : yb - y0, xa - x0 : xb - x0], out=region)


@dataclass
class Glyph:
    mask: np.ndarray  # uint8 alpha, tight
    ox: float  # mask left relative to the pen x (left of the advance cell)
    oy: float  # mask top relative to the writing centre line
    adv: float  # advance in px
    src: str  # "font:<name>", "mnist:<idx>", "stroke"


@dataclass
class Style:
    rot_max: float = 4.0
    size_jitter: float = 0.12
    base_jitter: float = 0.08
    spacing: float = 0.95
    p_mnist: float = 0.8
    digit_scale: float = 0.78
    pen_px: float = 4.0
    slant: float = 0.0  # degrees, + leans right (a shear of each glyph)
    slope_bias: float = 0.0  # the writer's habitual line slope (dy/dx)
    drift: float = 0.0  # baseline wave amplitude, as a fraction of the character advance
    drift_period: float = 8.0  # characters per wave
    drift_phase: float = 0.0
    # Numbers written partly out of their box, as a share of the box height (+ below, - above):
    # a small date box or an hours box is overrun by writers who write large or low.
    overrun: float = 0.0
    # A writer whose digits are pen strokes in their own habits (None: MNIST digits).
    digits: stroke_digits.DigitStyle | None = None
    # A writer whose every digit is a handwriting font's (a path in DIGIT_FONT_SETS); before `digits`.
    digit_font: str | None = None
    # The writer's size habit, times the drawn size of a line: some hands fill their boxes, the
    # first characters' downstrokes touching the box's foot and head (the dev set's writers ink
    # a crop's edge row in 43% of text fields; ours did in 25%, 32% with this habit).
    scale: float = 1.0


def vary_writer(style: Style, rng: np.random.Generator) -> Style:
    """Per-writer habits drawn from `rng` (a stream of its own): slant, slope and baseline drift.
    Changes `style` in place and returns it. Slant and drift are applied when a glyph is pasted,
    after the text was fitted to its box, so they take no draws from the hand's stream and the
    rest of the page is unchanged. The size habit (`scale`, about a third of writers) does change
    how often a line is re-fitted, hence the hand's draws: those writers' pages differ from before
    it was added."""
    style.slant = float(rng.choice([rng.uniform(-6, 2), rng.uniform(2, 14)], p=[0.3, 0.7]))
    style.slope_bias = float(rng.normal(0, 0.012))
    style.drift = float(rng.uniform(0.0, 0.08))
    style.drift_period = float(rng.uniform(5, 12))
    style.drift_phase = float(rng.uniform(0, 2 * math.pi))
    # Drawn last, so the habits above stay what they were for every seed.
    if rng.random() < 0.3:
        style.overrun = float(rng.choice([-1, 1]) * rng.uniform(0.12, 0.3))
    if rng.random() < 0.35:
        style.scale = float(rng.uniform(1.12, 1.3))
    return style


def shear(mask: np.ndarray, degrees: float) -> tuple[np.ndarray, float]:
    """Slant a glyph mask by `degrees` about its vertical centre; returns (mask, x shift of its left)."""
    if abs(degrees) < 0.5 or mask.size <= 1:
        return mask, 0.0
    h, w = mask.shape
    k = math.tan(math.radians(degrees))
    extra = int(math.ceil(abs(k) * h)) + 1
    tx = extra / 2 + k * h / 2  # a point at mid-height stays where it was (plus the padding)
    m = np.float32([[1, -k, tx], [0, 1, 0]])
    out = cv2.warpAffine(mask, m, (w + extra, h), flags=cv2.INTER_LINEAR)
    return out, -extra / 2


class Hand:
    """One writer: fonts + digits + jitter, drawing into an `Ink`."""

    def __init__(
        self,
        rng: np.random.Generator,
        font_set: str,
        primary: str,
        style: Style,
        digit_rng: np.random.Generator | None = None,
    ):
        self.rng = rng
        # The shapes of stroke-drawn digits wobble from a stream of their own, so a stroke writer
        # takes as many draws from `rng` as an MNIST writer.
        self.digit_rng = digit_rng if digit_rng is not None else np.random.default_rng(0)
        self.style = style
        paths = font_paths(font_set)
        others = [p for n, p in paths.items() if n != primary]
        rest = [p for s in FONT_SETS if s != font_set for p in FONT_SETS[s].values() if Path(p).exists()]
        self.primary = primary
        self.chain = [paths[primary], *others, *rest, PRINTED_FONT]
        self.mnist_range = MNIST_SPLIT[font_set]
        self.digits = _mnist_crops()

    # -- glyphs ----------------------------------------------------------------------------------

    def _font_for(self, ch: str) -> str:
        for p in self.chain:
            if has_glyph(p, ch):
                return p
        return self.chain[-1]

    def _rotate(self, mask: np.ndarray, angle: float) -> tuple[np.ndarray, float, float]:
        """Rotate about the mask centre; returns (tight mask, dx, dy) of its top-left shift."""
        h, w = mask.shape
        pad = int(max(h, w) * 0.3) + 2
        big = np.pad(mask, pad)
        c = (big.shape[1] / 2, big.shape[0] / 2)
        m = cv2.getRotationMatrix2D(c, angle, 1.0)
        rot = cv2.warpAffine(big, m, (big.shape[1], big.shape[0]), flags=cv2.INTER_LINEAR)
        ys, xs = np.nonzero(rot)
        if len(ys) == 0:
            return mask, 0.0, 0.0
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        return rot[y0:y1, x0:x1], float(x0 - pad), float(y0 - pad)

    def font_glyph(self, ch: str, size: float, angle: float) -> Glyph:
        path = self._font_for(ch)
        s = max(6, int(round(size)))
        font = get_font(path, s)
        im = Image.new("L", (2 * s, 2 * s), 0)
        ImageDraw.Draw(im).text((s, s + _v_centre(path) * s), ch, font=font, fill=255, anchor="mm")
        if angle:
            im = im.rotate(angle, resample=Image.Resampling.BILINEAR, center=(s, s))
        bbox = im.getbbox()
        adv = float(font.getlength(ch))
        name = next((n for st in FONT_SETS.values() for n, p in st.items() if p == path), "printed")
        if bbox is None:
            return Glyph(np.zeros((1, 1), np.uint8), 0.0, 0.0, adv, f"font:{name}")
        mask = with_pen_floor(np.asarray(im.crop(bbox)), stroke_share(path) * s, self.style.pen_px)
        return Glyph(mask, adv / 2 + bbox[0] - s, float(bbox[1] - s), adv, f"font:{name}")

    def mnist_glyph(self, digit: int, size: float, angle: float) -> Glyph:
        lo, hi = self.mnist_range
        idx = int(self.rng.integers(lo, hi))
        crop = self.digits[digit][idx]
        h = max(6.0, size * self.style.digit_scale * self.rng.uniform(0.92, 1.08))
        w = max(3.0, crop.shape[1] * h / crop.shape[0])
        if digit != 1:
            w = max(w, 0.45 * h)
        r = cv2.resize(crop, (int(round(w)), int(round(h))), interpolation=cv2.INTER_CUBIC)
        # MNIST strokes are ~1/7 of the digit height: erode them towards a ballpoint line.
        ink = r > 110
        area = int(ink.sum())
        stroke = stroke_width(ink)
        rad = int(min(max(0.0, (stroke - self.style.pen_px) / 2), 0.05 * h))
        while rad:
            thin = cv2.erode(r, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rad + 1, 2 * rad + 1)))
            if int((thin > 110).sum()) >= 0.3 * area:  # a blobby digit must not erode into a dot
                r = thin
                break
            rad -= 1
        mask = np.clip((r.astype(np.float32) - 30) * 1.25, 0, 255).astype(np.uint8)
        return self._placed_digit(mask, size, h, w, angle, f"mnist:{idx}")

    def _placed_digit(
        self, mask: np.ndarray, size: float, h: float, w: float | None, angle: float, source: str
    ) -> Glyph:
        """A digit `h` tall, rotated by `angle`, as a glyph of a line written at `size`: its gap to
        the next character and its drop below the baseline drawn per digit. It advances by `w`
        plus the gap (None: the rotated mask's width)."""
        dx = dy = 0.0
        if angle:
            mask, dx, dy = self._rotate(mask, angle)
        gap = size * self.rng.uniform(0.1, 0.25)
        bottom = size * self.rng.uniform(0.3, 0.4)
        adv = (mask.shape[1] if w is None else w) + gap
        return Glyph(mask, gap / 2 + dx, bottom - h + dy, adv, source)

    def stroke_glyph(self, digit: int, size: float, angle: float) -> Glyph:
        """A digit drawn as pen strokes in the writer's habits (`Style.digits`). Takes the same
        draws from the hand's stream as `mnist_glyph`, so the rest of the line is laid out alike."""
        style = self.style.digits
        assert style is not None
        lo, hi = self.mnist_range
        self.rng.integers(lo, hi)  # the MNIST sample it replaces
        h = max(6.0, size * self.style.digit_scale * self.rng.uniform(0.92, 1.08))
        mask = stroke_digits.draw(digit, style, h, self.style.pen_px, self.digit_rng)
        return self._placed_digit(mask, size, h, None, angle, f"stroke:{style.variants[digit]}")

    def font_digit_glyph(self, digit: int, size: float, angle: float) -> Glyph:
        """A digit in the writer's digit font (`Style.digit_font`), as tall as an MNIST digit
        would be, its strokes as wide as the writer's pen (a font's are hairlines at this size;
        dev set A's font digits carry the writer's pen width). Takes the same draws from the
        hand's stream as `mnist_glyph`."""
        path = self.style.digit_font
        assert path is not None
        lo, hi = self.mnist_range
        self.rng.integers(lo, hi)  # the MNIST sample it replaces
        h = max(6.0, size * self.style.digit_scale * self.rng.uniform(0.92, 1.08))
        a = _font_digit(path, digit)
        s = h / a.shape[0]
        mask = cv2.resize(a, (max(1, round(a.shape[1] * s)), max(1, round(h))), interpolation=cv2.INTER_AREA)
        mask = with_pen_floor(mask, stroke_width(mask > 127), self.style.pen_px, share=1.0)
        return self._placed_digit(mask, size, h, None, angle, f"font-digit:{Path(path).stem}")

    def dash_glyph(self, size: float, angle: float) -> Glyph:
        length = size * self.rng.uniform(0.3, 0.45)
        t = max(2, int(round(self.style.pen_px)))
        w, h = int(length) + 2 * t, 3 * t + 4
        m = np.zeros((h, w), np.uint8)
        tilt = self.rng.uniform(-0.15, 0.1) * length
        cv2.line(m, (t, int(h / 2 + tilt / 2)), (w - t, int(h / 2 - tilt / 2)), 255, t, cv2.LINE_AA)
        gap = size * self.rng.uniform(0.1, 0.2)
        return Glyph(m, gap / 2, size * 0.05 - h / 2, w + gap, "stroke")

    def glyph(self, ch: str, size: float) -> Glyph:
        st = self.style
        size = size * (1 + self.rng.uniform(-st.size_jitter, st.size_jitter))
        angle = float(self.rng.uniform(-st.rot_max, st.rot_max))
        if ch in "-－‐−":
            g = self.dash_glyph(size, angle)
        elif ch.isdigit() and ch.isascii() and (self.rng.random() < st.p_mnist or st.digit_font):
            draw = (
                self.font_digit_glyph
                if st.digit_font
                else self.stroke_glyph
                if st.digits
                else self.mnist_glyph
            )
            g = draw(int(ch), size, angle)
        elif ch == "　":
            return Glyph(np.zeros((1, 1), np.uint8), 0, 0, size * self.rng.uniform(0.4, 0.9), "space")
        elif ch == " ":
            return Glyph(np.zeros((1, 1), np.uint8), 0, 0, size * self.rng.uniform(0.25, 0.45), "space")
        else:
            g = self.font_glyph(ch, size, angle)
        g.oy += self.rng.uniform(-st.base_jitter, st.base_jitter) * size
        g.adv *= st.spacing * self.rng.uniform(0.95, 1.05)
        return g

    # -- lines -----------------------------------------------------------------------------------

    def layout(self, text: str, size: float) -> list[Glyph]:
        return [self.glyph(ch, size) for ch in text]

    @staticmethod
    def width(glyphs: list[Glyph]) -> float:
        if not glyphs:
            return 0.0
        right = sum(g.adv for g in glyphs[:-1]) + glyphs[-1].ox + glyphs[-1].mask.shape[1]
        return max(right, sum(g.adv for g in glyphs[:-1]) + glyphs[-1].adv * 0.8)

    def fit(self, text: str, size: float, max_w: float) -> tuple[list[Glyph], float]:
        """Lay out `text`, shrinking until it is at most `max_w` wide."""
        glyphs = self.layout(text, size)
        for _ in range(5):
            w = self.width(glyphs)
            if w <= max_w:
                break
            size *= max_w / w * 0.97
            glyphs = self.layout(text, size)
        return glyphs, size

    def place(
        self, ink: Ink, glyphs: list[Glyph], x: float, cy: float, slope: float = 0.0
    ) -> tuple[int, int, int, int]:
        """Paste glyphs from pen x along the centre line cy; returns the ink bbox (x0, y0, x1, y1)."""
        bx0 = by0 = 10**9
        bx1 = by1 = -(10**9)
        pen = x
        for g in glyphs:
            if g.mask.size > 1:
                mask, dx = shear(g.mask, self.style.slant)
                gx = int(round(pen + g.ox + dx))
                tilt = (slope + self.style.slope_bias) * (pen - x)  # the writer's habit, after fitting
                gy = int(round(cy + tilt + self._drift(g, pen - x) + g.oy))
                ink.paste(mask, gx, gy)
                bx0, by0 = min(bx0, gx), min(by0, gy)
                bx1, by1 = max(bx1, gx + mask.shape[1]), max(by1, gy + mask.shape[0])
            pen += g.adv
        return bx0, by0, bx1, by1

    def _drift(self, g: Glyph, along: float) -> float:
        """The baseline's slow wave at `along` px into the line (0 for writers without one)."""
        st = self.style
        if not st.drift or g.adv <= 0:
            return 0.0
        return st.drift * g.adv * math.sin(2 * math.pi * along / (st.drift_period * g.adv) + st.drift_phase)

    @staticmethod
    def extent(
        glyphs: list[Glyph], x: float, cy: float, slope: float = 0.0
    ) -> tuple[float, float, float, float]:
        bx0 = by0 = 1e9
        bx1 = by1 = -1e9
        pen = x
        for g in glyphs:
            if g.mask.size > 1:
                gx, gy = pen + g.ox, cy + slope * (pen - x) + g.oy
                bx0, by0 = min(bx0, gx), min(by0, gy)
                bx1, by1 = max(bx1, gx + g.mask.shape[1]), max(by1, gy + g.mask.shape[0])
            pen += g.adv
        return bx0, by0, bx1, by1

    def write(
        self,
        ink: Ink,
        text: str,
        box: tuple[float, float, float, float],
        *,
        hfrac: tuple[float, float] = (0.45, 0.75),
        align: str = "left",
        size: float | None = None,
    ) -> tuple[int, int, int, int]:
        """Write one line of `text` inside box (x, y, w, h in px); returns the ink bbox."""
        x, y, w, h = box
        rng = self.rng
        size = size if size is not None else rng.uniform(*hfrac) * h * self.style.scale
        margin = 0.02 * w + 2
        slope = rng.normal(0, 0.012)
        for _ in range(4):
            glyphs, size = self.fit(text, size, w - 2 * margin)
            _, ty0, _, ty1 = self.extent(glyphs, 0.0, 0.0, slope)
            if ty1 - ty0 <= h - 3:
                break
            size *= (h - 3) / (ty1 - ty0) * 0.97
        tw = self.width(glyphs)
        slack = max(0.0, w - 2 * margin - tw)
        if align == "center":
            x0 = x + margin + slack / 2 + rng.uniform(-0.2, 0.2) * slack
        else:
            x0 = x + margin + rng.uniform(0, min(slack, 0.12 * w + 0.25 * slack))
        cy = y + h / 2 + rng.normal(0, 0.04) * h
        ex0, ey0, ex1, ey1 = self.extent(glyphs, x0, cy, slope)
        # keep the ink inside the box (vertical first; horizontal guards rounding)
        if ey0 < y + 1:
            cy += y + 1 - ey0
        elif ey1 > y + h - 1:
            cy -= ey1 - (y + h - 1)
        if ex1 > x + w - 1:
            x0 -= ex1 - (x + w - 1)
        if ex0 < x + 1:
            x0 += x + 1 - ex0
        if self.style.overrun and text and all(c.isdigit() or c in "-－‐−" for c in text):
            cy += self.style.overrun * h  # no draws: the rest of the page is unchanged
        return self.place(ink, glyphs, x0, cy, slope)

    def write_cells(self, ink: Ink, text: str, cells: list[tuple[float, float, float, float]]) -> None:
        """One character per cell, centred with jitter."""
        rng = self.rng
        base = rng.uniform(0.58, 0.8)
        for ch, (cx, cy, cw, chh) in zip(text, cells, strict=False):
            size = chh * base
            g = self.glyph(ch, size)
            for _ in range(4):
                gh, gw = g.mask.shape
                if gw <= 0.82 * cw and gh <= 0.86 * chh:
                    break
                size *= min(0.82 * cw / gw, 0.86 * chh / gh, 0.95)
                g = self.glyph(ch, size)
            gh, gw = g.mask.shape
            mx = cx + cw / 2 + rng.uniform(-0.07, 0.07) * cw
            my = cy + chh / 2 + rng.uniform(-0.06, 0.06) * chh
            x0 = int(round(np.clip(mx - gw / 2, cx + 1, cx + cw - gw - 1)))
            y0 = int(round(np.clip(my - gh / 2, cy + 1, cy + chh - gh - 1)))
            mask, dx = shear(g.mask, self.style.slant)  # after the fitting: same draws with or without
            ink.paste(mask, int(round(x0 + dx)), y0)

    # -- marks -----------------------------------------------------------------------------------

    def _thick(self) -> int:
        return max(2, int(round(self.style.pen_px * self.rng.uniform(0.55, 0.8))))

    def circle(self, ink: Ink, box: tuple[float, float, float, float]) -> None:
        """A hand-drawn ○ around the centre of box: imperfect, sometimes not closed or overlapping."""
        rng = self.rng
        x, y, w, h = box
        cx, cy = x + w / 2 + rng.uniform(-0.05, 0.05) * w, y + h / 2 + rng.uniform(-0.05, 0.05) * h
        rx, ry = w * rng.uniform(0.36, 0.46), h * rng.uniform(0.33, 0.42)
        tilt = math.radians(rng.uniform(-12, 12))
        t0 = rng.uniform(0, 2 * math.pi)
        sweep = 2 * math.pi * rng.uniform(0.88, 1.12)
        a1, a2 = rng.uniform(0, 0.06), rng.uniform(0, 0.04)
        p1, p2 = rng.uniform(0, 2 * math.pi, 2)
        t = t0 + np.linspace(0, sweep, 90)
        r = (
            1
            + a1 * np.sin(t + p1)
            + a2 * np.sin(2 * t + p2)
            + np.linspace(0, rng.uniform(-0.08, 0.08), t.size)
        )
        ex, ey = rx * r * np.cos(t), ry * r * np.sin(t)
        px = cx + ex * math.cos(tilt) - ey * math.sin(tilt)
        py = cy + ex * math.sin(tilt) + ey * math.cos(tilt)
        self._polyline(ink, np.stack([px, py], 1), self._thick())

    def _polyline(self, ink: Ink, pts: np.ndarray, thick: int) -> None:
        H, W = ink.a.shape
        pts = np.asarray(pts, np.float64)
        shift = 4
        p = np.round(pts * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
        x0, y0 = int(max(0, pts[:, 0].min() - 2 * thick - 2)), int(max(0, pts[:, 1].min() - 2 * thick - 2))
        x1, y1 = int(min(W, pts[:, 0].max() + 2 * thick + 2)), int(min(H, pts[:, 1].max() + 2 * thick + 2))
        if x0 >= x1 or y0 >= y1:
            return
        layer = np.zeros((y1 - y0, x1 - x0), np.uint8)
        p[..., 0] -= x0 << shift
        p[..., 1] -= y0 << shift
        cv2.polylines(layer, [p], False, 255, thick, cv2.LINE_AA, shift)
        ink.paste(layer, x0, y0)

    def tick(
        self, ink: Ink, box: tuple[float, float, float, float], kind: str | None = None, reach: float = 0.0
    ) -> str:
        """✓, ✗ or a filled blob in a square box; returns the kind drawn. `reach` (a share of the
        box) lets the mark run out of it as hurried writers' do: a ✓'s long arm past the top right
        corner, a ✗'s strokes past its corners (dev set A: arms over the label, ✗s 1 mm out). It
        takes no draws from the hand's stream, so the page's other writing stays as it was."""
        rng = self.rng
        x, y, w, h = box
        kind = kind or str(rng.choice(["check", "cross", "fill"], p=[0.6, 0.25, 0.15]))
        th = self._thick() + 1

        def j(v: float) -> float:
            return v + rng.uniform(-0.05, 0.05)

        if kind == "check":
            a = (x + j(0.2) * w, y + j(0.5) * h)
            b = (x + j(0.42) * w, y + j(0.8) * h)
            c = (x + (j(0.92) + 0.9 * reach) * w, y + (j(0.02) - 1.1 * reach) * h)
            mid = ((b[0] + c[0]) / 2 + rng.uniform(-0.05, 0.05) * w, (b[1] + c[1]) / 2)
            self._polyline(ink, np.array([a, b, mid, c]), th)
        elif kind == "cross":
            lo, hi = 0.2 - 0.6 * reach, 0.8 + 0.6 * reach
            self._polyline(
                ink, np.array([(x + j(lo) * w, y + j(lo) * h), (x + j(hi) * w, y + j(hi) * h)]), th
            )
            self._polyline(
                ink, np.array([(x + j(hi) * w, y + j(lo) * h), (x + j(lo) * w, y + j(hi) * h)]), th
            )
        else:
            cx, cy = x + w / 2, y + h / 2
            t = np.linspace(0, 2 * np.pi, 40)
            r = rng.uniform(0.28, 0.36) * (1 + 0.08 * np.sin(3 * t + rng.uniform(0, 6)))
            pts = np.stack([cx + r * w * np.cos(t), cy + r * h * np.sin(t)], 1)
            H, W = ink.a.shape
            layer = np.zeros((int(h) + 4, int(w) + 4), np.uint8)
            local = np.round((pts - [x - 2, y - 2]) * 16).astype(np.int32)
            cv2.fillPoly(layer, [local], 255, cv2.LINE_AA, 4)
            ink.paste(layer, int(x) - 2, int(y) - 2)
        return kind

    def fill_square(self, ink: Ink, box: tuple[float, float, float, float], rng: np.random.Generator) -> None:
        """The whole square inked: a dense zig-zag hatch over 85–100% of it, as writers fill a small
        □ (dev set A: 26 of 272 marks). Its randomness comes from `rng`, not the hand's stream."""
        x, y, w, h = box
        cover = rng.uniform(0.85, 1.0)
        mx, my = w * (1 - cover) / 2, h * (1 - cover) / 2
        th = max(2, int(round(self.style.pen_px * 0.8)))
        step = th * rng.uniform(0.7, 1.1)
        pts, left, yy = [], True, y + my
        while yy <= y + h - my:
            xa = x + mx + rng.uniform(-0.03, 0.03) * w
            xb = x + w - mx + rng.uniform(-0.03, 0.03) * w
            pts += [(xa, yy), (xb, yy)] if left else [(xb, yy), (xa, yy)]
            left, yy = not left, yy + step
        self._polyline(ink, np.array(pts), th)

    def scribble_out(self, ink: Ink, bbox: tuple[float, float, float, float]) -> None:
        """A mark scribbled out: three to five quick passes back and forth across bbox, each a
        little lower, as a writer blots out a wrong tick together with its label."""
        rng = self.rng
        x0, y0, x1, y1 = bbox
        n = int(rng.integers(3, 6))
        pts = []
        for i in range(n + 1):
            yy = y0 + (y1 - y0) * (i / n) + rng.uniform(-0.06, 0.06) * (y1 - y0)
            xx = (x0 if i % 2 == 0 else x1) + rng.uniform(-0.04, 0.04) * (x1 - x0)
            pts.append((xx, yy))
        self._polyline(ink, np.array(pts), self._thick())

    def strike(self, ink: Ink, bbox: tuple[float, float, float, float]) -> None:
        """Two horizontal lines through the middle of bbox (二重線); `P_TIGHT_STRIKE` of them drawn
        so close that the lines touch (dev set A scan 4's struck 令和8: one bar two pens deep)."""
        rng = self.rng
        x0, y0, x1, y1 = bbox
        hh = y1 - y0
        mid = (y0 + y1) / 2 + rng.uniform(-0.08, 0.08) * hh
        spread = rng.uniform(0.12, 0.2)
        gap = max(4.0, hh * spread)
        th = self._thick()
        # Decided by the spread's own draw (its lowest share), so the hand's stream is unchanged.
        if (spread - 0.12) / 0.08 < P_TIGHT_STRIKE:
            gap = float(th)
        tilt = rng.uniform(-0.02, 0.02) * (x1 - x0)
        for k in (-0.5, 0.5):
            yy = mid + k * gap
            a = (x0 - rng.uniform(1, 6), yy + tilt / 2 + rng.uniform(-1, 1))
            b = (x1 + rng.uniform(1, 6), yy - tilt / 2 + rng.uniform(-1, 1))
            self._polyline(ink, np.array([a, b]), th)

    def signature(self, ink: Ink, text: str, box: tuple[float, float, float, float]) -> None:
        """The name, larger, fast and slanted (sheared), inside box."""
        rng = self.rng
        x, y, w, h = box
        tmp = Ink(int(h) + 2, int(w) + 2)
        saved = (self.style.rot_max, self.style.spacing)
        self.style.rot_max, self.style.spacing = saved[0] * 1.5, saved[1] * rng.uniform(0.72, 0.88)
        try:
            self.write(tmp, text, (0, 0, w * 0.85, h), hfrac=(0.62, 0.82))
        finally:
            self.style.rot_max, self.style.spacing = saved
        shear = math.tan(math.radians(rng.uniform(8, 22)))
        m = np.float32([[1, -shear, shear * h / 2], [0, 1, 0]])
        sheared = cv2.warpAffine(tmp.a, m, (tmp.a.shape[1], tmp.a.shape[0]), flags=cv2.INTER_LINEAR)
        if rng.random() < 0.35:  # a flourish under the name
            ys, xs = np.nonzero(sheared)
            if len(xs):
                yb = min(h - 3, ys.max() + rng.uniform(1, 4))
                pts = np.array(
                    [(xs.min() + 5, yb), ((xs.min() + xs.max()) / 2, yb + 2), (xs.max() + 10, yb - 4)]
                )
                t2 = Ink(*sheared.shape)
                t2.a = sheared
                self._polyline(t2, pts, self._thick())
                sheared = t2.a
        ys, xs = np.nonzero(sheared)
        if len(xs) == 0:
            return
        crop = sheared[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        ch_, cw_ = crop.shape
        ox = x + 2 + rng.uniform(0, max(0.0, w - cw_ - 4) * 0.5)
        oy = y + max(1.0, (h - ch_) / 2 + rng.uniform(-0.1, 0.1) * h)
        oy = min(oy, y + h - ch_ - 1)
        ink.paste(crop, int(round(ox)), int(round(max(y + 1, oy))))
