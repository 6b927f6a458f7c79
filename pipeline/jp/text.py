"""Character-level knowledge of written Japanese shared by every stage: dash and space
look-alikes, full-width digits, and an edit distance for comparing readings with known spellings.
"""

from __future__ import annotations

import re

# Dash-like characters OCR and hand-writing produce between digits (ー is the usual confusion).
DASHES = "-‐‑‒–—―−－ーｰ─━"
DASH_CLASS = "[" + re.escape(DASHES) + "]"
SPACES_RE = re.compile(r"[ \t\u3000\u00a0]+")
FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
