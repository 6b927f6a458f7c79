"""Does a reading account for all the ink in its crop?

A line recogniser can skip a character outright (a 4 between a 2 and a 6, a faint first kana):
the characters it did read keep their high probabilities, so the field's confidence says nothing
about the one it dropped. This module measures what the reading left out: the best CTC alignment
(`ctc.char_frames`) places each character of the reading on the crop, and ink farther than
`REACH` line heights from every placed character was read as nothing. `unread_ink` returns the
widest such stretch of ink, in line heights; `read_page` sends a field with more than
`UNREAD_MAX` to review. Pure geometry on the crop's ink mask: no form, font or language model.

`restore_digits` then puts back digits the reading skipped, where the digit classifier is sure
of them, so the person who reviews the field finds the whole number already typed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from pipeline.ocr.ctc import char_frames
from pipeline.ocr.digits import (
    CROWD_LINE_HEIGHT,
    cells_at,
    classify,
    crowded,
    frame_centres,
    normalise,
    read_whole,
    side_by_side,
    stroke_groups,
)
from pipeline.ocr.zoo import ModelSpec
from pipeline.result import Char, Reading

REACH = 0.6  # line heights from a character's centre that its own strokes may reach
UNREAD_MAX = 0.25  # line heights of unread ink tolerated (a stray tail, a speck of print)


# A restored digit needs the classifier this sure of it, and is shown at no more than RESTORED_PROB
# (the field is in review anyway: a restored digit is a proposal for the reviewer, not a reading).
RESTORE_SURE = 0.8
RESTORED_PROB = 0.5
# Ink put back as a digit must be about as tall as the digits the reading did place: a broken-off
# piece of a digit (0.5–0.67 of their height on the development set), a kanji stroke or a speck
# is not.
DIGIT_HEIGHT_RANGE = (0.75, 1.5)
# Unread ink narrower than UNREAD_MAX does not send a field to review by itself, but once a field
# is in review, a stretch this wide is enough to hold a thin digit worth putting back.
RESTORE_MIN_RUN = 0.1
# Two stroke groups in one digit's share no wider than this many of the other digits' median
# width may be one digit written in two strokes (`_one_digit_in_two_strokes`): a 1 next to a
# digit, a stroke wide with a gap, is 1.3–1.6 digits wide; a 4 whose stem stands apart is about 1.
ONE_DIGIT_WIDTH = 1.2
ONE_DIGIT_SURE = 0.5  # the classifier's least probability for the two groups read as one digit


def _unread_columns(centres: Sequence[float], ink: np.ndarray, height: float) -> np.ndarray:
    """Columns holding a stroke that no placed character is within `REACH` line heights of."""
    columns = ink.sum(axis=0) >= max(2.0, 0.05 * height)  # a column with a stroke, not a dot
    if not len(centres):
        return columns
    xs = np.arange(ink.shape[1], dtype=np.float64)
    far = np.abs(xs[:, None] - np.asarray(centres)[None, :]).min(axis=1) > REACH * height
    return columns & far


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, end exclusive."""
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def unread_ink(
    probs: np.ndarray, labels: Sequence[str], text: str, ink: np.ndarray, spec: ModelSpec
) -> float:
    """Width, in line heights, of the widest run of ink columns that no character of `text` (as
    aligned on `probs`, made by `spec` from this crop) is near. 0.0 when the reading cannot be
    aligned or the crop holds no ink."""
    return _widest_unread(text, placed(probs, labels, text, ink, spec), ink)


def placed(
    probs: np.ndarray, labels: Sequence[str], text: str, ink: np.ndarray, spec: ModelSpec
) -> list[float] | None:
    """The crop x of each character of `text` in its best CTC alignment on `probs`; None when it
    cannot be aligned (or is empty). The one alignment `skipped` and `restore_digits` share."""
    frames = char_frames(probs, labels, text)
    return None if frames is None else frame_centres(frames, ink.shape[0], spec)


def _widest_unread(text: str, centres: Sequence[float] | None, ink: np.ndarray) -> float:
    if ink.size == 0 or not ink.any():
        return 0.0
    height = _height(ink)
    if not text:
        return float(_unread_columns([], ink, height).sum()) / height
    if centres is None:
        return 0.0
    runs = _runs(_unread_columns(centres, ink, height))
    return max((b - a for a, b in runs), default=0) / height


