"""Handwritten digits drawn as pen strokes, in the styles Japanese writers use and MNIST lacks.

MNIST's digits are American schoolbook shapes; the people who fill in our forms write an open-topped
4 (like "ч"), a 2 with a loop at its foot, a 7 with a hook or a crossbar, a 1 with a flag and a base,
a 9 with a straight stem or an open loop, an 8 as two stacked circles, a 6 or a 0 open at the top, a
5 whose bar is a stroke of its own, a flat-topped 3. A `DigitStyle` is one writer's habits: which
variant of each digit they write, and their proportions (width, where the waist of an 8 or a 3
sits), their pen weight and how loosely they write. `draw` draws one digit of a style as polylines
through jittered key points (Catmull-Rom smoothed), antialiased, as a tight uint8 mask.

Every draw comes from the generator passed in, so a page (or the digit classifier's recipe, which
uses a seed range of its own) is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

Stroke = np.ndarray  # (n, 2) points in the unit box: x right 0..1, y down 0..1

# Variants per digit, with how often a writer uses each (Japanese handwriting, as the dev set's
# writers show: open 4s and looped 2s are common, a flagged 1 is the norm).
VARIANTS: dict[int, dict[str, float]] = {
    0: {"oval": 0.6, "open_top": 0.25, "narrow": 0.15},
    1: {"plain": 0.4, "flag": 0.4, "flag_base": 0.2},
    2: {"plain": 0.45, "loop": 0.25, "z": 0.12, "big_loop": 0.18},
    3: {"round": 0.45, "flat_top": 0.25, "flat_closed": 0.15, "curl": 0.15},
    4: {"closed": 0.4, "open": 0.27, "open_curved": 0.1, "open_tick": 0.15, "apart": 0.08},
    # "wide" (a long top bar: dev set A's 令和7年5月) sits inside another variant's old share,
    # as does the curled 6, so every other writer's 5 and 7 are drawn as before.
    5: {"detached": 0.62, "wide": 0.08, "joined": 0.3},
    # "curled" sits inside round's old share, so every other writer's 6 is drawn as before.
    6: {"round": 0.37, "curled": 0.08, "open_top": 0.27, "straight": 0.18, "lifted": 0.1},
    7: {"plain": 0.42, "wide": 0.08, "hook": 0.25, "crossbar": 0.15, "curved": 0.1},
    8: {"figure": 0.6, "two_circles": 0.3, "x_cross": 0.1},
    9: {"curved": 0.37, "straight": 0.4, "open_loop": 0.13, "small_loop": 0.1},
}
# The variants the digit classifier is trained on (tools/train_digits draws its writers from
# these). The rest are shapes that both readers took for another digit on scanned forms: a 3
# whose tail curls back across its diagonal (a closed lower loop under a flag) or into a small
# loop, a 2 with a loop a third of its height (all read as 8), an open 4 drawn as a tick and a
# stem (read as 1 once a fax loses the tick), a 6 whose pen lifted between its stem and its loop
# (read 10) or whose stem curls at its foot into a loop beside it (read 10 too: dev set A's
# 平成6), a 9 whose loop is a small knot on a long stem (filled in by the scan: read 1). They
# are kept out of training on purpose: the pages
# carry them so the benchmarks measure how the readers and the doubt (`passes.doubts`) do on
# shapes the classifier never saw, as with a new city's writers. (A classifier retrained on them
# read them better, 71% -> 86% of closed-loop 3s, but accepted more wrong digits elsewhere.) An
# open 4 whose bar stops short of its stem is two strokes that do not touch: one 4 to the line
# recogniser, two pieces side by side to the ink (`coverage.restore_digits` must not take it for
# a skipped digit).
TRAINED_VARIANTS: dict[int, dict[str, float]] = {
    **VARIANTS,
    5: {"detached": 0.7, "joined": 0.3},
    7: {"plain": 0.5, "hook": 0.25, "crossbar": 0.15, "curved": 0.1},
    2: {"plain": 0.5, "loop": 0.35, "z": 0.15},
    3: {"round": 0.6, "flat_top": 0.4},
    4: {"closed": 0.45, "open": 0.45, "open_curved": 0.1},
    6: {"round": 0.5, "open_top": 0.3, "straight": 0.2},
    9: {"curved": 0.4, "straight": 0.45, "open_loop": 0.15},
}


@dataclass
class DigitStyle:
    """One writer's way of writing digits."""

    variants: dict[int, str] = field(default_factory=dict)
    width: float = 0.62  # width / height of a digit
    waist: float = 0.45  # where an 8's, a 3's or a 9's upper part ends, as a share of the height
    loop: float = 1.0  # size of the loops of 6, 9 (relative)
    jitter: float = 0.035  # per-point wobble, as a share of the height
    pen: float = 1.0  # pen width relative to the page's pen
    roundness: float = 1.0  # 1 = circles; less = squarer, flatter curves


