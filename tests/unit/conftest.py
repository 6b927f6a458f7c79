"""Unit tests run without the OCR model and without services: loading the model fails the test
(so a test that needs it cannot hide here), and the store is SQLite (the `store` fixture)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ocr_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    from pipeline.ocr.digits import MODEL_ONNX

    real = onnxruntime.InferenceSession

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        # The digit classifier (900 KB, milliseconds to load) is allowed: unit tests of digit
        # reading always ran it (it was NumPy before it ran on onnxruntime).
        if str(path) == str(MODEL_ONNX):
            return real(path, *args, **kwargs)
        raise AssertionError("a unit test tried to load the OCR model: move it to tests/integration")

    monkeypatch.setattr(onnxruntime, "InferenceSession", refuse)