WIDE_DIGITS = ("5", "7")  # the digits whose top bar may run far past them
WIDE_DIGIT_SURE = 0.9  # the classifier, on the whole ink, for a wide digit to be that digit


def _one_wide_digit(text: str, ink: np.ndarray) -> bool:
    """Whether ink read as a 5 or a 7 is that digit written wide, not a digit and another left
    unread: one stroke group (`stroke_groups`) that the classifier, shown whole, reads as the digit
    read, surely. A 5 or a 7 whose top bar runs far to the right reaches past its centre's
    `REACH` and was taken for a skipped character (令和7年5月 read right, held as unread_ink).
    Other digits have no bar to run on: ink that wide beside them is more than the digit (a 4
    struck through and written over, its strike merged with its bar)."""
    if text not in WIDE_DIGITS:
        return False
    whole = read_whole(ink)
    return whole is not None and whole[0] == text and whole[1] >= WIDE_DIGIT_SURE


def _height(ink: np.ndarray) -> float:
    rows = np.flatnonzero(ink.any(axis=1))
    return float(rows[-1] - rows[0] + 1)


def skipped(text: str, centres: Sequence[float] | None, ink: np.ndarray) -> bool:
    """True when the reading may have skipped a character: ink far from every character it
    placed (`unread_ink`), or a digit's share of the ink that is two digits side by side
    (`digits.crowded`, for a digit skipped right next to another). `centres` from `placed`."""
    if _widest_unread(text, centres, ink) > UNREAD_MAX and not _one_wide_digit(text, ink):
        return True
    if not any(ch.isdigit() for ch in text):
        return False
    return centres is not None and crowded(text, centres, ink)


def restore_digits(
    reading: Reading,
    centres: Sequence[float] | None,
    ink: np.ndarray,
    valid: Callable[[str], bool] | None = None,
) -> Reading | None:
    """`reading` with the digits it skipped put back, or None when none can be, with confidence.

    Only for a reading that already holds digits (a number is being written), in two places:
    - a digit whose share of the ink is two digits side by side (`digits.crowded`): both, when the
      classifier is sure of each and one of them is the digit read (1075 read as 075), unless
      the two are one digit written in two strokes that do not touch (`_one_digit_in_two_strokes`);
    - unread ink (as `unread_ink` finds it) beside a digit or a dash, split into stroke groups
      about as tall as the digits read: each group the classifier is sure of, inserted where it
      lies (1190番地 read as 119番地).
    Put-back digits carry at most `RESTORED_PROB`; the result must pass `valid` (the field's
    grammar or list), else None. `centres` from `placed`.
    """
    text = reading.text
    if not any(ch.isdigit() for ch in text) or len(reading.chars) != len(text) or not ink.any():
        return None
    if centres is None:
        return None
    height = _height(ink)
    cells = cells_at(ink, centres)
    digit_heights = [_height(cells[i]) for i, ch in enumerate(text) if ch.isdigit() and cells[i].any()]
    if not digit_heights:
        return None
    digit_h = float(np.median(digit_heights))
    # Per position of `text`: the characters that stand there now (one, two, or with insertions).
    slots: list[list[Char]] = [[c] for c in reading.chars]
    before: dict[int, list[Char]] = {}  # insertions in front of position k (k == len(text): at the end)
    changed = False

    taken = np.zeros_like(ink, dtype=bool)
    for a, b in _runs(_unread_columns(centres, ink, height)):
        if (b - a) / height < RESTORE_MIN_RUN:
            continue
        k = int(np.searchsorted(np.asarray(centres), (a + b) / 2))
        beside = [text[j] for j in (k - 1, k) if 0 <= j < len(text)]
        if not any(c.isdigit() or c == "-" for c in beside):
            continue
        found, used = _digits_in(_strokes_through(ink, a, b), a, b, digit_h)
        if found:
            before[k] = found
            taken |= used
            changed = True

    for i, ch in enumerate(text):
        if not ch.isdigit():
            continue
        # Ink already put back from an unread stretch is not a neighbour's crowded digit too.
        groups = side_by_side(cells[i] & ~taken, CROWD_LINE_HEIGHT * height)
        if len(groups) != 2 or not all(_digit_sized(g, digit_h) for g in groups):
            continue
        others = [cells[j] for j, c in enumerate(text) if c.isdigit() and c != "1" and j != i]
        if _one_digit_in_two_strokes(groups, ch, _typical_width(others)):
            continue
        cls = classify([normalise(g) for g in groups])
        pair = [int(r.argmax()) for r in cls]
        # A 1 is often written in two strokes that do not touch (a flag, a foot), and both halves
        # look like 1s to the classifier: two 1s from one 1's share are trusted only where a
        # grammar or list checks the result (11月 read as 1月; free text 106 became 1106).
        if cls.max(axis=1).min() >= RESTORE_SURE and int(ch) in pair and (pair != [1, 1] or valid):
            kept = reading.chars[i]
            slots[i] = [
                Char(str(d), kept.prob if d == int(ch) and j == pair.index(int(ch)) else _shown(r))
                for j, (d, r) in enumerate(zip(pair, cls, strict=True))
            ]
            changed = True

    if not changed:
        return None
    chars: list[Char] = []
    for k in range(len(text) + 1):
        chars += before.get(k, [])
        if k < len(text):
            chars += slots[k]
    out = Reading("".join(c.text for c in chars), tuple(chars))
    if valid is not None and not valid(out.text):
        return None
    return out


