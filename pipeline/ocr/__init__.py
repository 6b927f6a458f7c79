"""OCR stage: field crops in, `Reading`s (text + per-character probability) out.

The fields stage cuts one crop per field from the aligned page and calls
`OnnxRecognizer.read(crops, constraints)`. Recognition is PP-OCRv6-small (bundled in the
rapidocr wheel, run through onnxruntime, offline); decoding applies each field's `Constraint`
(a charset mask, optionally a pattern Viterbi) to the model's CTC probability matrix.

* `engine`   — the recogniser: preprocessing, batching, onnxruntime, probability matrices.
* `decode`   — greedy and pattern CTC decoding, `Constraint`, ready-made `PATTERNS`.
* `charsets` — named charsets as class masks, with look-alike merges.
* `zoo`      — model names, file locations and pinned sha256.
"""

from pipeline.ocr.charsets import CHARSET_NAMES, class_mask
from pipeline.ocr.decode import FREE, PATTERNS, Constraint, decode, digits_pattern, greedy, pattern
from pipeline.ocr.engine import OnnxRecognizer, Recognizer
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
