"""Unit tests run without the OCR model and without services: loading the model fails the test
(so a test that needs it cannot hide here), and the store is SQLite (the `store` fixture)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ocr_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a unit test tried to load the OCR model: move it to tests/integration")

    monkeypatch.setattr(onnxruntime, "InferenceSession", refuse)
