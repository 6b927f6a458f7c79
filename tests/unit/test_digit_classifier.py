"""The digit classifier runs on onnxruntime from `digits_cnn.onnx`, the network of
`digits_cnn.npz` exported by `python -m tools.train_digits --export`: the two must stay one model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.ocr import digits
from tests.conftest import ROOT
from tools.train_digits import ASSET, export_onnx


def test_onnx_and_numpy_read_every_digit_alike() -> None:
    mnist = np.load(ASSET)["digits"]  # samples 0-399 of each digit, as the project may use
    imgs = [digits.normalise(mnist[d, i] > 100) for d in range(10) for i in range(300, 330)]
    labels = np.repeat(np.arange(10), 30)
    with np.load(digits.MODEL) as z:
        weights = {k: z[k] for k in z.files}
    fast, slow = digits.classify(imgs), digits.classify_with(weights, imgs)
    assert fast.shape == (300, 10) and fast.dtype == np.float32
    assert float(np.abs(fast - slow).max()) < 1e-5
    assert (fast.argmax(1) == slow.argmax(1)).all()
    assert (fast.argmax(1) == labels).mean() > 0.95  # a model, not noise
    assert digits.classify([]).shape == (0, 10)


def test_the_committed_onnx_is_the_export_of_the_committed_weights(tmp_path: Path) -> None:
    with np.load(digits.MODEL) as z:
        export_onnx({k: z[k] for k in z.files}, tmp_path / "d.onnx")
    assert (tmp_path / "d.onnx").read_bytes() == digits.MODEL_ONNX.read_bytes(), (
        "digits_cnn.onnx is stale: run python -m tools.train_digits --export"
    )
    assert digits.MODEL_ONNX.is_relative_to(ROOT)
