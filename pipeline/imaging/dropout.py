"""Form dropout: remove the printed form from an aligned page so only the applicant's ink is left.

The blank (at the same resolution as the aligned page) marks where the print is; those pixels,
grown by a small margin to absorb alignment error, are painted over in the paper's own grey. What remains is handwriting,
ticks, circles and stamps that the red channel did not already remove.
"""

from __future__ import annotations

import cv2
import numpy as np


def print_mask(blank_gray: np.ndarray, grow_px: int = 2, threshold: int = 200) -> np.ndarray:
    """Boolean mask of printed pixels, dilated by `grow_px`."""
    mask = (blank_gray < threshold).astype(np.uint8)
    if grow_px > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
        mask = cv2.dilate(mask, k)
    return mask.astype(bool)


def paper_level(aligned_gray: np.ndarray) -> int:
    """The page's paper grey: its median, since most of a form page is empty paper."""
    return int(np.median(aligned_gray[::4, ::4])) if aligned_gray.size else 255


def drop_form(aligned_gray: np.ndarray, mask: np.ndarray, paper: int = 255) -> np.ndarray:
    """The aligned page with the print painted over in the paper's grey (`paper_level`).

    Painting it white instead would leave a grey or dim scan's empty boxes mostly white, so the
    ink threshold, which follows a crop's background, would take their grey paper for ink."""
    out = aligned_gray.copy()
    out[mask] = paper
    return out
