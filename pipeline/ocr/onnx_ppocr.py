"""Text-line recognition of field crops with PP-OCRv6-small on onnxruntime (CPU, offline).

Input: field crops cut from the aligned page (uint8, grayscale or BGR, one text line each).
Output (`probs`): per crop a (T, C) softmax matrix, class 0 the CTC blank, then the model's
dictionary, then a space; `labels` names the classes. `read` decodes those matrices under each
field's `Constraint` into `Reading`s (text + per-character probability) for the fields stage.

We call the ONNX graph directly, not rapidocr's API, so that the pipeline owns preprocessing
and the probability matrix (rapidocr's calls return only text and a line score).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.ocr.decode import Constraint, decode
from pipeline.ocr.recognizer import per_crop
from pipeline.ocr.zoo import ModelSpec, get_spec, model_path
from pipeline.result import Reading

MAX_BATCH = 8
# A crop joins the current batch only while its width is within this factor of the batch's
# narrowest; otherwise short fields would be padded (and computed) out to a long address's width.
BATCH_WIDTH_RATIO = 1.5
# Extra timesteps kept past a crop's real width: a character at the right edge may peak there.
TRIM_MARGIN = 1


class OnnxRecognizer:
    """PP-OCRv6-small (or another zoo model) in one onnxruntime session, created on first use.

    One instance per process; `probs`/`read` are safe to call from several threads (onnxruntime
    sessions are thread-safe for `run`). `threads` bounds the CPU cores one call uses.
    """

    def __init__(self, model: str = "ppocrv6_small", threads: int = 2) -> None:
        self.spec: ModelSpec = get_spec(model)  # unknown names fail here, not on first crop
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.threads = threads
        self._session = None
        self._labels: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    # -- model --------------------------------------------------------------------------------

    def _load(self):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort  # heavy import; only workers that read fields pay for it

                path = model_path(self.spec.name)
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                opts.log_severity_level = 3
                session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                meta = session.get_modelmeta().custom_metadata_map
                dictionary = meta[self.spec.labels_key].splitlines()
                # PaddleOCR CTC layout: blank first, dictionary, then a space as the last class.
                labels = ("", *dictionary, " ")
                n_out = session.get_outputs()[0].shape[-1]
                if isinstance(n_out, int) and n_out != len(labels):
                    raise RuntimeError(f"model has {n_out} classes but {len(labels)} labels")
                self._input_name = session.get_inputs()[0].name
                self._labels = labels
                self._session = session
        return self._session

    @property
    def labels(self) -> tuple[str, ...]:
        if self._labels is None:
            self._load()
        if self._labels is None:  # _load sets them or raises
            raise RuntimeError(f"OCR model {self.spec.name!r} loaded without labels")
        return self._labels

    # -- preprocessing ------------------------------------------------------------------------

    def _prepare(self, crop: np.ndarray) -> np.ndarray:
        """One crop -> (3, H, w) float32 in [-1, 1], H = model height, aspect ratio kept."""
        img = np.asarray(crop)
        if img.dtype != np.uint8:
            raise ValueError(f"crop must be uint8, got {img.dtype}")
        if img.size == 0:
            raise ValueError(f"empty crop {img.shape}")
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.ndim == 3 and img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        elif not (img.ndim == 3 and img.shape[2] == 3):
            raise ValueError(f"crop must be HxW or HxWx3 (BGR), got shape {img.shape}")
        h, w = img.shape[:2]
        height = self.spec.input_height
        new_w = max(1, math.ceil(height * w / h))
        # Bilinear, as in PaddleOCR's own preprocessing: the network was trained on it.
        resized = cv2.resize(img, (new_w, height), interpolation=cv2.INTER_LINEAR)
        x = resized.astype(np.float32).transpose(2, 0, 1)
        x *= 2.0 / 255.0
        x -= 1.0
        return x

    def _batches(self, widths: list[int]) -> list[list[int]]:
        """Crop indices grouped by similar width, at most MAX_BATCH per group."""
        order = sorted(range(len(widths)), key=lambda i: widths[i])
        batches: list[list[int]] = []
        for i in order:
            cur = batches[-1] if batches else None
            if (
                cur is not None
                and len(cur) < MAX_BATCH
                and max(widths[i], self.spec.min_width)
                <= BATCH_WIDTH_RATIO * max(widths[cur[0]], self.spec.min_width)
            ):
                cur.append(i)
            else:
                batches.append([i])
        return batches

    # -- inference ----------------------------------------------------------------------------

    def probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per crop, a (T_i, C) float32 softmax matrix, in the order of `crops`.

        T_i covers the crop's own width (plus a timestep of margin); timesteps that only saw
        padding added to reach the minimum or the batch width are dropped.
        """
        if len(crops) == 0:
            return []
        session = self._load()
        prepared = [self._prepare(c) for c in crops]
        widths = [p.shape[2] for p in prepared]
        out: list[np.ndarray | None] = [None] * len(crops)
        for batch in self._batches(widths):
            width = max(self.spec.min_width, max(widths[i] for i in batch))
            # Zero in normalised space (mid-grey), as PaddleOCR pads; the model was trained on it.
            x = np.zeros((len(batch), 3, self.spec.input_height, width), dtype=np.float32)
            for row, i in enumerate(batch):
                x[row, :, :, : widths[i]] = prepared[i]
            y = session.run(None, {self._input_name: x})[0]
            steps = y.shape[1]
            if abs(steps - width / self.spec.timestep_px) > 1:
                # Digit segmentation maps timesteps back to crop pixels with this figure.
                raise ValueError(
                    f"OCR model {self.spec.name!r} gave {steps} timesteps for {width} px: "
                    f"its ModelSpec.timestep_px ({self.spec.timestep_px}) is wrong"
                )
            for row, i in enumerate(batch):
                keep = min(steps, math.ceil(steps * widths[i] / width) + TRIM_MARGIN)
                out[i] = np.ascontiguousarray(y[row, :keep])
        return [m for m in out if m is not None]

    def read(
        self, crops: Sequence[np.ndarray], constraints: Constraint | Sequence[Constraint] | None = None
    ) -> list[Reading]:
        """Recognise and decode. `constraints`: one for all crops, one per crop, or None (free)."""
        wanted = per_crop(constraints, len(crops))
        matrices = self.probs(crops)
        labels = self.labels
        return [decode(m, labels, c) for m, c in zip(matrices, wanted, strict=True)]
