"""Reading against a closed list (the city's facilities, say): CTC likelihood of every entry.

Where a field can only hold one of a known list of values, scoring each entry with the CTC
forward algorithm is far more reliable than spelling out characters and fixing them afterwards:
a misread kana in `ひまわりこども園` still leaves that entry much more likely than any other.
If the writing fits no entry better than its own free reading, the free reading is kept and
the caller is told, so a facility outside the list goes to a person instead of being guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.jp.text import edit_distance
from pipeline.ocr.charsets import label_index
from pipeline.ocr.ctc import log_likelihoods
from pipeline.result import Char, Reading

# How much less likely (in nats) the best entry may be than the free best path and still be
# taken. The free best path is one alignment of one string, so a correct entry, which sums over
# all alignments, usually scores higher than it; a margin allows for a character or two the
# model found hard to read.
MARGIN_NATS = 6.0
# A free reading this close to exactly one entry is taken as that entry (for review): short
# entries (date numbers) are left out, as one edit turns any of them into several others.
NEAR_EDITS = 1
NEAR_MIN_LEN = 4


@dataclass(frozen=True)
class LexiconMatch:
    reading: Reading
    in_list: bool
    posterior: float


def match_lexicon(
    probs: np.ndarray, labels: Sequence[str], words: Sequence[str], free: Reading
) -> LexiconMatch:
    """Best entry of `words` for this crop, or the free reading when none fits."""
    index = label_index(labels)
    cands = [w for w in words if w and all(ch in index for ch in w)]
    if not cands or probs.shape[0] == 0:
        return LexiconMatch(free, free.text in words, 0.0)
    ll = log_likelihoods(probs, labels, cands)
    best = int(np.argmax(ll))
    post = np.exp(ll - ll.max())
    posterior = float(post[best] / post.sum())
    free_path = float(np.log(np.clip(probs.max(axis=1).astype(np.float64), 1e-12, 1.0)).sum())
    if ll[best] < free_path - MARGIN_NATS:
        near = _nearest(free.text, cands)
        if near is None:
            return LexiconMatch(free, False, posterior)
        # The writing is one misread kana away from exactly one entry (ことも園 for こども園): take
        # the entry, but with the writing's own (low) support, so a person confirms it.
        support = float(np.exp(max(ll[cands.index(near)] - free_path, -50.0)))
        return LexiconMatch(Reading(near, tuple(Char(ch, support) for ch in near)), True, support)
    word = cands[best]
    return LexiconMatch(Reading(word, tuple(Char(ch, posterior) for ch in word)), True, posterior)


def _nearest(text: str, words: Sequence[str]) -> str | None:
    """The one entry (of at least `NEAR_MIN_LEN` characters) within `NEAR_EDITS` edits of `text`;
    None when there is none, or more than one at the smallest distance."""
    if len(text) < NEAR_MIN_LEN:
        return None
    dists = [(edit_distance(text, w), w) for w in words if len(w) >= NEAR_MIN_LEN]
    close = sorted(d for d in dists if d[0] <= NEAR_EDITS)
    if not close or (len(close) > 1 and close[1][0] == close[0][0]):
        return None
    return close[0][1]
