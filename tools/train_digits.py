"""Recipe for `pipeline/ocr/weights/digits_cnn.npz`: a small CNN on MNIST samples 0–299 of each digit.

    pip install -e .[train]          # torch (CPU), only for this recipe
    python -m tools.train_digits

Only samples 0–299 are used (the project may use 0–399; 300–399 stay unseen for the
benchmarks). Each digit is also drawn the way a scan delivers it: rotated, slanted, scaled,
thinned or thickened, shrunk to the 12–40 px a 150 dpi page gives a handwritten digit, blurred,
speckled and thresholded, then passed through the same `normalise` the pipeline uses, so
training sees what reading sees. Deterministic (seeded, one thread); prints accuracy on
samples 300–399 as a sanity check. Inference needs only numpy (`pipeline.ocr.digits`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.ocr.digits import MODEL, classify_with, normalise

ASSET = Path(__file__).resolve().parents[1] / "samples" / "assets" / "mnist_digits_0-399.npz"
AUGMENTED = 12  # drawings per original sample


def scan_like(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28×28, white on black) redrawn as a scanned, binarised ink mask."""
    big = cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR)
    m = cv2.getRotationMatrix2D((42, 42), float(rng.uniform(-15, 15)), float(rng.uniform(0.75, 1.15)))
    m[0, 1] += float(rng.uniform(-0.3, 0.3))  # slanted handwriting
    m[:, 2] += rng.uniform(-4, 4, 2)
    big = cv2.warpAffine(big, m, (84, 84))
    k = int(rng.integers(-2, 3))  # pen weight: a ballpoint is thinner than MNIST's strokes
    if k > 0:
        big = cv2.dilate(big, np.ones((k + 1, k + 1), np.uint8))
    elif k < 0:
        big = cv2.erode(big, np.ones((-k * 2 + 1, -k * 2 + 1), np.uint8))
        if (big > 100).sum() < 40:  # a thin digit must not erode away
            big = cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR)
    size = int(rng.integers(12, 41))
    small = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (3, 3), float(rng.uniform(0.3, 1.0)))
    small += rng.normal(0, rng.uniform(0, 25), small.shape)
    mask = small > rng.uniform(70, 150)
    if rng.random() < 0.3:  # a speck of dust beside the digit
        y, x = rng.integers(0, size, 2)
        mask[y, x] = True
    return normalise(mask)


def dataset(
    digits: np.ndarray, lo: int, hi: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for d in range(10):
        for i in range(lo, hi):
            img = digits[d, i]
            xs.append(normalise(img > 100))
            ys.append(d)
            for _ in range(AUGMENTED if rng is not None else 0):
                xs.append(scan_like(img, rng))
                ys.append(d)
    return np.stack(xs), np.array(ys)


def main() -> None:
    import torch
    from torch import nn

    torch.manual_seed(1234)
    torch.set_num_threads(1)  # bit-for-bit repeatable
    digits = np.load(ASSET)["digits"]
    rng = np.random.default_rng(1234)
    x, y = dataset(digits, 0, 300, rng)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 5 * 5, 128),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )
    xt = torch.from_numpy(x[:, None].astype(np.float32) / 255.0)
    yt = torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    epochs = 12
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * ((len(x) + 127) // 128))
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            idx = order[i : i + 128]
            loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    weights = {
        "c1w": sd["0.weight"],
        "c1b": sd["0.bias"],
        "c2w": sd["3.weight"],
        "c2b": sd["3.bias"],
        "f1w": sd["8.weight"],
        "f1b": sd["8.bias"],
        "f2w": sd["11.weight"],
        "f2b": sd["11.bias"],
    }
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(MODEL, **weights)
    test_x, test_y = dataset(digits, 300, 400, None)
    acc = (classify_with(weights, list(test_x)).argmax(1) == test_y).mean()
    scan_x, scan_y = dataset(digits, 300, 400, np.random.default_rng(99))
    scan_acc = (classify_with(weights, list(scan_x)).argmax(1) == scan_y).mean()
    print(
        f"wrote {MODEL} ({MODEL.stat().st_size // 1024} KB); accuracy on samples 300-399: {acc:.3f} "
        f"as written, {scan_acc:.3f} redrawn as scans"
    )


if __name__ == "__main__":
    main()
