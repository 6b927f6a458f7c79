"""Recipe for `models/digits_mlp.npz`: gradient histograms + MLP on MNIST samples 0–299 of each digit.

    python -m pipeline.ocr.train_digits

Only samples 0–299 are used (the project may use 0–399; 300–399 stay unseen for the
benchmarks). Each digit is augmented with small rotations, scales, shifts and stroke weights,
and rendered through the same `normalise` the pipeline uses, so training sees what reading sees.
Deterministic (seeded); prints accuracy on samples 300–399 as a sanity check.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.ocr.digits import MODEL, features, forward, normalise

ASSET = Path(__file__).resolve().parents[2] / "samples" / "assets" / "mnist_digits_0-399.npz"


def _augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    big = cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR)
    m = cv2.getRotationMatrix2D((42, 42), float(rng.uniform(-12, 12)), float(rng.uniform(0.8, 1.15)))
    m[0, 1] += float(rng.uniform(-0.2, 0.2))  # shear: slanted handwriting
    big = cv2.warpAffine(big, m, (84, 84))
    k = int(rng.integers(-1, 3))
    if k > 0:
        big = cv2.dilate(big, np.ones((k + 1, k + 1), np.uint8))
    elif k < 0:
        big = cv2.erode(big, np.ones((2, 2), np.uint8))
    return normalise(big > 100)


def main() -> None:
    digits = np.load(ASSET)["digits"]
    rng = np.random.default_rng(1234)
    xs, ys = [], []
    for d in range(10):
        for i in range(300):
            img = digits[d, i]
            xs.append(normalise(img > 100))
            ys.append(d)
            for _ in range(4):
                xs.append(_augment(img, rng))
                ys.append(d)
    x = features(np.stack(xs))
    y = np.array(ys)
    w = train_mlp(x, y, rng)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(MODEL, **w)
    test = features(np.stack([normalise(digits[d, i] > 100) for d in range(10) for i in range(300, 400)]))
    acc = (forward(w, test).argmax(1) == np.repeat(np.arange(10), 100)).mean()
    print(f"wrote {MODEL} ({MODEL.stat().st_size // 1024} KB); accuracy on samples 300-399: {acc:.3f}")


def train_mlp(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, hidden: int = 128, epochs: int = 40
) -> dict[str, np.ndarray]:
    """One hidden layer, ReLU, softmax; Adam on minibatches. Small enough to train in seconds."""
    mu, sd = x.mean(0), x.std(0) + 1e-3
    xn = (x - mu) / sd
    w = {
        "w1": rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden)).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": rng.normal(0, np.sqrt(2 / hidden), (hidden, 10)).astype(np.float32),
        "b2": np.zeros(10, np.float32),
    }
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    lr, step = 1e-3, 0
    onehot = np.eye(10, dtype=np.float32)[y]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 128):
            idx = order[i : i + 128]
            xb, yb = xn[idx], onehot[idx]
            h_pre = xb @ w["w1"] + w["b1"]
            h = np.maximum(0, h_pre)
            z = h @ w["w2"] + w["b2"]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            dz = (p - yb) / len(idx)
            grads = {"w2": h.T @ dz + 1e-4 * w["w2"], "b2": dz.sum(0)}
            dh = dz @ w["w2"].T * (h_pre > 0)
            grads |= {"w1": xb.T @ dh + 1e-4 * w["w1"], "b1": dh.sum(0)}
            step += 1
            for k, g in grads.items():
                m[k] = 0.9 * m[k] + 0.1 * g
                v2[k] = 0.999 * v2[k] + 0.001 * g * g
                w[k] -= lr * (m[k] / (1 - 0.9**step)) / (np.sqrt(v2[k] / (1 - 0.999**step)) + 1e-8)
    return {**w, "mu": mu.astype(np.float32), "sd": sd.astype(np.float32)}


if __name__ == "__main__":
    main()
