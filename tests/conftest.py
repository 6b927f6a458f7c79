"""Shared fixtures: the real engine (templates + ONNX model), loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo"


@pytest.fixture(scope="session")
def engine():
    from pipeline.run import Engine
    from pipeline.settings import Settings

    return Engine.load(Settings(data_dir=Path("/nonexistent-not-used")))
