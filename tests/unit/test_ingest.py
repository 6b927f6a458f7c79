"""Ingest: real files built in tmp_path (PIL, pypdf); no fixtures on disk."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile
from pypdf import PdfWriter

from pipeline.errors import ExitCode, InputFileError
from pipeline.ingest import (
    IngestedFile,
    IngestedPage,
    Limits,
    iter_pages,
    open_file,
    quarantine,
    sha256_file,
    sniff,
)
from pipeline.settings import Settings

DEFAULT = Limits.from_settings(Settings())
FAST = replace(DEFAULT, pdf_dpi=72)


def refused(path: Path, limits: Limits = DEFAULT) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        f = open_file(path, limits)
        list(iter_pages(f, limits))
    err = info.value
    assert err.exit_code == ExitCode.input_file
    assert err.message and err.message == str(err)
    return err


def pdf_from_images(path: Path, colours: list[tuple[int, int, int]], size=(200, 300)) -> Path:
    pages = [Image.new("RGB", size, c) for c in colours]
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return path


def blank_pdf(path: Path, pages: int, width: float = 595, height: float = 842) -> Path:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(width=width, height=height)
    with open(path, "wb") as fh:
        w.write(fh)
    return path


def pages_of(path: Path, limits: Limits = FAST) -> tuple[IngestedFile, list[IngestedPage]]:
    f = open_file(path, limits)
    pages = list(iter_pages(f, limits))
    assert len(pages) == f.page_count
    for i, p in enumerate(pages):
        assert p.index == i
        assert p.image.dtype == np.uint8 and p.image.ndim == 3 and p.image.shape[2] == 3
        assert p.image.flags["C_CONTIGUOUS"]
        assert p.source_kind == f.kind
    return f, pages


# --------------------------------------------------------------------------- sniff


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\r\n\x00junk before the header %PDF-1.4\n", "pdf"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00", "jpeg"),
    ],
)
def test_sniff_accepts(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"hello, this is plain text\r\nline two\n", "テキスト"),
        ("申請者氏名：山田太郎\n".encode(), "テキスト"),
        ("申請者氏名：山田太郎\n".encode("cp932"), "テキスト"),
        ("\ufeff保育所入所申込書".encode(), "テキスト"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00 some.txt", "ZIP"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml word/document.xml", "Word"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "Office"),
        (b"GIF89a\x10\x00\x10\x00", "GIF"),
        (b"BM6\x00\x0c\x00\x00\x00\x00\x006\x00\x00\x00(\x00", "BMP"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"),
        (b"<!DOCTYPE html>\n<html><body>", "HTML"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (bytes(range(256)) * 4, "不明"),
    ],
)
def test_sniff_refuses_and_names_the_type(head: bytes, says: str) -> None:
    with pytest.raises(InputFileError) as info:
        sniff(head)
    assert info.value.reason == "unsupported_type"
    assert says in info.value.message
    assert "PDF・TIFF・PNG・JPEG" in info.value.message


def test_sniff_empty() -> None:
    with pytest.raises(InputFileError) as info:
        sniff(b"")
    assert info.value.reason == "empty_file"


# --------------------------------------------------------------------------- open_file refusals


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "scan.pdf"
    p.write_bytes(b"")
    err = refused(p)
    assert err.reason == "empty_file"
    assert err.message == "ファイルが空です（0バイト）。スキャンをやり直してください。"


def test_too_large_names_size_and_limit(tmp_path: Path) -> None:
    p = pdf_from_images(tmp_path / "a.pdf", [(255, 255, 255)])
    limits = Limits(max_bytes=1024, max_pages=50, max_pixels=DEFAULT.max_pixels, pdf_dpi=72)
    err = refused(p, limits)
    assert err.reason == "too_large"
    assert "上限1KB" in err.message


def test_truncated_pdf(tmp_path: Path) -> None:
    good = pdf_from_images(tmp_path / "good.pdf", [(255, 255, 255)] * 3)
    data = good.read_bytes()
    p = tmp_path / "cut.pdf"
    p.write_bytes(data[: len(data) // 2])
    err = refused(p)
    assert err.reason == "corrupt_file"
    assert "途中で切れて" in err.message


def test_garbage_pdf_with_eof_marker(tmp_path: Path) -> None:
    p = tmp_path / "junk.pdf"
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    err = refused(p)
    assert err.reason == "corrupt_file"


CIPHERS = ("RC4-40", "RC4-128", "AES-128", "AES-256-R5", "AES-256")


def encrypted_pdf(path: Path, algorithm: str, user: str, owner: str = "owner-secret") -> Path:
    """A real encrypted PDF, written by pypdf's own encryption (AES needs `cryptography`)."""
    w = PdfWriter()
    w.add_blank_page(width=144, height=72)
    w.encrypt(user, owner, algorithm=algorithm)
    with open(path, "wb") as fh:
        w.write(fh)
    return path


