"""CTC arithmetic on one crop's (T, C) probability matrix: how likely a given string is, and
where along the crop each of its characters was seen.

Both are exact dynamic programmes over the string's CTC lattice (blank, c1, blank, c2, ...).
`log_likelihoods` sums over every alignment (the forward algorithm) and serves the closed-list
reading and repairs; `char_frames` follows the single best alignment (Viterbi) and tells the
digit reader where on the crop each character lies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pipeline.ocr.charsets import label_index

NEG = -1e30


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


def gather(
    probs: np.ndarray, seqs: list[list[int]], extra: Mapping[int, Sequence[int]] | None = None
) -> tuple[np.ndarray, list[list[int]]]:
    """Log-probabilities of just the blank and the classes `seqs` use, with `seqs` renumbered to
    those columns. The model has ~18,700 classes; taking the log of all of them for every crop
    would cost more than the dynamic programme itself. `extra` maps a class to classes whose
    probability counts as its own too (a look-alike's)."""
    used = sorted({c for seq in seqs for c in seq} - {0})
    col = {c: i + 1 for i, c in enumerate(used)}
    sub = probs[:, [0, *used]].astype(np.float64)
    for c, others in (extra or {}).items():
        if c in col and others:
            sub[:, col[c]] += probs[:, list(others)].astype(np.float64).sum(axis=1)
    logp = np.log(np.clip(sub, 1e-12, 1.0))
    return logp, [[col[c] for c in seq] for seq in seqs]


def log_likelihoods(
    probs: np.ndarray,
    labels: Sequence[str],
    candidates: Sequence[str],
    lookalikes: Mapping[str, str] | None = None,
) -> np.ndarray:
    """CTC log P(candidate | crop) for each candidate (non-empty strings of known labels).

    `lookalikes` maps a character to characters written the same way (ル: 儿): where given, a
    candidate's character is credited with its look-alikes' probability as well as its own."""
    index = label_index(labels)
    extra = {
        index[ch]: [index[o] for o in others if o in index and o != ch]
        for ch, others in (lookalikes or {}).items()
        if ch in index
    }
    return _log_likelihoods(*gather(probs, [[index[ch] for ch in c] for c in candidates], extra))


def char_frames(probs: np.ndarray, labels: Sequence[str], text: str) -> list[int] | None:
    """For each character of `text`, the timestep where the best CTC alignment is surest of it.

    None when `text` cannot be aligned (unknown labels, or more characters than timesteps allow).
    """
    index = label_index(labels)
    if not text or any(ch not in index for ch in text) or probs.shape[0] == 0:
        return None
    logp, (seq,) = gather(probs, [[index[ch] for ch in text]])
    t_len, length = logp.shape[0], 2 * len(seq) + 1
    ext = np.zeros(length, dtype=np.int64)
    ext[1::2] = seq
    skip = np.zeros(length, dtype=bool)
    for s in range(3, length, 2):
        skip[s] = ext[s] != ext[s - 2]
    emit = logp[:, ext]  # (T, S): each lattice state's log-probability per timestep
    score = np.full((t_len, length), NEG)
    back = np.zeros((t_len, length), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    score[0, :2] = emit[0, :2]
    options = np.full((3, length), NEG)
    for t in range(1, t_len):
        prev = score[t - 1]
        options[0] = prev
        options[1, 1:] = prev[:-1]
        options[2, 2:] = np.where(skip[2:], prev[:-2], NEG)
        b = options.argmax(axis=0)
        back[t] = b
        score[t] = options[b, np.arange(length)] + emit[t]
    end = length - 1 if score[-1, length - 1] >= score[-1, length - 2] else length - 2
    if score[-1, end] <= NEG / 2:
        return None
    best_t = [-1] * len(seq)
    best_p = [NEG] * len(seq)
    s = end
    for t in range(t_len - 1, -1, -1):
        if s % 2 == 1:
            k = (s - 1) // 2
            if emit[t, s] > best_p[k]:
                best_p[k], best_t[k] = emit[t, s], t
        s -= int(back[t, s]) if t > 0 else 0
    return best_t if all(t >= 0 for t in best_t) else None
