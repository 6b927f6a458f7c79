"""A recogniser without a model, for unit tests of the stages above OCR.

`FakeRecognizer` implements the `Recognizer` protocol: it is told what each crop says (a list
in call order, or a function of the crop) and hands back CTC probability matrices that spell
exactly that text, one character per `spec.timestep_px` column block, spread over the crop's
width as the real model does. Decoding, lexicon matching and the correction passes then run on
those matrices unchanged, so their logic is tested without loading PP-OCR.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.ocr.decode import Constraint, decode
from pipeline.ocr.recognizer import per_crop
from pipeline.ocr.zoo import ModelSpec, get_spec
from pipeline.result import Reading

# Enough of the real dictionary for forms: digits, separators, kana, era names and a few kanji.
DEFAULT_LABELS = (
    "0123456789-/年月日令和平成昭元"
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー"
    "ァィゥェォッャュョガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポ"
    "山田太郎花子東京都大阪府市区町丁目番地号"
)


class FakeRecognizer:
    """Scripted recogniser: `script` is a sequence of texts (one per crop, in call order across
    calls) or a function crop -> text. `prob` is the probability given to each scripted
    character; the rest of each column is spread evenly over the other classes."""

    def __init__(
        self,
        script: Sequence[str] | Callable[[np.ndarray], str],
        labels: str | Sequence[str] = DEFAULT_LABELS,
        prob: float = 0.98,
        spec: ModelSpec | None = None,
    ) -> None:
        if not 0.0 < prob <= 1.0:
            raise ValueError(f"prob must be in (0, 1], got {prob}")
        self.spec: ModelSpec = spec or get_spec("ppocrv6_small")
        # Same layout as the real model: blank first, the dictionary, then a space.
        self._labels: tuple[str, ...] = ("", *dict.fromkeys(labels), " ")
        self._index = {ch: i for i, ch in enumerate(self._labels)}
        self._script = script if callable(script) else list(script)
        self._calls = 0
        self.prob = prob
        self.crops_seen = 0

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def _text_for(self, crop: np.ndarray) -> str:
        if callable(self._script):
            return self._script(crop)
        if self._calls >= len(self._script):
            raise IndexError(f"FakeRecognizer scripted {len(self._script)} crops, asked for more")
        text = self._script[self._calls]
        self._calls += 1
        return text

    def matrix(self, text: str, width_px: int) -> np.ndarray:
        """The (T, C) matrix that spells `text` across a crop `width_px` wide."""
        missing = [ch for ch in text if ch not in self._index]
        if missing:
            raise ValueError(f"FakeRecognizer has no label for {''.join(missing)!r}")
        width = max(width_px, self.spec.min_width)
        steps = max(math.ceil(width / self.spec.timestep_px), 2 * len(text) + 1)
        n = len(self._labels)
        rest = (1.0 - self.prob) / (n - 1)
        out = np.full((steps, n), rest, dtype=np.float32)
        out[:, 0] = self.prob  # blank everywhere but where a character peaks
        used = min(steps, max(1, math.ceil(width_px / self.spec.timestep_px)))
        for k, ch in enumerate(text):
            t = min(steps - 1, int((k + 0.5) * used / max(1, len(text))))
            out[t, :] = rest
            out[t, self._index[ch]] = self.prob
        return out

    def probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = []
        for crop in crops:
            h, w = crop.shape[:2]
            scaled = round(w * self.spec.input_height / max(1, h))
            out.append(self.matrix(self._text_for(crop), scaled))
            self.crops_seen += 1
        return out

    def read(
        self, crops: Sequence[np.ndarray], constraints: Constraint | Sequence[Constraint] | None = None
    ) -> list[Reading]:
        wanted = per_crop(constraints, len(crops))
        return [decode(m, self.labels, c) for m, c in zip(self.probs(crops), wanted, strict=True)]
