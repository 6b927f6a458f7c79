"""Does a reading account for all the ink in its crop?

A line recogniser can skip a character outright (a 4 between a 2 and a 6, a faint first kana):
the characters it did read keep their high probabilities, so the field's confidence says nothing
about the one it dropped. This module measures what the reading left out: the best CTC alignment
(`ctc.char_frames`) places each character of the reading on the crop, and ink farther than
`REACH` line heights from every placed character was read as nothing. `unread_ink` returns the
widest such stretch of ink, in line heights; `read_page` sends a field with more than
`UNREAD_MAX` to review. Pure geometry on the crop's ink mask: no form, font or language model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.ocr.ctc import char_frames
from pipeline.ocr.digits import crowded, frame_centres
from pipeline.ocr.zoo import ModelSpec

REACH = 0.6  # line heights from a character's centre that its own strokes may reach
UNREAD_MAX = 0.25  # line heights of unread ink tolerated (a stray tail, a speck of print)


def unread_ink(
    probs: np.ndarray, labels: Sequence[str], text: str, ink: np.ndarray, spec: ModelSpec
) -> float:
    """Width, in line heights, of the widest run of ink columns that no character of `text` (as
    aligned on `probs`, made by `spec` from this crop) is near. 0.0 when the reading cannot be
    aligned or the crop holds no ink."""
    if ink.size == 0 or not ink.any():
        return 0.0
    rows = np.flatnonzero(ink.any(axis=1))
    height = float(rows[-1] - rows[0] + 1)
    columns = ink.sum(axis=0) >= max(2.0, 0.05 * height)  # a column with a stroke, not a dot
    if not text:
        return float(columns.sum()) / height
    frames = char_frames(probs, labels, text)
    if frames is None:
        return 0.0
    centres = np.asarray(frame_centres(frames, ink.shape[0], spec))
    xs = np.arange(ink.shape[1], dtype=np.float64)
    far = np.abs(xs[:, None] - centres[None, :]).min(axis=1) > REACH * height
    unread = columns & far
    widest = run = 0
    for u in unread:
        run = run + 1 if u else 0
        widest = max(widest, run)
    return widest / height


def skipped(probs: np.ndarray, labels: Sequence[str], text: str, ink: np.ndarray, spec: ModelSpec) -> bool:
    """True when the reading may have skipped a character: ink far from every character it
    placed (`unread_ink`), or a digit's share of the ink that is two digits side by side
    (`digits.crowded`, for a digit skipped right next to another)."""
    if unread_ink(probs, labels, text, ink, spec) > UNREAD_MAX:
        return True
    if not any(ch.isdigit() for ch in text):
        return False
    frames = char_frames(probs, labels, text)
    return frames is not None and crowded(text, frame_centres(frames, ink.shape[0], spec), ink)
