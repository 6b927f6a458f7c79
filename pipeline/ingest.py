"""Ingest: files in, page images out — or a clear refusal a clerk can act on.

`open_file()` makes every check that needs no decoding (size, type by magic bytes, page count,
encryption, truncation, pixel size from headers) and returns an `IngestedFile`; `iter_pages()`
then decodes one page at a time into uint8 BGR arrays (colour is kept: red 受付印 stamps are
removed later by channel). Every refusal is an `InputFileError` whose `reason` is a stable English
code and whose message is one or two sentences of plain Japanese. Messages never quote the file's
contents. `quarantine()` copies a refused file aside with a `reason.json`; the original is kept.

Reason codes: empty_file, too_large, unsupported_type, too_many_pages, encrypted_pdf,
corrupt_file, image_too_large.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import DependencyError, PyPdfError

from pipeline.errors import InputFileError

if TYPE_CHECKING:
    from pipeline.settings import Settings

__all__ = [
    "KINDS",
    "IngestedFile",
    "IngestedPage",
    "Limits",
    "iter_pages",
    "open_file",
    "quarantine",
    "sha256_file",
    "sniff",
]

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


# --------------------------------------------------------------------------- hashing and sniffing


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sniff(head: bytes) -> str:
    """The file kind from its first bytes (never its name): "pdf", "tiff", "png" or "jpeg".

    Raises InputFileError: "empty_file" for no bytes, otherwise "unsupported_type" with a message
    that says what the file appears to be.
    """
    if not head:
        raise _err("empty_file", "ファイルが空です（0バイト）。スキャンをやり直してください。")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    # PDF readers accept the header anywhere in the first 1024 bytes (some mailers prepend junk).
    if head.find(b"%PDF-", 0, 1024) >= 0:
        return "pdf"
    what = _describe(head)
    raise _err(
        "unsupported_type",
        f"このファイルは{what}のため読み込めません（読み込めるのはPDF・TIFF・PNG・JPEGだけです）。"
        "申請書をスキャナーでPDFかTIFFとして保存し直してください。",
    )


def _describe(head: bytes) -> str:
    """A clerk-readable name for a file type we do not accept. Never quotes the contents."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        if b"word/" in head:
            return "Word文書"
        if b"xl/" in head:
            return "Excel文書"
        if b"ppt/" in head:
            return "PowerPoint文書"
        return "ZIP圧縮ファイル"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "古い形式のOffice文書（Word・Excelなど）"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF画像"
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "BMP画像"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP画像"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC画像（iPhoneの写真など）"
        if brand in (b"avif", b"avis"):
            return "AVIF画像"
        return "動画ファイル"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JPEG 2000画像"
    if head.startswith(b"\x1f\x8b"):
        return "gzip圧縮ファイル"
    if head.startswith(b"Rar!\x1a\x07"):
        return "RAR圧縮ファイル"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z圧縮ファイル"
    if head.startswith(b"{\\rtf"):
        return "リッチテキスト（RTF）文書"
    if head.startswith(b"%!PS"):
        return "PostScriptファイル"
    if head.startswith(b"\x7fELF") or (head.startswith(b"MZ") and b"\x00" in head[:64]):
        return "プログラム（実行ファイル）"
    if _looks_like_text(head):
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
        if start.startswith(b"<"):
            if b"<svg" in start:
                return "SVG画像"
            if b"<html" in start or b"<!doctype html" in start:
                return "HTMLファイル（ウェブページ）"
            if start.startswith(b"<?xml"):
                return "XMLファイル"
        return "テキストファイル"
    return "不明な形式のファイル"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with a byte-order mark
    sample = head[:HEAD_BYTES]
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8-sig", "cp932", "euc_jp"):
        try:
            # final=False: a multibyte character cut off by the head boundary is not an error
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\x1b")
        if control <= len(text) // 100:
            return True
    return False


# --------------------------------------------------------------------------- open_file