def _width(ink: np.ndarray) -> int:
    cols = np.flatnonzero(ink.any(axis=0))
    return int(cols[-1] - cols[0] + 1) if len(cols) else 0


def _typical_width(cells: Sequence[np.ndarray]) -> float | None:
    """The median width of digits' `cells` (the caller leaves out 1s, a stroke wide, and the digit
    judged); None when there are none."""
    widths = [_width(c) for c in cells if c.any()]
    return float(np.median(widths)) if widths else None


def _one_digit_in_two_strokes(groups: Sequence[np.ndarray], ch: str, digit_w: float | None) -> bool:
    """Whether two stroke groups side by side in one digit's share are that one digit written in
    two strokes that do not touch (a 4 whose bar stops short of its stem, a 6 with a gap in its
    loop): together no wider than the other digits read, and the classifier reads them together
    as the digit read (`ONE_DIGIT_SURE`). Two digits side by side are wider than one, or not that digit."""
    if digit_w is None:
        return False
    union = np.logical_or.reduce(groups)
    if _width(union) > ONE_DIGIT_WIDTH * digit_w:
        return False
    whole = classify([normalise(union)])[0]
    return int(whole.argmax()) == int(ch) and float(whole.max()) >= ONE_DIGIT_SURE


def _centre_x(ink: np.ndarray) -> float:
    cols = np.flatnonzero(ink.any(axis=0))
    return (cols[0] + cols[-1]) / 2


def _digit_sized(ink: np.ndarray, digit_h: float) -> bool:
    lo, hi = DIGIT_HEIGHT_RANGE
    return lo * digit_h <= _height(ink) <= hi * digit_h


def _shown(row: np.ndarray) -> float:
    return min(float(row.max()), RESTORED_PROB)


def _strokes_through(ink: np.ndarray, a: int, b: int) -> np.ndarray:
    """The whole strokes that cross columns a..b (a skipped digit's ink reaches into the columns
    near its read neighbours, which the unread stretch leaves out)."""
    _, lab = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    through = np.unique(lab[:, a:b])
    return np.isin(lab, through[through > 0])


def _digits_in(ink: np.ndarray, a: int, b: int, digit_h: float) -> tuple[list[Char], np.ndarray]:
    """The digits written in the unread stretch a..b of `ink`, left to right; [] unless every
    stroke group centred there is digit-sized and a digit the classifier is sure of. (A group
    centred outside is a read character whose edge strays into the stretch.) Also the ink used."""
    none: tuple[list[Char], np.ndarray] = ([], np.zeros_like(ink))
    pieces = [p for p in stroke_groups(ink) if a <= _centre_x(p) < b]
    if not pieces or not all(_digit_sized(p, digit_h) for p in pieces):
        return none
    cls = classify([normalise(p) for p in pieces])
    if cls.max(axis=1).min() < RESTORE_SURE:
        return none
    return [Char(str(int(r.argmax())), _shown(r)) for r in cls], np.logical_or.reduce(pieces)
