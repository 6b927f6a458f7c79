"""Where each character of a greedy CTC reading sits in the probability matrix, and what else
the recogniser saw there.

A pass that doubts one character (a letter where an address needs a digit) asks: over the
timesteps that emitted it, how likely was each digit, against the character itself? The
probabilities are those of `decode.greedy`: renormalised over the field's allowed classes, with
look-alikes merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.ocr.charsets import DIGITS, compact

_EPS = 1e-30


@dataclass(frozen=True)
class Alternative:
    """At one emitted character: the best digit and its probability, and the character's own."""

    digit: str
    p_digit: float
    p_char: float


def char_spans(probs: np.ndarray, labels: Sequence[str], charset: str) -> tuple[str, list[tuple[int, int]]]:
    """The greedy reading under `charset` and, per character, its run of timesteps [start, end)."""
    if probs.shape[0] == 0:
        return "", []
    c = compact(charset, labels)
    sub = c.take(probs)
    arg = sub.argmax(axis=1)
    starts = np.flatnonzero(np.r_[True, arg[1:] != arg[:-1]])
    ends = np.r_[starts[1:], len(arg)]
    text, spans = [], []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        k = int(arg[s])
        if k:
            text.append(c.labels[k])
            spans.append((s, e))
    return "".join(text), spans


def digit_alternative(
    probs: np.ndarray, labels: Sequence[str], charset: str, span: tuple[int, int], char: str
) -> Alternative | None:
    """The likeliest digit over `span` (maximum over its timesteps), beside `char`'s own
    probability there; None when the charset allows no digits."""
    c = compact(charset, labels)
    cols = {lab: i for i, lab in enumerate(c.labels) if i}
    digit_cols = [(d, cols[d]) for d in DIGITS if d in cols]
    if not digit_cols or char not in cols:
        return None
    sub = c.take(probs[span[0] : span[1]])
    sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), _EPS)
    best = max(digit_cols, key=lambda dc: float(sub[:, dc[1]].max()))
    return Alternative(best[0], float(sub[:, best[1]].max()), float(sub[:, cols[char]].max()))


def likeliest_of(
    probs: np.ndarray, labels: Sequence[str], charset: str, span: tuple[int, int], chars: str
) -> tuple[str, float] | None:
    """The likeliest of `chars` over `span` (maximum over its timesteps) and its probability
    there; None when the charset allows none of them."""
    c = compact(charset, labels)
    cols = {lab: i for i, lab in enumerate(c.labels) if i and lab in chars}
    if not cols:
        return None
    sub = c.take(probs[span[0] : span[1]])
    sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), _EPS)
    best = max(cols, key=lambda ch: float(sub[:, cols[ch]].max()))
    return best, float(sub[:, cols[best]].max())
