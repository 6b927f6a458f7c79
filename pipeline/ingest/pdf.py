"""PDF pages: sizes from the page boxes (pypdf, or pdfinfo when pypdf cannot decrypt), checked
before rendering; encrypted files are read when they open without a password and refused
otherwise; one page at a time rendered by poppler (`pdftoppm`) with a timeout."""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from pypdf import PdfReader
from pypdf.errors import DependencyError

from pipeline.errors import InputFileError
from pipeline.ingest.common import (
    _PDF_ERRORS,
    _RESCAN,
    PDF_RENDER_TIMEOUT_S,
    IngestedFile,
    IngestedPage,
    Limits,
    _check_pages,
    _check_pixels,
    _corrupt_page,
    _encrypted,
    _err,
    _fmt_pixels,
    two_levels,
)

log = logging.getLogger("shinsei.ingest")


def _iter_pdf(f: IngestedFile, limits: Limits) -> Iterator[IngestedPage]:
    sizes = _pdf_page_sizes(f.path, limits.max_pages)
    dpi = limits.pdf_dpi
    for i, (w_pt, h_pt) in enumerate(sizes):
        _check_pdf_pixels(i, w_pt, h_pt, limits)
        image = render_page(f.path, i, dpi)
        _check_pixels(i, (image.shape[1], image.shape[0]), limits)  # the box-based estimate should hold
        yield IngestedPage(index=i, image=image, dpi=float(dpi), source_kind="pdf", bilevel=two_levels(image))


def render_page(path: Path, index: int, dpi: int) -> np.ndarray:
    """Page `index` (0-based) of `path` rendered by poppler's `pdftoppm` at `dpi`, as BGR: the
    command pdf2image runs, its PPM read straight from the pipe by OpenCV (the same pixels,
    without PIL's decoding and its copy into NumPy). Like pdf2image, the exit status is not
    judged: a page that yields no image is corrupt, one that takes over PDF_RENDER_TIMEOUT_S is
    abandoned."""
    page = str(index + 1)
    cmd = ["pdftoppm", "-r", str(dpi), str(path), "-f", page, "-l", page]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PDF_RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise _err(
            "corrupt_file", f"{index + 1}ページ目の読み込みに時間がかかりすぎたため中止しました。{_RESCAN}"
        ) from e
    except FileNotFoundError as e:  # an installation fault, not the clerk's file
        raise RuntimeError("pdftoppm is not installed (Debian: apt install poppler-utils)") from e
    data = np.frombuffer(done.stdout, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION) if data.size else None
    if image is None:
        raise _corrupt_page(index)
    return image


# --------------------------------------------------------------------------- PDF helpers


def _pdf_page_sizes(path: Path, max_pages: int) -> list[tuple[float, float]]:
    """Each page's MediaBox × UserUnit in points. Checks encryption, truncation and page count.

    An encrypted PDF is read when it opens with an empty password (an owner password only
    restricts printing or copying) and refused as "encrypted_pdf" otherwise, whatever the cipher
    (RC4 40/128, AES-128, AES-256). pypdf tries the empty password inside `PdfReader(...)`, so
    its errors are caught around the construction too. Where pypdf cannot undo the encryption
    here (AES without `cryptography`, a security handler it does not implement), poppler's
    `pdfinfo` decides instead.
    """
    _check_pdf_tail(path)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _encrypted()
        count = len(reader.pages)
        _check_pages(count, max_pages)
        sizes = []
        for page in reader.pages:
            box = page.mediabox
            unit = float(page.user_unit or 1.0)
            sizes.append((abs(float(box.width)) * unit, abs(float(box.height)) * unit))
        return sizes
    except InputFileError:
        raise
    except (DependencyError, NotImplementedError) as e:
        log.info("pypdf cannot open %s (%s: %s); asking pdfinfo", path.name, type(e).__name__, e)
        return _pdfinfo_page_sizes(path, max_pages)
    except _PDF_ERRORS as e:
        raise _err(
            "corrupt_file", f"PDFファイルが壊れているか途中で切れているため読み込めません。{_RESCAN}"
        ) from e


def _check_pdf_tail(path: Path) -> None:
    """A PDF must end with %%EOF (give or take trailing junk); otherwise it was cut off.

    pypdf in lenient mode would otherwise "recover" a truncated file and silently lose pages.
    """
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise _err("corrupt_file", f"PDFファイルが途中で切れているため読み込めません。{_RESCAN}")


def _pdfinfo_page_sizes(path: Path, max_pages: int) -> list[tuple[float, float]]:
    def pdfinfo(*args: str) -> str:
        try:
            proc = subprocess.run(["pdfinfo", *args, str(path)], capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired as e:
            raise _err("corrupt_file", f"PDFファイルを読み込めません。{_RESCAN}") from e
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            if "password" in err.lower():
                raise _encrypted()
            raise _err("corrupt_file", f"PDFファイルが壊れているため読み込めません。{_RESCAN}")
        return proc.stdout.decode("utf-8", "replace")

    m = re.search(r"^Pages:\s+(\d+)", pdfinfo(), re.M)
    if not m:
        raise _err("corrupt_file", f"PDFファイルが壊れているため読み込めません。{_RESCAN}")
    count = int(m.group(1))
    _check_pages(count, max_pages)
    if count == 0:
        return []
    boxes = re.findall(
        r"^Page\s+\d+\s+MediaBox:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
        pdfinfo("-box", "-f", "1", "-l", str(count)),
        re.M,
    )
    if len(boxes) != count:
        raise _err("corrupt_file", f"PDFファイルが壊れているため読み込めません。{_RESCAN}")
    return [(abs(float(x1) - float(x0)), abs(float(y1) - float(y0))) for x0, y0, x1, y1 in boxes]


def _check_pdf_pixels(index: int, w_pt: float, h_pt: float, limits: Limits) -> None:
    w_px = math.ceil(w_pt * limits.pdf_dpi / 72)
    h_px = math.ceil(h_pt * limits.pdf_dpi / 72)
    if w_px * h_px > limits.max_pixels:
        raise _err(
            "image_too_large",
            f"{index + 1}ページ目は用紙が大きすぎます（{limits.pdf_dpi}dpiで{w_px}×{h_px}ピクセル、"
            f"約{_fmt_pixels(w_px * h_px)}、上限{_fmt_pixels(limits.max_pixels)}）。"
            "A3以下の用紙サイズでスキャンし直してください。",
        )
