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


def _span_probs(
    probs: np.ndarray, labels: Sequence[str], charset: str, span: tuple[int, int]
) -> tuple[dict[str, int], np.ndarray]:
    """The charset's columns by label, and its probabilities over `span`, renormalised per step."""
    c = compact(charset, labels)
    sub = c.take(probs[span[0] : span[1]])
    return {lab: i for i, lab in enumerate(c.labels) if i}, sub / np.maximum(
        sub.sum(axis=1, keepdims=True), _EPS
    )


def likeliest_of(
    probs: np.ndarray, labels: Sequence[str], charset: str, span: tuple[int, int], chars: str
) -> tuple[str, float] | None:
    """The likeliest of `chars` over `span` (maximum over its timesteps) and its probability
    there; None when the charset allows none of them."""
    cols, sub = _span_probs(probs, labels, charset, span)
    best = max((ch for ch in cols if ch in chars), key=lambda ch: float(sub[:, cols[ch]].max()), default=None)
    return None if best is None else (best, float(sub[:, cols[best]].max()))


def digit_alternative(
    probs: np.ndarray, labels: Sequence[str], charset: str, span: tuple[int, int], char: str
) -> Alternative | None:
    """The likeliest digit over `span` (maximum over its timesteps, `likeliest_of`), beside
    `char`'s own probability there; None when the charset allows no digits."""
    cols, sub = _span_probs(probs, labels, charset, span)
    best = likeliest_of(probs, labels, charset, span, DIGITS)
    if best is None or char not in cols:
        return None
    return Alternative(best[0], best[1], float(sub[:, cols[char]].max()))
