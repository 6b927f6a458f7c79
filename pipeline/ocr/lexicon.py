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

NEG = -1e30
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


def _log_likelihoods(logp: np.ndarray, seqs: list[list[int]]) -> np.ndarray:
    """CTC log P(seq | frames) for each label sequence, all sequences at once."""
    t_len = logp.shape[0]
    s_max = 2 * max(len(s) for s in seqs) + 1
    n = len(seqs)
    ext = np.zeros((n, s_max), dtype=np.int64)  # 0 = blank
    valid = np.zeros((n, s_max), dtype=bool)
    skip = np.zeros((n, s_max), dtype=bool)  # may jump from s-2 (different non-blank labels)
    ends = np.zeros(n, dtype=np.int64)
    for i, seq in enumerate(seqs):
        length = 2 * len(seq) + 1
        ext[i, 1:length:2] = seq
        valid[i, :length] = True
        ends[i] = length - 1
        for s in range(3, length, 2):
            skip[i, s] = seq[(s - 1) // 2] != seq[(s - 3) // 2]
    alpha = np.full((n, s_max), NEG)
    alpha[:, 0] = logp[0, 0]
    alpha[:, 1] = np.where(valid[:, 1], logp[0, ext[:, 1]], NEG)
    for t in range(1, t_len):
        prev1 = np.concatenate([np.full((n, 1), NEG), alpha[:, :-1]], axis=1)
        prev2 = np.concatenate([np.full((n, 2), NEG), alpha[:, :-2]], axis=1)
        prev2 = np.where(skip, prev2, NEG)
        stacked = np.stack([alpha, prev1, prev2])
        m = stacked.max(axis=0)
        acc = m + np.log(np.exp(stacked - m).sum(axis=0))
        alpha = np.where(valid, acc + logp[t, ext], NEG)
    rows = np.arange(n)
    last = np.logaddexp(alpha[rows, ends], alpha[rows, np.maximum(ends - 1, 0)])
    return last


_INDEX: dict[int, tuple[Sequence[str], dict[str, int]]] = {}


def _index(labels: Sequence[str]) -> dict[str, int]:
    """Label → class index, built once per label list (keyed by identity; the list is kept in the
    value so its id cannot be reused while cached)."""
    hit = _INDEX.get(id(labels))
    if hit is None:
        hit = _INDEX[id(labels)] = (labels, {lab: i for i, lab in enumerate(labels) if i})
    return hit[1]


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


def rank(probs: np.ndarray, labels: Sequence[str], candidates: Sequence[str]) -> list[tuple[str, float]]:
    """Candidates ordered by CTC likelihood, each with its posterior among them."""
    index = _index(labels)
    cands = [c for c in dict.fromkeys(candidates) if c and all(ch in index for ch in c)]
    if not cands or probs.shape[0] == 0:
        return []
    logp = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0))
    ll = _log_likelihoods(logp, [[index[ch] for ch in c] for c in cands])
    post = np.exp(ll - ll.max())
    post /= post.sum()
    order = np.argsort(-ll)
    return [(cands[i], float(post[i])) for i in order]