@pytest.mark.parametrize("algorithm", CIPHERS)
def test_a_pdf_with_a_user_password_is_refused_as_encrypted(tmp_path: Path, algorithm: str) -> None:
    err = refused(encrypted_pdf(tmp_path / "locked.pdf", algorithm, user="pw"))
    assert err.reason == "encrypted_pdf"
    assert "パスワード" in err.message
    assert "スキャンし直す" in err.message and "保護のないPDF" in err.message


@pytest.mark.parametrize("algorithm", CIPHERS)
def test_a_pdf_with_an_owner_password_only_is_read(tmp_path: Path, algorithm: str) -> None:
    # Opens without a password; the owner password only restricts printing or copying. Rendering
    # goes through poppler (pdfinfo, pdftoppm), which must open it too.
    f, pages = pages_of(encrypted_pdf(tmp_path / "perm.pdf", algorithm, user=""))
    assert f.page_count == 1
    assert pages[0].image.shape == (72, 144, 3)


_WITHOUT_CRYPTOGRAPHY = """
import sys, json
sys.modules["cryptography"] = None  # as on a machine where `cryptography` is not installed
from pathlib import Path
from pipeline.errors import InputFileError
from pipeline.ingest import Limits, iter_pages, open_file
from pipeline.settings import Settings
import pypdf._crypt_providers as cp
limits = Limits.from_settings(Settings())
out = {"provider": cp.crypt_provider[0]}
for name in sys.argv[1:]:
    try:
        f = open_file(Path(name), limits)
        out[Path(name).name] = [f.page_count, [p.image.shape for p in iter_pages(f, limits)]]
    except InputFileError as e:
        out[Path(name).name] = e.reason
print(json.dumps(out))
"""


def test_aes_pdfs_without_cryptography_are_decided_by_poppler(tmp_path: Path) -> None:
    # pypdf raises DependencyError inside PdfReader(...) for AES-256 when `cryptography` is
    # missing; pdfinfo then says whether the file opens without a password. A subprocess, since
    # pypdf picks its crypto provider once, at import.
    import subprocess
    import sys

    owner = encrypted_pdf(tmp_path / "owner.pdf", "AES-256", user="")
    user = encrypted_pdf(tmp_path / "user.pdf", "AES-256", user="pw")
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, str(owner), str(user)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["provider"] == "local_crypt_fallback"  # really without cryptography
    assert out["owner.pdf"] == [1, [[300, 600, 3]]]  # 2×1 inches at 300 dpi
    assert out["user.pdf"] == "encrypted_pdf"


def test_too_many_pages(tmp_path: Path) -> None:
    p = blank_pdf(tmp_path / "bulk.pdf", 500)
    assert DEFAULT.max_pages == 50
    err = refused(p)
    assert err.reason == "too_many_pages"
    assert "500ページあります（上限50ページ）" in err.message


def test_text_file_named_jpg(tmp_path: Path) -> None:
    secret = "個人番号 123456789018 山田太郎"
    p = tmp_path / "photo.jpg"
    p.write_text(f"メモ\n{secret}\n", encoding="utf-8")
    err = refused(p)
    assert err.reason == "unsupported_type"
    assert "テキスト" in err.message
    assert "123456789018" not in err.message and "山田" not in err.message


