"""Which form is this page? Content match against every template's blank.

Each template's features are matched; the template with the most geometrically consistent
matches wins if it clears the thresholds. A page that matches nothing is an "unknown form"
(or a blank page) and goes to review rather than being guessed. A page that nearly matched a
form gets a second try with stronger features before it is called unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.forms.align import Alignment, TemplateFeatures, match, page_features

# Right-form matches on generated pages (hard fax profile included) have 224+ inliers out of the
# ~4000 template features; another form or document has at most 23. MIN_SCORE (100 of 4000)
# keeps a wide margin on both sides: a 3% keystone on a fax-quality page still has 133.
MIN_INLIERS = 60
MIN_SCORE = 0.025
NEAR_MISS = 20  # inliers of a page worth a second, stronger try (another form has at most 23)


@dataclass(frozen=True)
class Identification:
    best: Alignment | None
    features: TemplateFeatures | None
    candidates: tuple[tuple[str, int], ...]  # (form_id, inliers) for --explain

    @property
    def matched(self) -> bool:
        return self.best is not None


def _second_try(
    gray: np.ndarray, templates: list[TemplateFeatures], cands: list[tuple[str, int]]
) -> list[tuple[Alignment, TemplateFeatures]]:
    """A page that nearly matched one form (NEAR_MISS inliers or more) is tried again with stronger
    features against that form alone, at the same thresholds, rather than called unknown at once."""
    best = max(range(len(cands)), key=lambda i: cands[i][1], default=None)
    if best is None or cands[best][1] < NEAR_MISS:
        return []
    feats = templates[best]
    al = match(page_features(gray, max(feats.match_size), strong=True), feats)
    if al and al.inliers >= MIN_INLIERS and al.score >= MIN_SCORE:
        return [(al, feats)]
    return []


def identify(gray: np.ndarray, templates: list[TemplateFeatures]) -> Identification:
    by_size: dict[int, object] = {}
    found: list[tuple[Alignment, TemplateFeatures]] = []
    cands: list[tuple[str, int]] = []
    for feats in templates:
        long_side = max(feats.match_size)
        pf = by_size.get(long_side)
        if pf is None:
            pf = by_size[long_side] = page_features(gray, long_side)
        al = match(pf, feats)  # type: ignore[arg-type]
        cands.append((feats.template.form_id, al.inliers if al else 0))
        if al and al.inliers >= MIN_INLIERS and al.score >= MIN_SCORE:
            found.append((al, feats))
    if not found:
        found = _second_try(gray, templates, cands)
    if not found:
        return Identification(None, None, tuple(cands))
    al, feats = max(found, key=lambda p: p[0].inliers)
    return Identification(al, feats, tuple(cands))
