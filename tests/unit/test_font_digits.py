"""Writers whose digits are a Latin handwriting font's (`Style.digit_font`, samples/handwriting.py):
every font of both sets draws every digit at the height an MNIST digit would have, a font writer
takes the same draws from the page's stream, and a generated page says whose digits it carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from samples.generate import Options, _template, make_page
from samples.handwriting import DIGIT_FONT_SETS, Hand, Style, digit_font_paths, stroke_width

ALL_FONTS = [p for s in DIGIT_FONT_SETS.values() for p in s]


def test_train_and_holdout_digit_fonts_are_apart_and_installed() -> None:
    assert not set(DIGIT_FONT_SETS["train"]) & set(DIGIT_FONT_SETS["holdout"])
    for which in DIGIT_FONT_SETS:
        assert digit_font_paths(which) == DIGIT_FONT_SETS[which]  # raises with the apt hint if not


@pytest.mark.parametrize("font", ALL_FONTS, ids=[Path(p).stem for p in ALL_FONTS])
def test_every_digit_font_draws_every_digit_as_tall_as_asked(font: str) -> None:
    style = Style(p_mnist=1.0, digit_scale=0.8, pen_px=4.0, digit_font=font)
    hand = Hand(np.random.default_rng(1), "train", "seto", style)
    for d in range(10):
        g = hand.font_digit_glyph(d, 50.0, 0.0)
        h, w = g.mask.shape
        assert 0.8 * 50 * 0.9 <= h <= 0.8 * 50 * 1.1 + 2, (d, g.mask.shape)
        assert w >= 2 and int((g.mask > 128).sum()) > 30, d
        assert g.src == f"font-digit:{Path(font).stem}"


@pytest.mark.parametrize("font", ["Kristi", "femkeklaver", "ComicNeue-Light"])
def test_a_thin_font_is_written_with_the_writers_pen(font: str) -> None:
    # These fonts' strokes are 2 px at digit size, half a 300 dpi ballpoint's line.
    path = next(p for p in ALL_FONTS if font in p)
    hand = Hand(np.random.default_rng(1), "train", "seto", Style(pen_px=5.0, digit_font=path))
    widths = [stroke_width(hand.font_digit_glyph(d, 40.0, 0.0).mask > 127) for d in range(10)]
    assert float(np.median(widths)) >= 0.8 * 5.0


def test_a_font_writer_takes_the_same_draws_from_the_page_stream() -> None:
    # So the rest of a page (the kanji, the marks, the scan) is what it was for an MNIST writer.
    plain, fonted = Style(p_mnist=1.0), Style(p_mnist=1.0, digit_font=DIGIT_FONT_SETS["train"][0])
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    g1 = Hand(r1, "train", "seto", plain).glyph("4", 40.0)
    g2 = Hand(r2, "train", "seto", fonted).glyph("4", 40.0)
    assert g1.src.startswith("mnist:") and g2.src.startswith("font-digit:")
    assert r1.random() == r2.random()


def test_a_font_writer_writes_every_digit_in_the_font() -> None:
    # A writer keeps one hand: not the 8 in ten MNIST digits and two in the kanji font's shapes.
    hand = Hand(np.random.default_rng(4), "train", "seto", Style(digit_font=DIGIT_FONT_SETS["train"][1]))
    assert all(hand.glyph(str(d % 10), 40.0).src.startswith("font-digit:") for d in range(30))


@pytest.mark.parametrize("fonts", ["train", "holdout"])
def test_a_generated_page_names_its_writers_digit_font(fonts: str) -> None:
    opts = Options(seed=5, fonts=fonts)
    page = make_page(_template(opts), opts, 1, 0, "mixed", False, force={"p_font_digits": 1.0})
    names = {Path(p).name for p in DIGIT_FONT_SETS[fonts]}
    assert page.gt["digits"]["source"] == "font" and page.gt["digits"]["font"] in names
    page = make_page(_template(opts), opts, 1, 0, "mixed", False, force={"p_font_digits": 0.0})
    assert page.gt["digits"]["source"] in ("mnist", "stroke")
