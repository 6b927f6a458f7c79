"""Generator: a pen's line keeps its width in small writing (furigana rows). Font strokes shrink
with the font, so a glyph drawn small is thickened to a floor set by the writer's pen, within its
own box (the page's layout and random draws are unchanged)."""

from __future__ import annotations

import numpy as np

from samples.handwriting import FONT_SETS, Hand, Style, stroke_share, with_pen_floor


def _rows(mask: np.ndarray) -> int:
    return int((mask > 127).any(axis=1).sum())


def test_hairline_is_thickened_in_place() -> None:
    bar = np.zeros((9, 30), np.uint8)
    bar[4, 5:25] = 255  # a 1 px line
    out = with_pen_floor(bar, 1.0, 4.0)
    assert out.shape == bar.shape
    assert _rows(out) >= 2 and out[4, 15] == 255


def test_stroke_already_as_wide_as_the_floor_is_unchanged() -> None:
    bar = np.zeros((9, 30), np.uint8)
    bar[3:6, 5:25] = 255
    assert with_pen_floor(bar, 3.0, 4.0) is bar


def test_small_klee_glyph_gets_pen_width_and_large_one_keeps_its_own() -> None:
    klee = FONT_SETS["holdout"]["klee"]
    assert 0.02 < stroke_share(klee) < 0.06  # Klee's strokes: a few percent of its size

    def glyph(size: int, pen: float):
        return Hand(np.random.default_rng(0), "holdout", "klee", Style(pen_px=pen)).font_glyph(
            "ト", size, 0.0
        )

    small, plain = glyph(28, 4.5), glyph(28, 0.0)  # furigana size at 300 dpi
    assert small.mask.shape == plain.mask.shape and (small.ox, small.oy) == (plain.ox, plain.oy)
    assert int((small.mask > 127).sum()) > 1.5 * int((plain.mask > 127).sum())
    assert np.array_equal(glyph(120, 4.5).mask, glyph(120, 0.0).mask)
