"""TIFF, PNG and JPEG pages: frame count and pixel size from headers, one frame at a time decoded,
given square pixels where its resolution differs across and down (a fax's 204×98 dpi), and turned
upright by its EXIF/TIFF orientation."""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from pipeline.ingest.common import (
    _DECODE_ERRORS,
    _PIL_FORMAT,
    _RESCAN,
    IngestedFile,
    IngestedPage,
    Limits,
    _check_pages,
    _check_pixels,
    _corrupt_page,
    _err,
    _fmt_pixels,
    _to_bgr,
    _too_large_image,
    two_levels,
)


def _iter_raster(f: IngestedFile, limits: Limits) -> Iterator[IngestedPage]:
    with _open_image(f.path, f.kind, limits, page=0) as im:
        frames = _frame_count(im, f.kind)
        _check_pages(frames, limits.max_pages)
        for i in range(frames):
            _seek(im, i)
            _check_pixels(i, im.size, limits)
            try:
                stored, mode, (across, down) = _stored_page(im, f)
                size, dpi = square_size(stored.shape[1], stored.shape[0], across, down)
                _check_pixels(i, size, limits)  # before the resampled page is made
                bilevel = mode == "1" or two_levels(stored)  # before squaring greys the edges
                image = square_pixels(stored, size)
            except Image.DecompressionBombError as e:
                raise _too_large_image(i, im.size, limits) from e
            except _DECODE_ERRORS as e:
                raise _corrupt_page(i) from e
            yield IngestedPage(index=i, image=image, dpi=dpi, source_kind=f.kind, bilevel=bilevel)


# --------------------------------------------------------------------------- raster helpers


def _stored_page(
    im: Image.Image, f: IngestedFile
) -> tuple[np.ndarray, str, tuple[float | None, float | None]]:
    """The current frame turned upright, as BGR; its PIL mode; its resolution across and down
    (swapped where the turn is a quarter). A plain PNG is decoded by OpenCV (no EXIF: upright)."""
    plain = _decode_plain_png(f.path) if f.kind == "png" else None
    if plain is not None:
        return plain, im.mode, _image_dpi_xy(im)
    with _no_bomb_warning():
        im.load()
    across, down = _image_dpi_xy(im)
    if f.kind == "tiff":
        # exif_transpose would read frame 0's tags; TIFF keeps Orientation per frame.
        orientation = im.tag_v2.get(274, 1)  # type: ignore[attr-defined]
        page = _orient(im, orientation)
    else:
        orientation = _exif_orientation(im)
        # Upright already (most scans): exif_transpose would only copy the page.
        page = _exif_transpose(im) if orientation != 1 else im
    if orientation in _TURNS_QUARTER:  # the stored rows are the page's columns now
        across, down = down, across
    return _to_bgr(page), page.mode, (across, down)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (bit depth, colour type) of IHDR that OpenCV decodes to exactly PIL's pixels: 8-bit RGB, 8-bit
# grey and 1-bit black and white (as 0 and 255, as PIL's "1" → "L"). Palettes, alpha, 16 bits and
# transparency keys go through PIL, which composites and converts them.
_PLAIN_PNG = {(8, 2): cv2.IMREAD_COLOR, (8, 0): cv2.IMREAD_GRAYSCALE, (1, 0): cv2.IMREAD_GRAYSCALE}


def _plain_png_flag(path: Path) -> int | None:
    """The OpenCV read flag for a PNG that OpenCV decodes as PIL would: a plain pixel format, no
    transparency, no EXIF (so no orientation to apply), not animated, and whole (every chunk
    there up to IEND); None for any other."""
    try:
        with open(path, "rb") as fh:
            if fh.read(8) != _PNG_SIGNATURE:
                return None
            flag = None
            while True:
                head = fh.read(8)
                if len(head) < 8:
                    return None  # cut short: PIL decides what that is
                length, kind = struct.unpack(">I4s", head)
                if kind == b"IHDR":
                    ihdr = fh.read(length)
                    if len(ihdr) < 10:
                        return None
                    flag = _PLAIN_PNG.get((ihdr[8], ihdr[9]))
                    fh.seek(4, 1)
                elif kind in (b"tRNS", b"eXIf", b"acTL"):
                    return None
                elif kind == b"IEND":
                    return flag
                else:
                    fh.seek(length + 4, 1)
    except (OSError, struct.error):
        return None