def open_file(path: Path, limits: Limits) -> IngestedFile:
    """Check a file without decoding its pixels and describe it.

    Checks, in order: size ("empty_file", "too_large"), type by magic bytes ("unsupported_type"),
    then per kind: encryption ("encrypted_pdf"), truncation/corruption ("corrupt_file"), page
    count ("too_many_pages") and each page's pixel size from headers / the PDF page box at
    `limits.pdf_dpi` ("image_too_large"). A missing or unreadable path raises plain OSError:
    that is the caller's problem, not the file's.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise _err("empty_file", "ファイルが空です（0バイト）。スキャンをやり直してください。")
    if size > limits.max_bytes:
        raise _err(
            "too_large",
            f"ファイルが大きすぎます（{_fmt_bytes(size)}、上限{_fmt_bytes(limits.max_bytes)}）。"
            "解像度を下げるか、申請書ごとに分けてスキャンし直してください。",
        )
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    kind = sniff(head)
    digest = sha256_file(path)

    if kind == "pdf":
        sizes = _pdf_page_sizes(path, limits.max_pages)
        for i, (w_pt, h_pt) in enumerate(sizes):
            _check_pdf_pixels(i, w_pt, h_pt, limits)
        page_count = len(sizes)
    else:
        with _open_image(path, kind, limits, page=0) as im:
            frames = _frame_count(im, kind)
            _check_pages(frames, limits.max_pages)
            for i in range(frames):
                _seek(im, i)
                _check_pixels(i, im.size, limits)
            page_count = frames
    if page_count == 0:
        raise _err("corrupt_file", f"ページが1枚も入っていません。{_RESCAN}")
    return IngestedFile(path=path, sha256=digest, kind=kind, size_bytes=size, page_count=page_count)


# --------------------------------------------------------------------------- iter_pages


def iter_pages(f: IngestedFile, limits: Limits) -> Iterator[IngestedPage]:
    """Decode the file's pages one at a time as uint8 BGR images.

    The pixel limit is checked for each page before it is decoded or rendered.
    """
    if f.kind == "pdf":
        yield from _iter_pdf(f, limits)
    elif f.kind in _PIL_FORMAT:
        yield from _iter_raster(f, limits)
    else:
        raise ValueError(f"unknown kind {f.kind!r}")


def _iter_pdf(f: IngestedFile, limits: Limits) -> Iterator[IngestedPage]:
    # Imported here so that the rest of the module works where poppler is absent.
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError

    sizes = _pdf_page_sizes(f.path, limits.max_pages)
    dpi = limits.pdf_dpi
    for i, (w_pt, h_pt) in enumerate(sizes):
        _check_pdf_pixels(i, w_pt, h_pt, limits)
        try:
            rendered = convert_from_path(
                f.path,
                dpi=dpi,
                first_page=i + 1,
                last_page=i + 1,
                thread_count=1,
                timeout=PDF_RENDER_TIMEOUT_S,
            )
        except PDFPopplerTimeoutError as e:
            raise _err(
                "corrupt_file", f"{i + 1}ページ目の読み込みに時間がかかりすぎたため中止しました。{_RESCAN}"
            ) from e
        except (PDFPageCountError, PDFSyntaxError, *_DECODE_ERRORS) as e:
            raise _corrupt_page(i) from e
        if len(rendered) != 1:
            raise _corrupt_page(i)
        with rendered[0] as im:
            _check_pixels(i, im.size, limits)  # the box-based estimate should already hold
            try:
                image = _to_bgr(im)
            except _DECODE_ERRORS as e:
                raise _corrupt_page(i) from e
        yield IngestedPage(index=i, image=image, dpi=float(dpi), source_kind="pdf")


def _iter_raster(f: IngestedFile, limits: Limits) -> Iterator[IngestedPage]:
    with _open_image(f.path, f.kind, limits, page=0) as im:
        frames = _frame_count(im, f.kind)
        _check_pages(frames, limits.max_pages)
        for i in range(frames):
            _seek(im, i)
            _check_pixels(i, im.size, limits)
            try:
                im.load()
                dpi = _image_dpi(im)
                if f.kind == "tiff":
                    # exif_transpose would read frame 0's tags; TIFF keeps Orientation per frame.
                    page = _orient(im, im.tag_v2.get(274, 1))  # type: ignore[attr-defined]
                else:
                    page = _exif_transpose(im)
                image = _to_bgr(page)
            except Image.DecompressionBombError as e:
                raise _too_large_image(i, im.size, limits) from e
            except _DECODE_ERRORS as e:
                raise _corrupt_page(i) from e
            yield IngestedPage(index=i, image=image, dpi=dpi, source_kind=f.kind)


# --------------------------------------------------------------------------- PDF helpers


def _pdf_page_sizes(path: Path, max_pages: int) -> list[tuple[float, float]]:
    """Each page's MediaBox × UserUnit in points. Checks encryption, truncation and page count."""
    _check_pdf_tail(path)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only files open with an empty one
            except DependencyError:
                # AES needs `cryptography`, which we do not ship; poppler can tell us instead.
                return _pdfinfo_page_sizes(path, max_pages)
            if not opened:
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


