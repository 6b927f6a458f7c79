"""The file's type by its magic bytes, and its sha256 (its identity everywhere in shinsei)."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

from pipeline.ingest.common import (
    _CHUNK,
    HEAD_BYTES,
    _err,
)


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
