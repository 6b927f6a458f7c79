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

from pipeline.models import Char, Reading
from pipeline.ocr.ctc import _index, _log_likelihoods

# How much less likely (in nats) the best entry may be than the free best path and still be
# taken. The free best path is one alignment of one string, so a correct entry, which sums over
# all alignments, usually scores higher than it; a margin allows for a character or two the
# model found hard to read.
MARGIN_NATS = 6.0


@dataclass(frozen=True)
class LexiconMatch:
    reading: Reading
    in_list: bool
    posterior: float


def match_lexicon(
    probs: np.ndarray, labels: Sequence[str], words: Sequence[str], free: Reading
) -> LexiconMatch:
    """Best entry of `words` for this crop, or the free reading when none fits."""
    index = _index(labels)
    cands = [w for w in words if w and all(ch in index for ch in w)]
    if not cands or probs.shape[0] == 0:
        return LexiconMatch(free, free.text in words, 0.0)
    logp = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0))
    ll = _log_likelihoods(logp, [[index[ch] for ch in w] for w in cands])
    best = int(np.argmax(ll))
    post = np.exp(ll - ll.max())
    posterior = float(post[best] / post.sum())
    free_path = float(logp.max(axis=1).sum())
    if ll[best] < free_path - MARGIN_NATS:
        return LexiconMatch(free, False, posterior)
    word = cands[best]
    return LexiconMatch(Reading(word, tuple(Char(ch, posterior) for ch in word)), True, posterior)