def test_docx_named_pdf(tmp_path: Path) -> None:
    p = tmp_path / "form.pdf"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    err = refused(p)
    assert err.reason == "unsupported_type" and "Word" in err.message


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # never reaches the console
def test_huge_png_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "huge.png"
    Image.new("1", (12000, 12000), 1).save(p)  # ~40 KB on disk, 144 Mpx
    assert p.stat().st_size < 200_000

    def no_decoding(self, *a, **k):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    err = refused(p)
    assert err.reason == "image_too_large"
    assert "12000×12000" in err.message and "約1.4億画素" in err.message and "上限6,000万画素" in err.message

    # iter_pages checks again (a file opened under looser limits)
    loose = Limits(DEFAULT.max_bytes, DEFAULT.max_pages, 200_000_000, DEFAULT.pdf_dpi)
    f = open_file(p, loose)
    with pytest.raises(InputFileError) as info:
        next(iter_pages(f, DEFAULT))
    assert info.value.reason == "image_too_large"


def test_png_over_pil_bomb_limit(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    Image.new("1", (14000, 14000), 1).save(p)  # > 2 × PIL.Image.MAX_IMAGE_PIXELS: PIL refuses to open
    err = refused(p)
    assert err.reason == "image_too_large" and "上限6,000万画素" in err.message


def test_pdf_without_pages(tmp_path: Path) -> None:
    err = refused(blank_pdf(tmp_path / "none.pdf", 0))
    assert err.reason == "corrupt_file" and "ページが1枚も" in err.message


def test_huge_pdf_page_refused_before_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = blank_pdf(tmp_path / "banner.pdf", 1, width=72 * 40, height=72 * 40)  # 40 in² → 12000² px
    err = refused(p)
    assert err.reason == "image_too_large"
    assert "300dpi" in err.message and "12000×12000" in err.message and "約1.4億画素" in err.message

    import pipeline.ingest.pdf as pdf_ingest

    def no_render(*a, **k):
        raise AssertionError("page was rendered")

    monkeypatch.setattr(pdf_ingest, "render_page", no_render)
    f = IngestedFile(path=p, sha256=sha256_file(p), kind="pdf", size_bytes=p.stat().st_size, page_count=1)
    with pytest.raises(InputFileError) as info:
        next(iter_pages(f, DEFAULT))
    assert info.value.reason == "image_too_large"


def test_truncated_png_is_corrupt(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    good = tmp_path / "good.png"
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(good)
    p = tmp_path / "cut.png"
    p.write_bytes(good.read_bytes()[:5000])
    err = refused(p)
    assert err.reason == "corrupt_file"
    assert "1ページ目" in err.message


def test_tiff_page_limit(tmp_path: Path) -> None:
    frames = [Image.new("1", (50, 50), 1) for _ in range(4)]
    p = tmp_path / "four.tif"
    frames[0].save(p, compression="group4", save_all=True, append_images=frames[1:])
    err = refused(p, Limits(DEFAULT.max_bytes, 3, DEFAULT.max_pixels, 72))
    assert err.reason == "too_many_pages" and "4ページあります（上限3ページ）" in err.message


# --------------------------------------------------------------------------- decoding


def test_pdf_pages_render_in_colour(tmp_path: Path) -> None:
    p = pdf_from_images(tmp_path / "a.pdf", [(255, 0, 0), (0, 0, 255)], size=(200, 300))
    f, pages = pages_of(p)
    assert (f.kind, f.page_count) == ("pdf", 2)
    assert f.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    # 200×300 px at 100 dpi = 2×3 in; rendered at 72 dpi
    assert pages[0].image.shape == (216, 144, 3)
    assert pages[0].dpi == 72.0
    b, g, r = pages[0].image[100, 70]
    assert r > 200 and g < 50 and b < 50  # BGR order: red stays in channel 2
    b, g, r = pages[1].image[100, 70]
    assert b > 200 and r < 50


def test_png_with_pdf_name_is_read_as_png(tmp_path: Path) -> None:
    p = tmp_path / "scan.pdf"
    Image.new("RGB", (40, 30), (10, 20, 30)).save(p, "PNG", dpi=(300, 300))
    f, pages = pages_of(p)
    assert f.kind == "png" and f.page_count == 1
    assert pages[0].image.shape == (30, 40, 3)
    assert tuple(pages[0].image[0, 0]) == (30, 20, 10)
    assert pages[0].dpi == 300.0


def test_multipage_g4_tiff(tmp_path: Path) -> None:
    frames = []
    for i in range(3):
        im = Image.new("1", (300, 400), 1)
        ImageDraw.Draw(im).rectangle((10, 10 + 50 * i, 100, 40 + 50 * i), fill=0)
        frames.append(im)
    p = tmp_path / "fax.tif"
    frames[0].save(p, compression="group4", save_all=True, append_images=frames[1:], dpi=(200, 200))
    with Image.open(p) as check:
        assert check.info.get("compression") == "group4"
    f, pages = pages_of(p)
    assert (f.kind, f.page_count) == ("tiff", 3)
    for i, page in enumerate(pages):
        assert page.image.shape == (400, 300, 3)
        assert set(np.unique(page.image)) == {0, 255}
        assert page.dpi == 200.0
        assert page.bilevel
        assert page.image[20 + 50 * i, 50, 0] == 0  # this frame's black box
        assert page.image[20 + 50 * ((i + 1) % 3), 50, 0] == 255  # not the next frame's


def test_fax_standard_resolution_tiff_gets_square_pixels(tmp_path: Path) -> None:
    # A fax in standard mode is 204 dpi across and 98 down: every stored row is two of the page's.
    im = Image.new("1", (408, 196), 1)  # 2×2 inches of paper
    ImageDraw.Draw(im).rectangle((0, 0, 203, 97), fill=0)  # its top-left inch, black
    p = tmp_path / "fax.tif"
    im.save(p, compression="group4", dpi=(204, 98))
    _, [page] = pages_of(p)
    assert page.image.shape == (408, 408, 3)  # the page is square again: 2×2 inches at 204 dpi
    assert page.dpi == 204.0
    assert page.image[195, 100, 0] == 0  # the black inch reaches down an inch, not half of one
    assert page.image[215, 100, 0] == 255
    assert page.image[100, 215, 0] == 255


def test_black_and_white_pages_are_told_from_grey_ones_before_squaring(tmp_path: Path) -> None:
    fax = tmp_path / "fax.tif"
    im = Image.new("1", (408, 196), 1)
    ImageDraw.Draw(im).line((0, 0, 407, 195), fill=0, width=3)
    im.save(fax, compression="group4", dpi=(204, 98))
    _, [page] = pages_of(fax)
    assert page.bilevel  # ingest knew, though squaring greyed the diagonal's edges
    assert len(np.unique(page.image)) > 2
    two = tmp_path / "two.png"
    Image.new("L", (40, 30), 255).save(two, "PNG")
    im = Image.open(two).convert("L")
    ImageDraw.Draw(im).rectangle((5, 5, 20, 20), fill=0)
    im.save(two, "PNG")
    _, [page] = pages_of(two)
    assert page.bilevel  # a 1-bit scan saved as 8-bit grey is still black and white only
    grey = tmp_path / "grey.png"
    im = Image.new("L", (40, 30), 240)
    ImageDraw.Draw(im).rectangle((5, 5, 20, 20), fill=30)
    ImageDraw.Draw(im).rectangle((21, 5, 22, 20), fill=120)  # a stroke's grey edge
    im.save(grey, "PNG")
    _, [page] = pages_of(grey)
    assert not page.bilevel


def test_fine_mode_and_wide_pixels_are_squared_too(tmp_path: Path) -> None:
    fine = tmp_path / "fine.tif"
    Image.new("1", (204, 196), 1).save(fine, compression="group4", dpi=(204, 196))
    _, [page] = pages_of(fine)
    assert page.image.shape == (204, 204, 3) and page.dpi == 204.0
    wide = tmp_path / "wide.png"
    Image.new("L", (100, 300), 255).save(wide, "PNG", dpi=(100, 300))
    _, [page] = pages_of(wide)
    assert page.image.shape == (300, 300, 3) and page.dpi == 300.0


def test_pixel_aspect_of_a_quarter_turned_tiff_follows_the_turn(tmp_path: Path) -> None:
    # Stored 196 rows × 408 columns at 204×98 dpi, shown turned a quarter (Orientation 6): the
    # shown page's columns are the stored rows, so it is widened, not made taller.
    im = Image.new("L", (408, 196), 255)
    p = tmp_path / "turned.tif"
    im.save(p, dpi=(204, 98), tiffinfo={274: 6})
    _, [page] = pages_of(p)
    assert page.image.shape == (408, 408, 3)


def test_absurd_or_nearly_equal_resolutions_leave_the_pixels_alone(tmp_path: Path) -> None:
    odd = tmp_path / "odd.png"
    Image.new("L", (50, 40), 255).save(odd, "PNG", dpi=(1000, 100))  # ten times: not a scanner's
    _, [page] = pages_of(odd)
    assert page.image.shape == (40, 50, 3)
    near = tmp_path / "near.png"
    Image.new("L", (50, 40), 255).save(near, "PNG", dpi=(300, 299))
    _, [page] = pages_of(near)
    assert page.image.shape == (40, 50, 3) and page.dpi == 300.0


def test_squared_fax_still_meets_the_pixel_limit(tmp_path: Path) -> None:
    p = tmp_path / "fax.tif"
    Image.new("1", (200, 100), 1).save(p, compression="group4", dpi=(200, 100))
    tight = Limits(DEFAULT.max_bytes, DEFAULT.max_pages, 30_000, DEFAULT.pdf_dpi)
    err = refused(p, tight)  # 200×100 fits, the page squared (200×200) does not
    assert err.reason == "image_too_large" and "200×200" in err.message


def test_jpeg_exif_orientation(tmp_path: Path) -> None:
    im = Image.new("RGB", (80, 40), (255, 255, 255))
    ImageDraw.Draw(im).rectangle((0, 0, 19, 39), fill=(0, 0, 0))  # left edge black
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90° clockwise
    p = tmp_path / "phone.jpg"
    im.save(p, "JPEG", exif=exif, dpi=(150, 150), quality=95)
    _, [page] = pages_of(p)
    assert page.image.shape == (80, 40, 3)  # height and width swapped
    assert page.image[5, 20].max() < 60  # the black stripe is now along the top
    assert page.image[70, 20].min() > 200
    assert page.dpi == 150.0


def test_rgba_png_composited_on_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 9, 9), fill=(255, 0, 0, 255))
    p = tmp_path / "alpha.png"
    im.save(p)
    _, [page] = pages_of(p)
    assert tuple(page.image[5, 5]) == (0, 0, 255)
    assert tuple(page.image[5, 15]) == (255, 255, 255)


