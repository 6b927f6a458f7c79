"""Alignment on a form's ruled lines: the last try for a page whose printed words were lost.

A low-contrast scan sent as a fax, or thresholded by a scanner's 1-bit mode, can lose the form's
light printed words while its table rules and the handwriting survive. The feature matcher then
finds the form only weakly (a few dozen consistent matches where a good page has hundreds), too
few to trust. The rules are long straight lines that survive almost any scan: starting from that
weak fit, the page's rules are registered to the blank's (`cv2.findTransformECC` on the two line
images, blurred), and the page is taken for the form only when the blank's rules then lie on the
page's and the page's on the blank's (`RULE_RECALL`, `RULE_PRECISION`). The layout of the rules
names the form; a page of another document does not draw this form's table.

Hands on an `Alignment` (page pixels → template pixels at work dpi), or None.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from pipeline.forms.align import Alignment, TemplateFeatures, warp

RULE_MM = 8.0  # a printed rule runs at least this far straight
TOLERANCE_MM = 0.6  # a rule counts as found within this of where the blank has it
# Shares of the blank's rule pixels found on the aligned page (recall), and of the page's on the
# blank's (precision), for the page to be this form. Dev set A's 60 scans, aligned by features:
# recall 0.99-1.00, precision 0.97 or more on 57 of them. Sent as faxes whose thresholding lost
# the print, the two pages found only this way: 0.63 / 0.996 (its dotted rules gone too) and
# 0.86 / 0.97. Each of our six forms' blanks registered onto each other's this way: recall at
# most 0.58, precision at most 0.59, never both over 0.45.
RULE_RECALL = 0.5
RULE_PRECISION = 0.85
ECC_SCALE = 0.5  # registered at half the work resolution: the rules are thick enough there
ECC_ITERATIONS = 80


def rule_mask(gray: np.ndarray, dpi: float) -> np.ndarray:
    """The long straight level and upright lines of a page (255 on them, 0 elsewhere)."""
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n = max(5, round(RULE_MM / 25.4 * dpi))
    level = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    upright = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    return cv2.bitwise_or(level, upright)


def agreement(blank_rules: np.ndarray, page_rules: np.ndarray, dpi: float) -> tuple[float, float]:
    """(share of the blank's rule pixels with a page rule within TOLERANCE_MM, share of the page's
    rule pixels with a blank rule within it)."""
    k = 2 * max(1, round(TOLERANCE_MM / 25.4 * dpi)) + 1
    kernel = np.ones((k, k), np.uint8)
    b, p = blank_rules > 0, page_rules > 0
    if not b.any() or not p.any():
        return 0.0, 0.0
    recall = float((cv2.dilate(page_rules, kernel)[b] > 0).mean())
    precision = float((cv2.dilate(blank_rules, kernel)[p] > 0).mean())
    return recall, precision


@lru_cache(maxsize=16)
def _blank_rules(feats: TemplateFeatures) -> np.ndarray:
    """The blank's own rules, found once per form (its features live as long as the process)."""
    return rule_mask(feats.blank_work, feats.work_dpi)


def align_on_rules(gray: np.ndarray, feats: TemplateFeatures, start: Alignment) -> Alignment | None:
    """`start` (a weak feature fit of `gray` to `feats`' form) corrected so the page's ruled lines
    lie on the blank's; None when they cannot be made to (another form, or a fit too far off)."""
    dpi = feats.work_dpi
    blank_rules = _blank_rules(feats)
    if not blank_rules.any():
        return None

    def small(mask: np.ndarray) -> np.ndarray:
        s = cv2.resize(mask, None, fx=ECC_SCALE, fy=ECC_SCALE, interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(s, (0, 0), 2.0).astype(np.float32) / 255.0

    page_rules = rule_mask(warp(gray, start, feats), dpi)
    w = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, ECC_ITERATIONS, 1e-5)
    try:
        _, w = cv2.findTransformECC(
            small(blank_rules), small(page_rules), w, cv2.MOTION_HOMOGRAPHY, criteria, None, 5
        )
    except cv2.error:  # no convergence: the rules do not line up from this start
        return None
    # ECC maps blank points to where the aligned page shows them; undo that after `start`.
    s = np.diag([ECC_SCALE, ECC_SCALE, 1.0])
    correction = np.linalg.inv(s) @ w.astype(np.float64) @ s
    hom = np.linalg.inv(correction) @ start.homography
    hom = hom / hom[2, 2]
    moved = Alignment(**{**start.__dict__, "homography": hom})
    recall, precision = agreement(blank_rules, rule_mask(warp(gray, moved, feats), dpi), dpi)
    if recall < RULE_RECALL or precision < RULE_PRECISION:
        return None
    return moved
