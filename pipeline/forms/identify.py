"""Which form is this page? Content match against every template's blank.

Each template's features are matched; the template with the most geometrically consistent
matches wins if it clears the thresholds. A page that matches nothing is an "unknown form"
(or a blank page) and goes to review rather than being guessed. A page that nearly matched a
form gets a second try with stronger features before it is called unknown, for a form that
prints registration marks (solid corner squares), a try aligned on those marks, and last a try
aligned on its ruled lines from the weak fit (`rulelines`).

A template may set its own thresholds under `identify:` (docs/templates.md); unset, the module
defaults below hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.forms.align import Alignment, TemplateFeatures, match, page_features
from pipeline.forms.rulelines import align_on_rules

# Right-form matches on generated pages (hard fax profile included) have 224+ inliers out of the
# ~4000 template features; another form or document has at most 23. MIN_SCORE (100 of 4000)
# keeps a wide margin on both sides: a 3% keystone on a fax-quality page still has 133.
MIN_INLIERS = 60
MIN_SCORE = 0.025
NEAR_MISS = 20  # inliers of a page worth a second, stronger try (another form has at most 23)

# Registration marks: a found square may be this much larger or smaller (area) than printed, and
# this far (share of the page's long side) from where a page that fills the scan would put it.
MARK_AREA_RATIO = 2.5
MARK_SEARCH = 0.08
# After aligning on the marks, at least this share of the blank's printed pixels must be dark on
# the page: the marks alone do not say which form it is (another form may print marks too).
MARK_PRINT_AGREEMENT = 0.7


@dataclass(frozen=True)
class Thresholds:
    min_inliers: int
    min_score: float
    near_miss: int
    second_try: bool


def thresholds(feats: TemplateFeatures) -> Thresholds:
    """The template's own identification settings, the module defaults where it sets none."""
    s = feats.template.identify
    return Thresholds(
        MIN_INLIERS if s.min_inliers is None else s.min_inliers,
        MIN_SCORE if s.min_score is None else s.min_score,
        NEAR_MISS if s.near_miss is None else s.near_miss,
        s.second_try,
    )


@dataclass(frozen=True)
class Identification:
    best: Alignment | None
    features: TemplateFeatures | None
    candidates: tuple[tuple[str, int], ...]  # (form_id, inliers) for --explain
    how: str = "features"  # features | second_try | registration_marks | ruled_lines

    @property
    def matched(self) -> bool:
        return self.best is not None


def _clears(al: Alignment | None, t: Thresholds) -> bool:
    return al is not None and al.inliers >= t.min_inliers and al.score >= t.min_score


def _second_try(
    gray: np.ndarray, templates: list[TemplateFeatures], cands: list[tuple[str, int]]
) -> list[tuple[Alignment, TemplateFeatures]]:
    """A page that nearly matched one form (its near_miss inliers or more) is tried again with
    stronger features against that form alone, at its thresholds, rather than called unknown."""
    best = max(range(len(cands)), key=lambda i: cands[i][1], default=None)
    if best is None:
        return []
    feats = templates[best]
    t = thresholds(feats)
    if not t.second_try or cands[best][1] < t.near_miss:
        return []
    al = match(page_features(gray, max(feats.match_size), strong=True), feats)
    return [(al, feats)] if al is not None and _clears(al, t) else []


def find_marks(gray: np.ndarray, feats: TemplateFeatures) -> np.ndarray | None:
    """Centres (page pixels) of the template's registration marks on the page, in the template's
    order, or None when any is missing. The page is assumed to be the whole sheet, upright or
    nearly (a mark is looked for near where it would be if the scan were the sheet exactly)."""
    marks = feats.template.identify.registration_marks or []
    if not marks:
        return None
    page_w_mm, page_h_mm = feats.template.page.width_mm, feats.template.page.height_mm
    h, w = gray.shape[:2]
    sx, sy = w / page_w_mm, h / page_h_mm  # page px per mm, each way
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    found = []
    reach = MARK_SEARCH * max(w, h)
    for x, y, mw, mh in marks:
        want_area = mw * sx * mh * sy
        want = np.array([(x + mw / 2) * sx, (y + mh / 2) * sy])
        best, best_d = None, reach
        for i in range(1, n):
            cw, ch, area = (
                stats[i, cv2.CC_STAT_WIDTH],
                stats[i, cv2.CC_STAT_HEIGHT],
                stats[i, cv2.CC_STAT_AREA],
            )
            if not (want_area / MARK_AREA_RATIO <= area <= want_area * MARK_AREA_RATIO):
                continue
            if area < 0.7 * cw * ch or not (0.6 < cw / max(ch, 1) < 1.6):  # solid and square-ish
                continue
            d = float(np.linalg.norm(centroids[i] - want))
            if d < best_d:
                best, best_d = centroids[i], d
        if best is None:
            return None
        found.append(best)
    return np.float32(found)