def test_la_png_composited_on_white(tmp_path: Path) -> None:
    im = Image.new("LA", (10, 10), (0, 0))  # transparent
    ImageDraw.Draw(im).rectangle((0, 0, 4, 9), fill=(0, 255))  # opaque black
    p = tmp_path / "la.png"
    im.save(p)
    _, [page] = pages_of(p)
    assert tuple(page.image[5, 2]) == (0, 0, 0)
    assert tuple(page.image[5, 8]) == (255, 255, 255)


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (10, 10), 0)
    im.putpalette([0, 0, 0, 0, 128, 0] + [0] * (254 * 3))  # 0: black (transparent), 1: green
    ImageDraw.Draw(im).rectangle((0, 0, 4, 9), fill=1)
    p = tmp_path / "pal.png"
    im.save(p, transparency=0)
    _, [page] = pages_of(p)
    assert tuple(page.image[5, 2]) == (0, 128, 0)
    assert tuple(page.image[5, 8]) == (255, 255, 255)


def test_16bit_grayscale_png(tmp_path: Path) -> None:
    a = np.array([[0, 257 * 128, 65535, 1000]], dtype=np.uint16)
    p = tmp_path / "deep.png"
    Image.fromarray(a).save(p)
    with Image.open(p) as check:
        assert check.mode.startswith("I")
    _, [page] = pages_of(p)
    assert page.image[0, :, 0].tolist() == [0, 128, 255, 4]
    assert (page.image[..., 0] == page.image[..., 2]).all()


