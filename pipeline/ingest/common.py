"""What every part of ingest shares: limits, the file and page records, the decoder errors that
mean bad bytes, and the refusals with their plain-Japanese messages."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image
from pypdf.errors import PyPdfError

from pipeline.errors import InputFileError

if TYPE_CHECKING:
    from pipeline.settings import Settings


KINDS = ("pdf", "tiff", "png", "jpeg")
HEAD_BYTES = 4096  # how much of the file `open_file` hands to `sniff`
PDF_RENDER_TIMEOUT_S = 120  # per page; a page that takes longer is treated as unreadable
_CHUNK = 1024 * 1024
_PIL_FORMAT = {"tiff": "TIFF", "png": "PNG", "jpeg": "JPEG"}

# Decoder failures that mean "the bytes are bad", as opposed to bugs in our code.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes PIL.UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # PIL: "broken PNG file", bad TIFF tags
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    struct.error,
    zlib.error,
    RecursionError,
    OverflowError,
)
_PDF_ERRORS: tuple[type[BaseException], ...] = (PyPdfError, AssertionError, *_DECODE_ERRORS)

_RESCAN = "スキャンし直すか、送り主にもう一度送ってもらってください。"


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Limits:
    """Input limits; a file over any of them is refused (and quarantined by the caller)."""

    max_bytes: int
    max_pages: int
    max_pixels: int  # per page, after rendering
    pdf_dpi: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_bytes=settings.max_file_bytes,
            max_pages=settings.max_pages,
            max_pixels=settings.max_pixels,
            pdf_dpi=settings.pdf_dpi,
        )


@dataclass(frozen=True)
class IngestedFile:
    path: Path
    sha256: str
    kind: str  # one of KINDS, decided by magic bytes
    size_bytes: int
    page_count: int


@dataclass(frozen=True)
class IngestedPage:
    index: int  # 0-based page (PDF page / TIFF frame) in the file
    image: np.ndarray  # uint8, H×W×3, BGR
    dpi: float | None  # from the file's metadata, or the PDF render dpi; None when unknown
    source_kind: str  # the file's kind
    bilevel: bool = False  # stored black and white only (a fax, a scanner's 1-bit mode)


TWO_LEVELS_SAMPLE = 16  # every 16th row and column: a grey page shows three levels there already


def two_levels(image: np.ndarray) -> bool:
    """Whether a page holds two grey levels only, black and white (a 1-bit image decoded, or a
    PDF's rendered G4 page): the scanner kept no grey, so the writing's edges are gone."""
    # Three levels among a sample are three on the page: the whole page is counted only when the
    # sample holds two or fewer (a bilevel page, or one nearly blank).
    sample = np.ascontiguousarray(image[::TWO_LEVELS_SAMPLE, ::TWO_LEVELS_SAMPLE])
    if int(np.count_nonzero(cv2.calcHist([sample], [0], None, [256], [0, 256]))) > 2:
        return False
    hist = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel()
    return int(np.count_nonzero(hist)) <= 2


def _check_pages(count: int, limit: int) -> None:
    if count > limit:
        raise _err(
            "too_many_pages",
            f"{count}ページあります（上限{limit}ページ）。申請書ごとに分けてスキャンし直してください。",
        )


def _check_pixels(index: int, size: tuple[int, int], limits: Limits) -> None:
    if size[0] * size[1] > limits.max_pixels:
        raise _too_large_image(index, size, limits)


def _too_large_image(index: int, size: tuple[int, int], limits: Limits) -> InputFileError:
    w, h = size
    return _err(
        "image_too_large",
        f"{index + 1}ページ目の画像が大きすぎます（{w}×{h}ピクセル、約{_fmt_pixels(w * h)}、"
        f"上限{_fmt_pixels(limits.max_pixels)}）。300dpi程度の解像度でスキャンし直してください。",
    )


def _to_bgr(im: Image.Image) -> np.ndarray:
    """Any PIL mode → contiguous uint8 H×W×3 BGR; alpha is composited on white."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        gray = _to_uint8_gray(np.asarray(im), mode)
        return cv2.cvtColor(np.ascontiguousarray(gray), cv2.COLOR_GRAY2BGR)
    if mode == "1":
        im = im.convert("L")
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("L", "RGB") and "transparency" in im.info:
        im = im.convert("RGBA")  # tRNS colour key
    if im.mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode == "L":
        gray = np.asarray(im, dtype=np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)  # SIMD: several times faster than numpy
    if im.mode != "RGB":
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    rgb = np.asarray(im, dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _to_uint8_gray(arr: np.ndarray, mode: str) -> np.ndarray:
    if mode == "F":
        a = arr.astype(np.float64)
        scale = 255.0 if np.nanmax(a, initial=0.0) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(a * scale), 0, 255).round().astype(np.uint8)
    # 16-bit samples (mode "I" is what older files/plugins use for them): 0..65535 → 0..255
    a = np.clip(arr.astype(np.int64), 0, 65535)
    return ((a + 128) // 257).astype(np.uint8)


# --------------------------------------------------------------------------- errors and formatting


def _err(reason: str, message: str) -> InputFileError:
    return InputFileError(message, reason=reason)


def _encrypted() -> InputFileError:
    return _err(
        "encrypted_pdf",
        "このPDFはパスワードで保護されているため開けません。"
        "紙の申請書をスキャンし直すか、送り主に保護のないPDFを送ってもらってください。",
    )


def _corrupt_page(index: int) -> InputFileError:
    return _err("corrupt_file", f"{index + 1}ページ目が壊れているため読み込めません。{_RESCAN}")


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + unit
    return f"{n}バイト"


def _fmt_pixels(n: int) -> str:
    """Pixel counts the way they are said: 6,000万画素, 1.4億画素 (not 14,400万), 36億画素."""
    if n >= 100_000_000:
        return f"{n / 100_000_000:,.1f}".removesuffix(".0") + "億画素"
    return f"{n / 10_000:,.0f}万画素" if n >= 10_000 else f"{n}画素"
