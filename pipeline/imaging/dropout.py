"""Form dropout: remove the printed form from an aligned page so only the applicant's ink is left.

The blank (at the same resolution as the aligned page) marks where the print is; those pixels,
grown by a small margin to absorb alignment error, are painted white. What remains is handwriting,
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


def drop_form(aligned_gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The aligned page with the print painted white."""
    out = aligned_gray.copy()
    out[mask] = 255
    return out
