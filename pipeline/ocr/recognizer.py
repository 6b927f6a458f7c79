"""The recogniser contract: what the fields stage needs from a text-line recogniser.

`OnnxRecognizer` (onnx_ppocr.py) is the production one; `FakeRecognizer` (fake.py) serves the
unit tests, which run without the model. Hands on per crop a (T, C) CTC probability matrix over
`labels`, plus decoded `Reading`s; `spec` says which model (its input height, stride) the
probabilities come from, which the digit reader and the coverage check use to map timesteps
back to pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.ocr.decode import FREE, Constraint
from pipeline.ocr.zoo import ModelSpec
from pipeline.result import Reading


@runtime_checkable
class Recognizer(Protocol):
    """What the pipeline needs from a recogniser (a fake in tests, ONNX in production)."""

    spec: ModelSpec

    @property
    def labels(self) -> tuple[str, ...]: ...

    def probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]: ...

    def read(
        self, crops: Sequence[np.ndarray], constraints: Constraint | Sequence[Constraint] | None = None
    ) -> list[Reading]: ...


def per_crop(constraints: Constraint | Sequence[Constraint] | None, n: int) -> list[Constraint]:
    """`read`'s constraints argument as one constraint per crop: None is free reading, one
    constraint applies to all, a sequence must have one per crop."""
    if constraints is None:
        return [FREE] * n
    if isinstance(constraints, Constraint):
        return [constraints] * n
    out = list(constraints)
    if len(out) != n:
        raise ValueError(f"{n} crops but {len(out)} constraints")
    return out