def test_grayscale_and_1bit_png(tmp_path: Path) -> None:
    Image.new("L", (5, 5), 77).save(tmp_path / "g.png")
    Image.new("1", (5, 5), 1).save(tmp_path / "b.png")
    _, [g] = pages_of(tmp_path / "g.png")
    _, [b] = pages_of(tmp_path / "b.png")
    assert (g.image == 77).all() and (b.image == 255).all()


# --------------------------------------------------------------------------- hashing, limits


def test_sha256_stable(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    data = bytes(range(256)) * 9000  # > 1 MiB chunk
    p.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(p) == expected == sha256_file(p)


def test_limits_from_settings() -> None:
    s = Settings(max_file_bytes=10, max_pages=2, max_pixels=3, pdf_dpi=150)
    assert Limits.from_settings(s) == Limits(max_bytes=10, max_pages=2, max_pixels=3, pdf_dpi=150)


# --------------------------------------------------------------------------- quarantine


def test_quarantine_copies_and_keeps_original(tmp_path: Path) -> None:
    src = tmp_path / "in" / "申請書.PDF"
    src.parent.mkdir()
    src.write_bytes(b"%PDF-1.4\nbroken")
    digest = sha256_file(src)
    qdir = tmp_path / "quarantine"
    msg = "PDFファイルが壊れているため読み込めません。"

    folder = quarantine(src, qdir, digest, "corrupt_file", msg)
    assert folder == qdir / f"{digest[:16]}_corrupt_file"
    assert src.read_bytes() == b"%PDF-1.4\nbroken"  # original untouched
    assert (folder / "original.pdf").read_bytes() == src.read_bytes()
    meta = json.loads((folder / "reason.json").read_text(encoding="utf-8"))
    assert meta["reason"] == "corrupt_file"
    assert meta["message"] == msg
    assert meta["original_name"] == "申請書.PDF"
    assert meta["size_bytes"] == src.stat().st_size
    assert meta["sha256"] == digest
    assert meta["quarantined_at"]

    before = (folder / "reason.json").read_bytes()
    assert quarantine(src, qdir, digest, "corrupt_file", msg) == folder  # idempotent
    assert (folder / "reason.json").read_bytes() == before
    assert sorted(x.name for x in folder.iterdir()) == ["original.pdf", "reason.json"]

    other = tmp_path / "in" / "copy.pdf"
    other.write_bytes(src.read_bytes())
    quarantine(other, qdir, digest, "corrupt_file", msg)
    meta = json.loads((folder / "reason.json").read_text(encoding="utf-8"))
    assert meta["original_name"] == "申請書.PDF" and meta["other_names"] == ["copy.pdf"]


def test_quarantine_rejects_unsafe_names(tmp_path: Path) -> None:
    src = tmp_path / "a.pdf"
    src.write_bytes(b"x")
    with pytest.raises(ValueError):
        quarantine(src, tmp_path / "q", "../../etc/passwd0000", "corrupt_file", "m")
    with pytest.raises(ValueError):
        quarantine(src, tmp_path / "q", sha256_file(src), "../x", "m")


def test_refusal_then_quarantine_end_to_end(tmp_path: Path) -> None:
    p = tmp_path / "empty.tif"
    p.write_bytes(b"")
    err = refused(p)
    folder = quarantine(p, tmp_path / "q", sha256_file(p), err.reason, err.message)
    assert folder.name.endswith("_empty_file")
    assert (folder / "original.tif").exists() and p.exists()
