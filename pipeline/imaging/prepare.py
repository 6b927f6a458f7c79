"""Turn a decoded page into the single grey channel every later stage reads.

Each pixel takes its red channel, or its green one where green is clearly lighter, rather than a
luminance mix. Red 受付印 stamps, 訂正印 and red printed guides are light in red; paper tints,
blotches and highlighter of cyan, blue or green are light in green (a cyan stain is black in
red); pink and yellow paper are light in both. Ink of every pen is dark in both: black, grey
pencil, and blue or blue-black ballpoint, which absorbs red and green and passes only blue (so
blue, the channel a cyan stain leaves lightest, is not used: it would wash out blue ink).
"""

from __future__ import annotations

import cv2
import numpy as np

# Green is used where it is clearly lighter than red: not at all up to `GREEN_MARGIN` levels
# lighter, fully from `GREEN_RAMP` levels more, blending in between. A blue ballpoint's strokes are
# a little lighter in green than in red (10-25 levels; their blurred edges less), a stain,
# tinted paper or highlighter 60 to 240, its thin blurred lines (a guilloche) less. Without the
# margin a blue pen's writing lightens and some of its readings change on pages that hold no
# colour but the ink. (A ramp of 12 instead, which greys fine coloured lines less, read no better
# on the generator's colour pages.)
GREEN_MARGIN = 24
GREEN_RAMP = 24


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grey page from a BGR or grey image: per pixel its red channel, or its green one where
    green is clearly lighter (`GREEN_MARGIN`), so red stamps and light coloured paper, stains and
    highlighter drop out while ink of any pen stays dark. A grey page comes out as its red channel."""
    return gray_and_red(image)[0]


def gray_and_red(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`to_gray` of the page, and its red channel (which `to_gray_for_identify` takes too)."""
    if image.ndim == 2:
        return image, image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    red, green = cv2.extractChannel(image, 2), cv2.extractChannel(image, 1)
    # red + k (green - red - margin), saturated to 0-255, with k such that it reaches green at
    # margin + ramp: k green + (1 - k) red - k margin
    k = (GREEN_MARGIN + GREEN_RAMP) / GREEN_RAMP
    blend = cv2.addWeighted(green, k, red, 1.0 - k, -k * GREEN_MARGIN)
    # In place: a whole page fewer to allocate (and fault in) twice over.
    cv2.min(green, blend, dst=blend)
    return cv2.max(red, blend, dst=blend), red


COLOURED_SPREAD = 40  # channel spread (max - min) of a pixel that is coloured, not grey
COLOURED_SHARE = 0.05  # share of such pixels that makes a page "coloured" (a stain, tinted paper)


def coloured_share(image: np.ndarray) -> float:
    """Share of a colour page's pixels that are strongly coloured (0 for a grey page)."""
    if image.ndim == 2:
        return 0.0
    small = np.ascontiguousarray(image[::8, ::8, :3])
    b, g, r = cv2.split(small)
    spread = cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    return float(np.count_nonzero(spread > COLOURED_SPREAD)) / max(1, spread.size)


def to_gray_for_identify(image: np.ndarray, red: np.ndarray | None = None) -> np.ndarray:
    """The grey page used to find the form: its red channel, except that a page with a coloured
    background (a stain, tinted paper) takes the brightest channel, in which a coloured blotch is
    light and black print stays dark, even under a blue or violet tint that `to_gray` leaves
    grey; only print matters here, so blue ink washing out in blue does no harm. (Other pages
    keep the red channel rather than `to_gray`: a few stray coloured specks would only move
    their alignment by a hair, and their readings with it, for nothing.)"""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if coloured_share(image) < COLOURED_SHARE:
        return cv2.extractChannel(image, 2) if red is None else red  # `red`: from `gray_and_red`
    return image.max(axis=2)


PRINT_SPLIT = 0.5  # of the way from the ink to the paper: lighter is background, for `print_only`


def print_only(gray: np.ndarray) -> np.ndarray:
    """The page's dark print and writing alone, for a second look at which form it is: a light
    pattern or tint printed or spilt over the page (a guilloche on security paper, its lines
    grey in every channel) gives the feature matcher thousands of corners of its own and hides
    the form's. Pixels lighter than `PRINT_SPLIT` of the way from the ink (the darkest 1%) to the
    paper (the median) become paper, the rest ink, softened by a 3-pixel blur so corners are
    found as on a print."""
    if gray.size == 0:
        return gray
    ink, paper = np.percentile(gray, [1, 50])
    split = ink + PRINT_SPLIT * (paper - ink)
    return cv2.GaussianBlur(np.where(gray > split, 255, 0).astype(np.uint8), (3, 3), 0)


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
