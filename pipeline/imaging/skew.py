"""Estimate the skew of a page from its long printed lines (Hough), for reporting and for
pages that match no template. Pages that match a template are deskewed by alignment itself.
"""

from __future__ import annotations

import cv2
import numpy as np


def estimate_skew(gray: np.ndarray, max_angle: float = 15.0) -> float:
    """Angle in degrees (counter-clockwise positive) that the page's text lines are tilted by."""
    small = gray
    if gray.shape[1] > 1000:
        s = 1000 / gray.shape[1]
        small = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(small, 50, 150)
    lines = cv2.HoughLinesP(
        edges, 1, np.pi / 720, threshold=120, minLineLength=small.shape[1] // 4, maxLineGap=8
    )
    if lines is None:
        return 0.0
    angles = []
    for x1, y1, x2, y2 in lines[:, 0]:
        a = np.degrees(np.arctan2(y1 - y2, x2 - x1))
        if abs(a) <= max_angle:
            angles.append(a)
    return float(np.median(angles)) if angles else 0.0


def rotate(gray: np.ndarray, angle: float, border: int = 255) -> np.ndarray:
    """Rotate by `angle` degrees about the centre, keeping the whole page."""
    if angle % 360 == 0:
        return gray
    if angle % 90 == 0:
        k = int(angle // 90) % 4
        return np.ascontiguousarray(np.rot90(gray, k))
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=border)
