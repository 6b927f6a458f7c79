"""The page grey on colour scans: light coloured paper, stains and highlighter drop out of it,
ink of every pen and grey pencil stay, red stamps drop as before, grey pages are untouched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.fields.ink import binarize, paper_level
from pipeline.imaging.prepare import to_gray, to_gray_for_identify

PAPER = (240, 244, 246)  # BGR: a slightly warm white
CYAN = (235, 240, 10)  # BGR of a saturated light-cyan blotch (red fully absorbed)
BLACK = (30, 32, 35)
BLUE_PEN = (140, 50, 35)  # BGR of a blue ballpoint: dark in red and green, lighter in blue
RED_SEAL = (55, 45, 215)


def _strokes(shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of a few pen strokes (a cross and a bar), 3 px wide."""
    m = np.zeros(shape, np.uint8)
    h, w = shape
    cv2.line(m, (w // 5, h // 5), (4 * w // 5, 4 * h // 5), 1, 3)
    cv2.line(m, (4 * w // 5, h // 5), (w // 5, 4 * h // 5), 1, 3)
    cv2.line(m, (w // 6, h // 2), (5 * w // 6, h // 2), 1, 3)
    return m.astype(bool)


def _page(paper: tuple[int, int, int], shape: tuple[int, int] = (120, 200)) -> np.ndarray:
    return np.full((*shape, 3), paper, np.uint8)


def _multiply(img: np.ndarray, where: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Colour printed over `img` at `where`, as ink or a tint on paper: transmittances multiply."""
    out = img.astype(np.float32)
    out[where] *= np.array(colour, np.float32) / 255.0
    return out.astype(np.uint8)


def _blotches(shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.circle(m, (50, 40), 45, 1, -1)
    cv2.ellipse(m, (150, 90), (60, 30), 20, 0, 360, 1, -1)
    return m.astype(bool)


@pytest.mark.parametrize("pen", [BLACK, BLUE_PEN], ids=["black", "blue"])
def test_strokes_over_a_cyan_blotch_are_the_only_ink(pen: tuple[int, int, int]) -> None:
    strokes = _strokes((120, 200))
    img = _multiply(_multiply(_page(PAPER), _blotches((120, 200)), CYAN), strokes, pen)
    ink = binarize(to_gray(img))
    assert np.array_equal(ink, strokes)


def test_the_red_channel_alone_would_take_the_blotch_for_ink() -> None:
    # Why `to_gray` is not the red channel: the stain there is as dark as the pen.
    img = _multiply(_page(PAPER), _blotches((120, 200)), CYAN)
    red = img[..., 2]
    assert (binarize(red) & _blotches((120, 200))).mean() > 0.2


def test_blue_pen_on_pink_paper_stays_dark_and_the_paper_light() -> None:
    strokes = _strokes((120, 200))
    img = _multiply(_page((225, 215, 252)), strokes, BLUE_PEN)  # pink paper (BGR)
    gray = to_gray(img)
    assert paper_level(gray) > 200
    assert gray[strokes].max() < 80
    assert np.array_equal(binarize(gray), strokes)


@pytest.mark.parametrize(
    "tint",
    [(120, 250, 170), (235, 225, 160), (130, 250, 250), (235, 200, 250)],
    ids=["green", "blue", "yellow", "pink"],
)
def test_highlighter_over_writing_leaves_the_writing_only(tint: tuple[int, int, int]) -> None:
    strokes = _strokes((120, 200))
    band = np.zeros((120, 200), bool)
    band[40:80, :] = True  # a highlighter stroke across the middle of the box
    img = _multiply(_multiply(_page(PAPER), band, tint), strokes, BLACK)
    assert np.array_equal(binarize(to_gray(img)), strokes)


def test_a_red_seal_still_drops_out_and_grey_pencil_stays() -> None:
    seal, pencil = np.zeros((120, 200), bool), np.zeros((120, 200), bool)
    seal[20:60, 20:60] = True
    pencil[80:84, 100:180] = True
    img = _multiply(_multiply(_page(PAPER), seal, RED_SEAL), pencil, (110, 110, 110))
    gray = to_gray(img)
    assert gray[seal].min() > 200
    assert abs(int(gray[pencil].mean()) - int(img[pencil][:, 2].mean())) <= 1
    assert np.array_equal(binarize(gray), pencil)


def test_a_grey_page_is_unchanged() -> None:
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(to_gray(bgr), grey)
    assert np.array_equal(to_gray(grey), grey)
    assert np.array_equal(to_gray_for_identify(bgr), grey)
    bgra = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)
    assert np.array_equal(to_gray(bgra), grey)


def test_a_blue_pen_on_white_paper_reads_as_its_red_channel() -> None:
    # Its strokes are a little lighter in green than in red: under the margin, so they keep the
    # darkness they were read with before colour was taken into account.
    strokes = _strokes((120, 200))
    img = cv2.GaussianBlur(_multiply(_page(PAPER), strokes, (150, 52, 36)), (0, 0), 0.8)
    assert np.array_equal(to_gray(img), img[..., 2])