def align_on_marks(gray: np.ndarray, feats: TemplateFeatures) -> Alignment | None:
    """An alignment from the registration marks alone, kept only when the blank's print then lies
    on dark page pixels (MARK_PRINT_AGREEMENT): the marks place the page, the print names the form."""
    src = find_marks(gray, feats)
    if src is None:
        return None
    k = feats.work_dpi / 25.4
    dst = np.float32(
        [
            ((x + mw / 2) * k, (y + mh / 2) * k)
            for x, y, mw, mh in feats.template.identify.registration_marks or []
        ]
    )
    if len(src) >= 4:
        hom, _ = cv2.findHomography(src, dst, 0)
    else:
        aff = cv2.getAffineTransform(src[:3], dst[:3])
        hom = np.vstack([aff, [0, 0, 1]])
    if hom is None:
        return None
    bh, bw = feats.blank_work.shape[:2]
    warped = cv2.warpPerspective(gray, hom, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=255)
    _, page_ink = cv2.threshold(warped, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Marks fix the page to a pixel or two, not exactly: allow that much between print and ink.
    grow = max(1, round(feats.work_dpi / 100))
    page_ink = cv2.dilate(page_ink, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    printed = feats.blank_work < 128
    agreement = float((page_ink[printed] > 0).mean()) if printed.any() else 0.0
    if agreement < MARK_PRINT_AGREEMENT:
        return None
    a = hom[:2, :2] / hom[2, 2]
    return Alignment(
        form_id=feats.template.form_id,
        homography=hom / hom[2, 2],
        inliers=len(src),
        matches=len(src),
        score=agreement,
        rotation_deg=-float(np.degrees(np.arctan2(a[1, 0], a[0, 0]))),
        residual_px=0.0,
    )


def _by_marks(
    gray: np.ndarray, templates: list[TemplateFeatures], cands: list[tuple[str, int]]
) -> list[tuple[Alignment, TemplateFeatures]]:
    """Last try: each form with registration marks that the page nearly matched (its near_miss)."""
    out = []
    for feats, (_, inliers) in zip(templates, cands, strict=True):
        if feats.template.identify.registration_marks and inliers >= thresholds(feats).near_miss:
            al = align_on_marks(gray, feats)
            if al is not None:
                out.append((al, feats))
    return out


def _by_rules(
    gray: np.ndarray, templates: list[TemplateFeatures], weak: list[Alignment | None]
) -> list[tuple[Alignment, TemplateFeatures]]:
    """Last try: the form the page nearly matched (its near_miss inliers or more, most of all
    forms), registered on its ruled lines from that weak fit (`rulelines.align_on_rules`): a
    faint page thresholded to black and white keeps its rules when its printed words are gone."""
    tried = [(al, f) for al, f in zip(weak, templates, strict=True) if al is not None]
    if not tried:
        return []
    al, feats = max(tried, key=lambda p: p[0].inliers)
    t = thresholds(feats)
    if not t.second_try or al.inliers < t.near_miss:
        return []
    moved = align_on_rules(gray, feats, al)
    return [(moved, feats)] if moved is not None else []


def identify(gray: np.ndarray, templates: list[TemplateFeatures]) -> Identification:
    by_size: dict[int, object] = {}
    found: list[tuple[Alignment, TemplateFeatures]] = []
    weak: list[Alignment | None] = []  # each form's fit, cleared or not
    for feats in templates:
        long_side = max(feats.match_size)
        pf = by_size.get(long_side)
        if pf is None:
            pf = by_size[long_side] = page_features(gray, long_side)
        al = match(pf, feats)  # type: ignore[arg-type]
        weak.append(al)
        if al is not None and _clears(al, thresholds(feats)):
            found.append((al, feats))
    cands = [(f.template.form_id, al.inliers if al else 0) for al, f in zip(weak, templates, strict=True)]
    how = "features"
    if not found:
        found, how = _second_try(gray, templates, cands), "second_try"
    if not found:
        found, how = _by_marks(gray, templates, cands), "registration_marks"
    if not found:
        found, how = _by_rules(gray, templates, weak), "ruled_lines"
    if not found:
        return Identification(None, None, tuple(cands))
    al, feats = max(found, key=lambda p: p[0].inliers)
    return Identification(al, feats, tuple(cands), how)
