"""An option named by its printed word only gets the printed square just left of it from the blank
(pipeline/fields/options.py `square_beside`), so a tick in the square counts; a word printed to be
circled, with no square, gets none."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields.options import square_beside

DPI = 300
K = DPI / 25.4


def px(mm: float) -> int:
    return round(mm * K)


def blank_with(square: bool, filled: bool = False) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """□父 (a 3.6 mm square 1 mm before a 3.4 mm word) on a strip of paper; the word's box."""
    img = np.full((px(20), px(60)), 255, np.uint8)
    if square:
        x, y = px(20), px(8)
        cv2.rectangle(img, (x, y), (x + px(3.6), y + px(3.6)), 0, -1 if filled else 3)
    word = (px(24.6), px(8.1), px(3.4), px(3.4))
    img[word[1] : word[1] + word[3], word[0] : word[0] + word[2]][::4, :] = 0  # a glyph's strokes
    return img, word


def test_the_square_before_a_word_is_found() -> None:
    img, word = blank_with(square=True)
    found = square_beside(img, word, DPI)
    assert found is not None
    x, y, w, h = found
    # (a 3 px outline reaches a pixel or two past its corners)
    assert abs(x - px(20)) <= 3 and abs(y - px(8)) <= 3 and abs(w - px(3.6)) <= 6 and abs(h - px(3.6)) <= 6


def test_a_word_to_circle_has_no_square() -> None:
    img, word = blank_with(square=False)
    assert square_beside(img, word, DPI) is None
    filled, word = blank_with(square=True, filled=True)  # a solid block is print, not a square to tick
    assert square_beside(filled, word, DPI) is None
