"""Millimetre boxes on the template to pixel boxes on the aligned page."""

from __future__ import annotations

PxBox = tuple[int, int, int, int]  # x, y, w, h


def mm_to_px(mm: float, dpi: float) -> int:
    """A length in millimetres as whole pixels at `dpi`."""
    return round(mm * dpi / 25.4)


def mm_box_to_px(box: tuple[float, float, float, float], dpi: float, inset_mm: float = 0.0) -> PxBox:
    s = dpi / 25.4
    x, y, w, h = box
    x, y, w, h = x + inset_mm, y + inset_mm, w - 2 * inset_mm, h - 2 * inset_mm
    return round(x * s), round(y * s), max(1, round(w * s)), max(1, round(h * s))


def shift(box: PxBox, dx: int, dy: int) -> PxBox:
    return box[0] + dx, box[1] + dy, box[2], box[3]


def grow(box: PxBox, px: int, limit: tuple[int, int]) -> PxBox:
    """Grow a box by `px` on every side, clipped to an image of size (w, h)."""
    x0, y0 = max(0, box[0] - px), max(0, box[1] - px)
    x1, y1 = min(limit[0], box[0] + box[2] + px), min(limit[1], box[1] + box[3] + px)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)
