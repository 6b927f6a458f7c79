"""A template's blank form as a grey image at the template's `blank_dpi`.

Cities get their blank forms as PDFs as often as scans: `blank:` may name a PNG, JPEG or TIFF (at
`blank_dpi`, as the template's millimetres assume) or a PDF, whose first page is rendered at
`blank_dpi` by poppler, the renderer ingest uses. A blank that cannot be read is a template error
that says so, not an OpenCV assertion deep in alignment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import TemplateError
from pipeline.forms.template import Template

PDF_RENDER_TIMEOUT_S = 60


def read_blank(tpl: Template) -> np.ndarray:
    """The blank of `tpl`, grey, read-only (shared by every caller in the process)."""
    path = tpl.blank_path
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as e:
        raise TemplateError(f"{path}: the blank form cannot be read ({e.strerror})") from e
    return _read(str(path), stamp, tpl.blank_dpi)


@lru_cache(maxsize=16)
def _read(path: str, _stamp: int, dpi: int) -> np.ndarray:
    """`path` as grey pixels; `_stamp` (its modification time) makes an edited blank a new key."""
    gray = (
        _render_pdf(Path(path), dpi)
        if path.lower().endswith(".pdf")
        else cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    )
    if gray is None or gray.size == 0:
        raise TemplateError(
            f"{path}: the blank form is not an image or PDF that can be read (PNG, JPEG, TIFF or PDF)"
        )
    gray.flags.writeable = False
    return gray


def _render_pdf(path: Path, dpi: int) -> np.ndarray | None:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import (
        PDFInfoNotInstalledError,
        PDFPageCountError,
        PDFPopplerTimeoutError,
        PDFSyntaxError,
    )

    try:
        pages = convert_from_path(
            path, dpi=dpi, first_page=1, last_page=1, grayscale=True, timeout=PDF_RENDER_TIMEOUT_S
        )
    except (PDFInfoNotInstalledError, PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError, OSError):
        return None
    if not pages:
        return None
    with pages[0] as page:
        return np.array(page.convert("L"), dtype=np.uint8)
