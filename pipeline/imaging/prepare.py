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


def resize_to_width(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """Resize keeping aspect; returns the image and the scale applied (new / old)."""
    scale = width / gray.shape[1]
    if abs(scale - 1) < 1e-3:
        return gray, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp), scale


def ink_ratio(gray: np.ndarray, threshold: int = 160) -> float:
    """Share of dark pixels: a blank page or an empty box scores near zero."""
    if gray.size == 0:
        return 0.0
    return float(np.count_nonzero(gray < threshold)) / gray.size