def writer(rng: np.random.Generator, table: dict[int, dict[str, float]] | None = None) -> DigitStyle:
    """A writer's digit habits, drawn from `rng`; variants from `table` (default VARIANTS)."""
    table = table or VARIANTS
    variants = {}
    for d in range(10):
        names = list(table[d])
        p = np.array([table[d][n] for n in names])
        variants[d] = names[int(rng.choice(len(names), p=p / p.sum()))]
    return DigitStyle(
        variants=variants,
        width=float(rng.uniform(0.48, 0.78)),
        waist=float(rng.uniform(0.38, 0.52)),
        loop=float(rng.uniform(0.8, 1.15)),
        jitter=float(rng.uniform(0.015, 0.05)),
        pen=float(rng.uniform(0.8, 1.25)),
        roundness=float(rng.uniform(0.75, 1.1)),
    )


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 0) -> Stroke:
    """Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = bottom: y runs down)."""
    n = n or max(6, int(abs(a1 - a0) / 12))
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _pts(*xy: tuple[float, float]) -> Stroke:
    return np.array(xy, np.float64)


def _cat(*parts: Stroke) -> Stroke:
    return np.concatenate(parts, 0)


def strokes(digit: int, variant: str, s: DigitStyle) -> list[Stroke]:
    """The key points of a digit's strokes in the unit box (before jitter and smoothing)."""
    w = s.waist
    r = s.roundness
    if digit == 0:
        if variant == "open_top":
            return [_arc(0.5, 0.5, 0.45, 0.5, -70, 245)]
        rx = 0.32 if variant == "narrow" else 0.48
        return [_arc(0.5, 0.5, rx, 0.5, -100, 275)]
    if digit == 1:
        stem = _pts((0.55, 0.0), (0.52, 1.0))
        if variant == "plain":
            return [stem]
        flag = _cat(_pts((0.2, 0.25)), stem)
        if variant == "flag":
            return [flag]
        return [flag, _pts((0.2, 1.0), (0.85, 0.98))]
    if digit == 2:
        top = _arc(0.5, 0.28, 0.45, 0.28 * r, 200, 360)
        if variant == "z":
            return [_cat(_pts((0.05, 0.05), (0.9, 0.03)), _pts((0.08, 0.97), (0.98, 0.98)))]
        if variant == "loop":
            return [
                _cat(
                    top,
                    _pts((0.72, 0.55), (0.3, 0.88)),
                    _arc(0.2, 0.86, 0.12, 0.1, 0, 290),
                    _pts((1.0, 0.96)),
                )
            ]
        if variant == "big_loop":  # "∂"-like: the stroke comes down into a loop as tall as a third of
            # the digit before running out to the right (read as an 8 when the loop closes)
            return [
                _cat(
                    top,
                    _pts((0.62, 0.58)),
                    _arc(0.32, 0.8, 0.26, 0.19, -60, 250),
                    _pts((0.75, 0.97), (1.0, 0.95)),
                )
            ]
        return [_cat(top, _pts((0.6, 0.62), (0.05, 0.98), (0.98, 0.97)))]
    if digit == 3:
        low = _arc(0.45, w + (1 - w) / 2, 0.5, (1 - w) / 2, -90, 150)
        if variant == "flat_top":
            return [_cat(_pts((0.05, 0.02), (0.9, 0.02), (0.35, w)), low)]
        if variant == "flat_closed":  # "ʒ" whose tail curls back up across the diagonal: a closed
            # lower loop under a flag, which a classifier that never saw it reads as 8 (or 6)
            tail = _arc(0.45, w + (1 - w) / 2, 0.5, (1 - w) / 2, -90, 215)
            return [_cat(_pts((0.05, 0.02), (0.9, 0.02), (0.4, w)), tail, _pts((0.45, w + 0.04)))]
        up = _arc(0.45, w / 2, 0.42, w / 2, 200, 450)
        if variant == "curl":  # a round 3 whose tail curls into a small loop at the lower left
            curl = _arc(0.22, 0.8, 0.14, 0.12, 120, 400)
            return [_cat(up, _arc(0.45, w + (1 - w) / 2, 0.5, (1 - w) / 2, -90, 120), curl[1:])]
        return [_cat(up, low)]
    if digit == 4:
        bar_y = 0.62 + 0.08 * (w - 0.45)
        if variant == "closed":
            return [_pts((0.62, 0.0), (0.0, bar_y), (1.0, bar_y)), _pts((0.7, 0.15), (0.7, 1.0))]
        if variant == "open":  # "ч": a short left stroke, the bar, a full stem
            return [_pts((0.08, 0.02), (0.05, bar_y), (1.0, bar_y)), _pts((0.72, 0.0), (0.7, 1.0))]
        if variant == "apart":  # the slant and the bar stop short of the stem: two strokes apart
            return [_pts((0.5, 0.0), (0.0, bar_y), (0.58, bar_y)), _pts((0.8, 0.05), (0.78, 1.0))]
        if variant == "open_tick":  # "√": a short stroke down to the bar, which climbs to the stem and
            # stops there; a light pen or a fax loses the tick and leaves a 1
            return [
                _pts((0.05, 0.15), (0.22, bar_y), (0.72, bar_y - 0.22)),
                _pts((0.74, 0.0), (0.7, 1.0)),
            ]
        return [
            _cat(
                _pts((0.1, 0.02)), _arc(0.45, bar_y - 0.15, 0.38, 0.2, 180, 90)[1:], _pts((1.0, bar_y - 0.1))
            ),
            _pts((0.75, 0.0), (0.72, 1.0)),
        ]
    if digit == 5:
        belly = _arc(0.45, 0.66, 0.48 * r, 0.33, -150, 150)
        body = _cat(_pts((0.15, 0.03), (0.1, 0.45)), belly)
        if variant == "wide":  # a narrow body under a top bar that runs far right (drawn WIDE)
            narrow = _cat(_pts((0.1, 0.03), (0.06, 0.45)), _arc(0.22, 0.66, 0.19 * r, 0.33, -150, 150))
            return [narrow, _pts((0.14, 0.03), (0.98, 0.0))]
        if variant == "detached":
            return [body, _pts((0.17, 0.03), (0.92, 0.0))]
        return [_cat(_pts((0.92, 0.0), (0.15, 0.03)), body[1:])]
    if digit == 6:
        lr = 0.3 * s.loop
        cy = 1.0 - lr
        loop = _arc(0.5, cy, 0.45, lr, 180, 540)
        if variant == "straight":
            return [_cat(_pts((0.45, 0.0), (0.08, cy)), loop)]
        if variant == "lifted":  # the pen leaves the paper after the stem and draws the loop
            # beside it: a stroke and a ring with a gap between them, as a 1 and a 0 are
            return [_pts((0.16, 0.0), (0.06, 0.45), (0.03, cy + 0.1)), _arc(0.7, cy, 0.3, lr, 0, 370)]
        if variant == "curled":  # the stem curls at its foot into a loop drawn beside it, in
            # one stroke: a 1 and a small 0 that touch (dev set A: 平成6 read 平成10)
            foot = _pts((0.2, 0.0), (0.09, 0.5), (0.12, 0.88), (0.3, 1.0))
            return [_cat(foot, _arc(0.66, cy, 0.3, lr, 140, 500))]
        if variant == "open_top":  # like "L" with a loop: the stem comes down almost straight
            return [_cat(_pts((0.15, 0.0), (0.07, cy - 0.1)), _arc(0.5, cy, 0.43, lr, 180, 500))]
        return [_cat(_arc(0.85, 0.65, 0.8, 0.65, -110, -180), _arc(0.5, cy, 0.45, lr, 180, 530))]
    if digit == 7:
        bar = _pts((0.02, 0.02), (0.98, 0.02))
        if variant == "curved":
            return [_cat(bar, _arc(0.98, 1.0, 0.6, 0.98, -90, -180))]
        stem = _pts((0.98, 0.02), (0.6, 0.5), (0.35, 1.0))
        if variant == "hook":
            return [_cat(_pts((0.04, 0.25)), bar, stem[1:])]
        if variant == "crossbar":
            return [_cat(bar, stem[1:]), _pts((0.3, 0.52), (0.9, 0.5))]
        if variant == "wide":  # a long bar, the stem steep under its right end (drawn WIDE)
            return [_cat(bar, _pts((0.8, 0.45), (0.55, 1.0)))]
        return [_cat(bar, stem[1:])]
    if digit == 8:
        top_r, low_r = w / 2, (1 - w) / 2
        if variant == "two_circles":
            return [_arc(0.5, w / 2, 0.36, top_r, -90, 280), _arc(0.5, w + low_r, 0.46, low_r, -90, 280)]
        if variant == "x_cross":  # a left-leaning S, then a stroke closing it
            return [
                _cat(
                    _arc(0.5, w / 2, 0.38, top_r, 0, -200),
                    _arc(0.5, w + low_r, 0.46, low_r, -90, 90),
                    _pts((0.3, w)),
                ),
                _pts((0.1, w + low_r), (0.5, w), (0.85, w / 2)),
            ]
        up = _arc(0.5, w / 2, 0.38, top_r, -20, -250)  # S-shaped over the top
        low = _arc(0.5, w + low_r, 0.46, low_r, -90, 270)
        return [_cat(up, low[::-1][:1], low, _pts((0.88, w / 2 * 0.8)))]
    if digit == 9:
        lr = 0.5 * w * s.loop
        loop_cx, loop_cy = 0.45, lr
        if variant == "open_loop":  # "ч"-like: a cup and a stem, the loop left open at its top
            # Unlike an open 4 the cup is round and high and its bar does not cross the stem.
            cup = _arc(0.5, lr * 0.7, 0.36, lr, 180, 0)
            return [_cat(_pts((0.15, 0.04)), cup, _pts((0.86, 0.02), (0.85, 1.0)))]
        if variant == "small_loop":  # a knot at the head of a long stem: a scan fills it in
            knot = _arc(0.55, 0.12, 0.3, 0.12, 0, -360)
            return [_cat(knot, _pts((0.82, 0.14), (0.75, 1.0)))]
        loop = _arc(loop_cx, loop_cy, 0.42, lr, 0, -360)
        if variant == "straight":
            return [_cat(loop, _pts((0.88, lr), (0.85, 1.0)))]
        return [_cat(loop, _arc(0.35, lr, 0.52, 1 - lr, 0, 100))]
    raise ValueError(f"not a digit: {digit}")