def _decode_plain_png(path: Path) -> np.ndarray | None:
    """A plain PNG (`_plain_png_flag`) decoded by OpenCV straight to BGR: the pixels PIL gives, at
    a quarter of the time, with no copy between the two libraries. None when it is not plain, or
    OpenCV refuses its data (PIL then reads it, or says it is corrupt)."""
    flag = _plain_png_flag(path)
    if flag is None:
        return None
    try:
        data = np.fromfile(path, np.uint8)  # not cv2.imread: a path in Japanese is not one on every OS
    except OSError:
        return None
    img = cv2.imdecode(data, flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        return None
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img


@contextmanager
def _no_bomb_warning() -> Iterator[None]:
    # PIL warns (with a Python file path, on the clerk's console) on opening an image over its own
    # MAX_IMAGE_PIXELS; the caller checks every page against `limits.max_pixels` (lower by
    # default) before decoding and refuses it with a plain message, so the warning says nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _open_image(path: Path, kind: str, limits: Limits, page: int) -> Image.Image:
    """Open (header only) with PIL, restricted to the sniffed format."""
    try:
        with _no_bomb_warning():
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


def _image_dpi_xy(im: Image.Image) -> tuple[float | None, float | None]:
    """The stored frame's resolution across and down (dpi); None where unknown or absurd."""
    dpi: Any = im.info.get("dpi")
    values = list(dpi) if isinstance(dpi, tuple | list) else [dpi]
    across = _dpi_value(values[0]) if values else None
    return across, _dpi_value(values[1]) if len(values) > 1 else across


def _dpi_value(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or not 10 <= value <= 10_000:
        return None
    return round(value, 2)  # PNG stores pixels per metre: 11811 → 299.9994 → 300.0


# A fax's standard mode is 204 dpi across and 98 down (fine mode 204×196): each stored row stands
# for two rows of the page. Pixels that are taller or wider than this share (up to MAX_PIXEL_ASPECT)
# are resampled square; a larger ratio is not a scanner's and the metadata is ignored.
PIXEL_ASPECT_TOLERANCE = 0.03
MAX_PIXEL_ASPECT = 3.0


def square_size(
    width: int, height: int, across: float | None, down: float | None
) -> tuple[tuple[int, int], float | None]:
    """The (width, height) a page of `width`×`height` pixels at `across`×`down` dpi has with square
    pixels, and its dpi: the coarser direction is taken up to the finer (a fax's 98 dpi rows to
    its 204 dpi columns). Unknown, equal (within PIXEL_ASPECT_TOLERANCE) or absurd resolutions
    leave the size as it is."""
    if across is None or down is None:
        return (width, height), across or down
    ratio = across / down
    if abs(ratio - 1.0) <= PIXEL_ASPECT_TOLERANCE or not 1 / MAX_PIXEL_ASPECT <= ratio <= MAX_PIXEL_ASPECT:
        return (width, height), across
    size = (width, round(height * ratio)) if ratio > 1 else (round(width / ratio), height)
    return size, max(across, down)


def square_pixels(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` resampled to `size` (from `square_size`), so the page has its true shape and the
    form's features and letters are where and as they were printed."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    # Linear, not nearest: a bilevel fax's doubled rows get grey edges, as a scan's strokes have.
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


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


_TURNS_QUARTER = frozenset({5, 6, 7, 8})  # EXIF/TIFF orientations that swap width and height


def _exif_orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError, struct.error):
        return 1
    return value if isinstance(value, int) else 1


def _exif_transpose(im: Image.Image) -> Image.Image:
    """`ImageOps.exif_transpose`, ignoring unreadable EXIF (the pixels are still fine)."""
    try:
        out = ImageOps.exif_transpose(im)
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError, struct.error):
        return im
    return out if out is not None else im
