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

from collections.abc import Iterator
from pathlib import Path

from pipeline.ingest.common import (
    _PIL_FORMAT,
    _RESCAN,
    HEAD_BYTES,
    KINDS,
    IngestedFile,
    IngestedPage,
    Limits,
    _check_pages,
    _check_pixels,
    _err,
    _fmt_bytes,
    two_levels,
)
from pipeline.ingest.pdf import _check_pdf_pixels, _iter_pdf, _pdf_page_sizes
from pipeline.ingest.quarantine import quarantine
from pipeline.ingest.raster import _frame_count, _iter_raster, _open_image, _seek
from pipeline.ingest.sniff import sha256_file, sniff

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
    "two_levels",
]


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
