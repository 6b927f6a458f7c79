"""Register a scanned page to a template's blank form without corner marks.

Features (ORB) are taken from the blank once per template and from each page at a low matching
resolution; matched features vote for a homography with RANSAC. Because ORB is rotation
invariant, the same fit recovers skew, 90/180/270° turns and scale, so orientation needs no
separate pass. The page is then warped once, at full quality, into the blank's frame at the
working resolution where fields are cut out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.forms.blank import read_blank
from pipeline.forms.template import Template
from pipeline.imaging.dropout import print_mask

log = logging.getLogger("shinsei.align")

MATCH_DPI = 100
N_FEATURES = 4000


@dataclass(frozen=True, eq=False)
class TemplateFeatures:
    """What identification and alignment need from one template, computed once per process."""

    template: Template
    work_dpi: int
    blank_work: np.ndarray  # grey blank at work dpi
    print_mask: np.ndarray  # printed pixels at work dpi (grown a little)
    match_size: tuple[int, int]  # (w, h) of the blank at MATCH_DPI
    keypoints: np.ndarray  # (N, 2) float32 at MATCH_DPI
    descriptors: np.ndarray
    patches: tuple[tuple[int, int], ...]  # centres (work dpi) of printed patches used to refine


@dataclass(frozen=True)
class Alignment:
    form_id: str
    homography: np.ndarray  # maps original page pixels to work-dpi template pixels
    inliers: int
    matches: int
    score: float  # inlier share of the template's features, 0..1
    rotation_deg: float  # how far the scan is turned from upright (counter-clockwise)
    residual_px: float  # median reprojection error of inliers, at MATCH_DPI


def _orb() -> cv2.ORB:
    return cv2.ORB_create(
        nfeatures=N_FEATURES, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31, fastThreshold=12
    )


def _resize(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    interp = cv2.INTER_AREA if size[0] < gray.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(gray, size, interpolation=interp)


def prepare_template(tpl: Template, work_dpi: int) -> TemplateFeatures:
    blank = read_blank(tpl)

    def size_at(dpi: int) -> tuple[int, int]:
        return round(tpl.page.width_mm / 25.4 * dpi), round(tpl.page.height_mm / 25.4 * dpi)

    blank_work = _resize(blank, size_at(work_dpi))
    msize = size_at(MATCH_DPI)
    small = _resize(blank, msize)
    kps, desc = _orb().detectAndCompute(small, None)
    pts = np.float32([k.pt for k in kps]) if kps else np.zeros((0, 2), np.float32)
    return TemplateFeatures(
        patches=_refine_patches(blank_work),
        template=tpl,
        work_dpi=work_dpi,
        blank_work=blank_work,
        print_mask=print_mask(blank_work, grow_px=max(1, round(work_dpi / 100))),
        match_size=msize,
        keypoints=pts,
        descriptors=desc if desc is not None else np.zeros((0, 32), np.uint8),
    )


@dataclass(frozen=True)
class PageFeatures:
    scale: float  # match-resolution pixels per original pixel
    keypoints: np.ndarray
    descriptors: np.ndarray


def page_features(gray: np.ndarray, target_long_side: int, strong: bool = False) -> PageFeatures:
    """ORB features of a page scaled so its long side matches the template's at MATCH_DPI.

    `strong` is the second try for a page that nearly matched: local contrast equalised (a faint,
    blurred or unevenly lit scan keeps few corners otherwise) and twice the features."""
    scale = target_long_side / max(gray.shape[:2])
    small = cv2.resize(
        gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    orb = _orb()
    if strong:
        small = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(small)
        orb.setMaxFeatures(N_FEATURES * 2)
        orb.setFastThreshold(7)
    kps, desc = orb.detectAndCompute(small, None)
    pts = np.float32([k.pt for k in kps]) if kps else np.zeros((0, 2), np.float32)
    return PageFeatures(scale, pts, desc if desc is not None else np.zeros((0, 32), np.uint8))


_matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


def match(page: PageFeatures, feats: TemplateFeatures) -> Alignment | None:
    """Fit page → template; None when there are too few consistent matches to say anything."""
    if len(page.descriptors) < 20 or len(feats.descriptors) < 20:
        return None
    pairs = _matcher.knnMatch(page.descriptors, feats.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return None
    src = page.keypoints[[m.queryIdx for m in good]]
    dst = feats.keypoints[[m.trainIdx for m in good]]
    h, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 2.5, maxIters=5000, confidence=0.999)
    if h is None or inl is None:
        return None
    inl = inl.ravel().astype(bool)
    n_in = int(inl.sum())
    # A scanned sheet is a near-similarity: reject fits that shear or bend the page.
    a = h[:2, :2] / h[2, 2]
    sx, sy = np.linalg.norm(a[:, 0]), np.linalg.norm(a[:, 1])
    if not (0.5 < sx < 2 and 0.5 < sy < 2 and abs(sx / sy - 1) < 0.15 and np.abs(h[2, :2]).max() < 2e-3):
        log.debug("rejecting implausible homography for %s", feats.template.form_id)
        return None
    proj = cv2.perspectiveTransform(src[inl].reshape(-1, 1, 2), h).reshape(-1, 2)
    resid = float(np.median(np.linalg.norm(proj - dst[inl], axis=1))) if n_in else 99.0
    rot = float(np.degrees(np.arctan2(a[1, 0], a[0, 0])))
    # Compose: original px → match px (scale) → template match px (h) → work dpi px.
    s_page = np.diag([page.scale, page.scale, 1.0])
    k = feats.work_dpi / MATCH_DPI
    s_work = np.diag([k, k, 1.0])
    total = s_work @ h @ s_page
    return Alignment(
        form_id=feats.template.form_id,
        homography=total,
        inliers=n_in,
        matches=len(good),
        score=n_in / max(1, len(feats.keypoints)),
        rotation_deg=-rot,
        residual_px=resid,
    )


def warp(gray: np.ndarray, alignment: Alignment, feats: TemplateFeatures) -> np.ndarray:
    """The page in the template's frame at work dpi (white outside the scan)."""
    h, w = feats.blank_work.shape[:2]
    return cv2.warpPerspective(gray, alignment.homography, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


PATCH = 48  # half-size of a refinement patch at work dpi
SEARCH = 8


def _refine_patches(blank_work: np.ndarray, grid: tuple[int, int] = (5, 7)) -> tuple[tuple[int, int], ...]:
    """Centres of print-rich patches spread over the page, one per grid cell where there is any."""
    h, w = blank_work.shape
    ink = (blank_work < 128).astype(np.float32)
    out = []
    for gy in range(grid[1]):
        for gx in range(grid[0]):
            x0, x1 = int(w * gx / grid[0]), int(w * (gx + 1) / grid[0])
            y0, y1 = int(h * gy / grid[1]), int(h * (gy + 1) / grid[1])
            best, best_c = 0.0, None
            for cy in range(y0 + PATCH + SEARCH, y1 - PATCH - SEARCH, PATCH // 2):
                for cx in range(x0 + PATCH + SEARCH, x1 - PATCH - SEARCH, PATCH // 2):
                    win = ink[cy - PATCH : cy + PATCH, cx - PATCH : cx + PATCH]
                    # Both directions of structure are needed to pin a patch down in x and y.
                    score = min(win.any(axis=0).mean(), win.any(axis=1).mean()) * win.mean()
                    if score > best:
                        best, best_c = score, (cx, cy)
            if best_c is not None and best > 0.01:
                out.append(best_c)
    return tuple(out)


def _subpixel(res: np.ndarray, loc: tuple[int, int]) -> tuple[float, float]:
    x, y = loc
    dx = dy = 0.0
    if 0 < x < res.shape[1] - 1:
        a, b, c = res[y, x - 1], res[y, x], res[y, x + 1]
        den = a - 2 * b + c
        dx = 0.5 * (a - c) / den if den != 0 else 0.0
    if 0 < y < res.shape[0] - 1:
        a, b, c = res[y - 1, x], res[y, x], res[y + 1, x]
        den = a - 2 * b + c
        dy = 0.5 * (a - c) / den if den != 0 else 0.0
    return x + dx, y + dy


def refine(gray: np.ndarray, alignment: Alignment, feats: TemplateFeatures) -> tuple[Alignment, np.ndarray]:
    """Correct the last pixel or two of the fit by matching print-rich patches of the warped page
    against the blank, then warp again. Returns the refined alignment and the aligned page."""
    aligned = warp(gray, alignment, feats)
    src, dst = [], []
    for cx, cy in feats.patches:
        tmpl = feats.blank_work[cy - PATCH : cy + PATCH, cx - PATCH : cx + PATCH]
        region = aligned[cy - PATCH - SEARCH : cy + PATCH + SEARCH, cx - PATCH - SEARCH : cx + PATCH + SEARCH]
        res = cv2.matchTemplate(region, tmpl, cv2.TM_CCOEFF_NORMED)
        _, peak, _, loc = cv2.minMaxLoc(res)
        if peak < 0.5:
            continue
        fx, fy = _subpixel(res, loc)
        src.append((cx, cy))
        dst.append((cx + fx - SEARCH, cy + fy - SEARCH))
    if len(src) < 6:
        return alignment, aligned
    corr, inl = cv2.estimateAffine2D(
        np.float32(src), np.float32(dst), method=cv2.RANSAC, ransacReprojThreshold=1.5
    )
    if corr is None or inl.sum() < 6:
        return alignment, aligned
    # Aligned point q shows page content of blank point C^-1(q): compose the inverse correction.
    c = np.vstack([corr, [0, 0, 1]])
    h = np.linalg.inv(c) @ alignment.homography
    h = h / h[2, 2]
    better = Alignment(**{**alignment.__dict__, "homography": h})
    return better, warp(gray, better, feats)
