"""OCR stage: field crops in, CTC probability matrices and `Reading`s (text + per-character
probability) out.

The fields stage cuts one crop per field from the aligned page, calls the recogniser's
`probs(crops)` once per page and decodes each matrix itself (`decode`, `lexicon`, `digits`,
`coverage`), so that it can re-read the same matrix under several hypotheses. Recognition is
PP-OCRv6-small (bundled in the rapidocr wheel, run through onnxruntime, offline); decoding
applies each field's `Constraint` (a charset mask, optionally a pattern Viterbi).

* `recognizer` — the `Recognizer` protocol (labels, spec, probs, read).
* `onnx_ppocr` — the production recogniser: preprocessing, batching, onnxruntime.
* `fake`       — `FakeRecognizer` for unit tests (no model).
* `decode`     — greedy and pattern CTC decoding, `Constraint`, ready-made `PATTERNS`.
* `charsets`   — named charsets as class masks, with look-alike merges.
* `zoo`        — model names, file locations and pinned sha256.
* `weights/`   — the committed digit classifier (recipe: tools/train_digits.py).
"""

from pipeline.ocr.charsets import CHARSET_NAMES, class_mask
from pipeline.ocr.decode import FREE, PATTERNS, Constraint, decode, digits_pattern, greedy, pattern
from pipeline.ocr.onnx_ppocr import OnnxRecognizer
from pipeline.ocr.recognizer import Recognizer
from pipeline.ocr.zoo import MODELS, ModelFileError, get_spec, model_path

__all__ = [
    "CHARSET_NAMES",
    "FREE",
    "MODELS",
    "PATTERNS",
    "Constraint",
    "ModelFileError",
    "OnnxRecognizer",
    "Recognizer",
    "class_mask",
    "decode",
    "digits_pattern",
    "get_spec",
    "greedy",
    "model_path",
    "pattern",
]
