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


# An image this far (as a share) from the page's size at `blank_dpi` was not made at `blank_dpi`.
SIZE_TOLERANCE = 0.015


def expected_size(tpl: Template) -> tuple[int, int]:
    """The blank's width and height in pixels: the page's millimetres at `blank_dpi`."""
    k = tpl.blank_dpi / 25.4
    return round(tpl.page.width_mm * k), round(tpl.page.height_mm * k)


def read_blank(tpl: Template) -> np.ndarray:
    """The blank of `tpl`, grey, at `blank_dpi` (read-only: shared by every caller in the
    process). An image of another resolution (a blank scanned at 200 dpi in a template that says
    300) is resampled to the page's size at `blank_dpi`, where the template's millimetres are
    measured; `size_note` says so."""
    path = tpl.blank_path
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as e:
        raise TemplateError(f"{path}: the blank form cannot be read ({e.strerror})") from e
    gray = _read(str(path), stamp, tpl.blank_dpi)
    if size_note(tpl, gray) is None:
        return gray
    return _resampled(str(path), stamp, tpl.blank_dpi, expected_size(tpl))


def read_blank_as_stored(tpl: Template) -> np.ndarray:
    """The blank's own pixels (a PDF rendered at `blank_dpi`), before any resampling."""
    return _read(str(tpl.blank_path), tpl.blank_path.stat().st_mtime_ns, tpl.blank_dpi)


def size_note(tpl: Template, gray: np.ndarray) -> str | None:
    """What `template check` tells when the blank's pixels are not the page at `blank_dpi`."""
    want_w, want_h = expected_size(tpl)
    h, w = gray.shape[:2]
    if abs(w - want_w) <= SIZE_TOLERANCE * want_w and abs(h - want_h) <= SIZE_TOLERANCE * want_h:
        return None
    dpi = round(w / (tpl.page.width_mm / 25.4))
    return (
        f"the blank is {w}×{h} px, but a {tpl.page.width_mm:g}×{tpl.page.height_mm:g} mm page at "
        f"blank_dpi {tpl.blank_dpi} is {want_w}×{want_h}: read as if scanned at about {dpi} dpi and "
        f"resampled (say `blank_dpi: {dpi}` if that is its resolution, or check `page`)"
    )


@lru_cache(maxsize=16)
def _resampled(path: str, stamp: int, dpi: int, size: tuple[int, int]) -> np.ndarray:
    gray = _read(path, stamp, dpi)
    out = cv2.resize(
        np.asarray(gray), size, interpolation=cv2.INTER_AREA if size[0] < gray.shape[1] else cv2.INTER_CUBIC
    )
    out.flags.writeable = False
    return out


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