# --------------------------------------------------------------------------- raster helpers


def _open_image(path: Path, kind: str, limits: Limits, page: int) -> Image.Image:
    """Open (header only) with PIL, restricted to the sniffed format."""
    try:
        return Image.open(path, formats=[_PIL_FORMAT[kind]])
    except Image.DecompressionBombError as e:
        # PIL refuses outright above 2×MAX_IMAGE_PIXELS, before telling us the size.
        raise _err(
            "image_too_large",
            f"{page + 1}ページ目の画像が大きすぎます（上限{_fmt_pixels(limits.max_pixels)}）。"
            "300dpi程度の解像度でスキャンし直してください。",
        ) from e
    except _DECODE_ERRORS as e:
        raise _err("corrupt_file", f"画像ファイルが壊れているため読み込めません。{_RESCAN}") from e


def _frame_count(im: Image.Image, kind: str) -> int:
    if kind != "tiff":
        return 1  # first frame of an APNG / MPO only
    try:
        return int(getattr(im, "n_frames", 1))
    except _DECODE_ERRORS as e:
        raise _err("corrupt_file", f"TIFFファイルが壊れているため読み込めません。{_RESCAN}") from e


def _seek(im: Image.Image, index: int) -> None:
    try:
        im.seek(index)
    except _DECODE_ERRORS as e:
        raise _corrupt_page(index) from e


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


def _image_dpi(im: Image.Image) -> float | None:
    dpi: Any = im.info.get("dpi")
    if isinstance(dpi, tuple | list) and dpi:
        dpi = dpi[0]
    try:
        value = float(dpi)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or not 10 <= value <= 10_000:
        return None
    return round(value, 2)  # PNG stores pixels per metre: 11811 → 299.9994 → 300.0


_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orient(im: Image.Image, orientation: Any) -> Image.Image:
    method = _ORIENT.get(orientation) if isinstance(orientation, int) else None
    return im.transpose(method) if method is not None else im


def _exif_transpose(im: Image.Image) -> Image.Image:
    """`ImageOps.exif_transpose`, ignoring unreadable EXIF (the pixels are still fine)."""
    try:
        out = ImageOps.exif_transpose(im)
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError, struct.error):
        return im
    return out if out is not None else im


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
    return f"{n / 10_000:,.0f}万画素" if n >= 10_000 else f"{n}画素"


# --------------------------------------------------------------------------- quarantine

_SHA_RE = re.compile(r"[0-9a-f]{16,64}")
_REASON_RE = re.compile(r"[a-z0-9_]{1,64}")
_EXT_RE = re.compile(r"\.[a-z0-9]{1,10}")


def quarantine(path: Path, quarantine_dir: Path, sha256: str, reason: str, message: str) -> Path:
    """Copy `path` to `quarantine_dir/<sha256[:16]>_<reason>/original<ext>` with a `reason.json`.

    The original is never moved or deleted. Calling it again for the same file and reason changes
    nothing (the first `reason.json` is kept; a different file name is added to `other_names`).
    Returns the folder.
    """
    path = Path(path)
    sha256 = sha256.lower()
    if not _SHA_RE.fullmatch(sha256):
        raise ValueError("sha256 must be a hex digest")
    if not _REASON_RE.fullmatch(reason):
        raise ValueError(f"bad reason code {reason!r}")
    folder = Path(quarantine_dir) / f"{sha256[:16]}_{reason}"
    folder.mkdir(parents=True, exist_ok=True)

    ext = path.suffix.lower()
    stored = folder / ("original" + (ext if _EXT_RE.fullmatch(ext) else ""))
    size = path.stat().st_size
    if not (stored.is_file() and stored.stat().st_size == size):
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, stored)
        finally:
            tmp.unlink(missing_ok=True)

    meta_path = folder / "reason.json"
    meta: dict[str, Any] | None = None
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None  # half-written by a crash: rewrite it
    if meta is None:
        meta = {
            "reason": reason,
            "message": message,
            "original_name": path.name,
            "stored_as": stored.name,
            "size_bytes": size,
            "sha256": sha256,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    elif path.name != meta.get("original_name") and path.name not in meta.get("other_names", []):
        meta["other_names"] = [*meta.get("other_names", []), path.name]
    else:
        return folder
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, meta_path)
    finally:
        tmp.unlink(missing_ok=True)
    return folder
