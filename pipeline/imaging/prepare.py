"""Turn a decoded page into the single grey channel every later stage reads.

The red channel is used rather than a luminance mix: red 受付印 stamps and red printed guides
become nearly white in it, while black and blue-black handwriting stays dark.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grey page from a BGR or grey image; red ink drops out."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return cv2.extractChannel(image, 2)


COLOURED_SPREAD = 40  # channel spread (max - min) of a pixel that is coloured, not grey
COLOURED_SHARE = 0.05  # share of such pixels that makes a page "coloured" (a stain, tinted paper)


def coloured_share(image: np.ndarray) -> float:
    """Share of a colour page's pixels that are strongly coloured (0 for a grey page)."""
    if image.ndim == 2:
        return 0.0
    small = image[::8, ::8, :3].astype(np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return float(np.count_nonzero(spread > COLOURED_SPREAD)) / max(1, spread.size)


def to_gray_for_identify(image: np.ndarray) -> np.ndarray:
    """The grey page used to find the form: as `to_gray`, except that a page with a coloured
    background (a stain, tinted paper) takes the brightest channel, in which a coloured blotch is
    light and black print stays dark. (The red channel alone turns a cyan stain black.)"""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if coloured_share(image) < COLOURED_SHARE:
        return cv2.extractChannel(image, 2)
    return image.max(axis=2)


def resize_to_width(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """Resize keeping aspect; returns the image and the scale applied (new / old)."""
    scale = width / gray.shape[1]
    if abs(scale - 1) < 1e-3:
        return gray, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp), scale


def relative_ink_ratio(gray: np.ndarray, contrast: int = 40) -> float:
    """Share of pixels darker than the page's own paper (its median) by `contrast`: ink on a
    low-contrast scan, whose darkest strokes may never reach a fixed threshold."""
    if gray.size == 0:
        return 0.0
    paper = float(np.median(gray))
    return float(np.count_nonzero(gray < paper - contrast)) / gray.size


def ink_ratio(gray: np.ndarray, threshold: int = 160) -> float:
    """Share of dark pixels: a blank page or an empty box scores near zero."""
    if gray.size == 0:
        return 0.0
    return float(np.count_nonzero(gray < threshold)) / gray.size
