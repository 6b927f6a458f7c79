"""Which form is this page? Content match against every template's blank.

Each template's features are matched; the template with the most geometrically consistent
matches wins if it clears the thresholds. A page that matches nothing is an "unknown form"
(or a blank page) and goes to review rather than being guessed.
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


@dataclass(frozen=True)
class Identification:
    best: Alignment | None
    features: TemplateFeatures | None
    candidates: tuple[tuple[str, int], ...]  # (form_id, inliers) for --explain

    @property
    def matched(self) -> bool:
        return self.best is not None


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
        return Identification(None, None, tuple(cands))
    al, feats = max(found, key=lambda p: p[0].inliers)
    return Identification(al, feats, tuple(cands))