def _smooth(p: Stroke, per: int = 6) -> Stroke:
    """Catmull-Rom through the points (a pen's curve rather than a polygon)."""
    if len(p) < 3:
        return p
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, per, endpoint=False)
    basis = 0.5 * np.stack(  # weights of p0..p3 at each t (Catmull-Rom)
        [-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -(t**2) + t**3], 1
    )
    idx = np.arange(len(ext) - 3)[:, None] + np.arange(4)[None, :]  # segments' four points
    seg = np.einsum("tk,skd->std", basis, ext[idx])  # (segments, per, 2)
    return np.vstack([seg.reshape(-1, 2), p[-1:]])


def _wobble(n: int, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A slow (n, 2) displacement along a stroke: a shift of the whole stroke plus noise smoothed
    over a third of its points, so curves wobble as a hand does, not as a saw does."""
    noise = rng.normal(0, amount, (n, 2))
    win = max(1, n // 3)
    if win > 1:
        kernel = np.ones(win) / win
        padded = np.pad(noise, ((win, win), (0, 0)), mode="edge")
        noise = np.stack([np.convolve(padded[:, i], kernel, "same")[win:-win] for i in range(2)], 1)
        noise *= math.sqrt(win)  # keep the amplitude of the unsmoothed noise
    return noise + rng.normal(0, amount * 0.5, 2)


WIDE = 1.9  # how much wider than the writer's other digits a "wide" 5 or 7 is drawn


def draw(digit: int, style: DigitStyle, height: float, pen_px: float, rng: np.random.Generator) -> np.ndarray:
    """One digit `height` px tall in `style`, written with a `pen_px` wide pen: a tight uint8 mask
    (255 = ink). The shape wobbles per call (a writer never writes the same 4 twice)."""
    variant = style.variants.get(digit) or next(iter(VARIANTS[digit]))
    width = style.width * (0.45 if digit == 1 and variant == "plain" else WIDE if variant == "wide" else 1.0)
    sx = height * width * float(rng.uniform(0.92, 1.08))
    sy = height
    # Drawn at 4× (2× when large) and shrunk: an antialiased line of fractional width, as a pen gives.
    k = 4 if height < 32 else 2
    pen = max(1.0, pen_px * style.pen * float(rng.uniform(0.9, 1.1)))
    pad = int(math.ceil(pen)) + 2
    out_w, out_h = int(math.ceil(sx)) + 2 * pad, int(math.ceil(sy)) + 2 * pad
    canvas = np.zeros((out_h * k, out_w * k), np.uint8)
    thick = max(1, int(round(pen * k)))
    for st in strokes(digit, variant, style):
        p = _smooth(st + _wobble(len(st), style.jitter, rng) * [1.0 / max(width, 0.3), 1.0])
        xy = np.stack([pad + p[:, 0] * sx, pad + p[:, 1] * sy], 1) * k
        pts = np.round(xy * 4).astype(np.int32).reshape(-1, 1, 2)  # 2 bits of sub-pixel shift
        cv2.polylines(canvas, [pts], False, 255, thick, cv2.LINE_AA, 2)
    mask = cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(mask > 20)
    if len(ys) == 0:
        return mask
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
