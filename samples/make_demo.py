"""Write the committed demo set `samples/demo/` (12 pages in 10 files + ground truth) and `demo/bad/`.

    python -m samples.make_demo [--out samples/demo]

Fixed seed and fixed per-file plans, so the output is byte-identical on every run. Covers: colour and
grey PNG/JPEG scans, a 2-page PDF, a 2-page TIFF G4 fax, an upside-down page, a 1-bit fax PNG, a
page with double-line corrections, a page that breaks a rule (class age), and, in `bad/`, inputs the
pipeline must reject: a zero-byte PDF, a text file named .jpg, a truncated PDF and a typed letter
that is not an application form.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

from samples.generate import Options, _template, make_file
from samples.handwriting import PRINTED_FONT, get_font

SEED = 20260401
HERE = Path(__file__).resolve().parent
WHITE = {"clean_bg": True}

# name: (format, pages, profile, fax), per-page forced choices
PLANS: list[tuple[str, tuple[str, int, str, bool], list[dict]]] = [
    ("doc_0001", ("png", 1, "mild", False), [{"stamp": True, "scan": {**WHITE, "grey": False, "upside_down": False,
                                                                     "noise": 1.5}}]),
    ("doc_0002", ("jpg", 1, "mild", False), [{"stamp": False, "scan": {"jpeg_quality": 70}}]),
    ("doc_0003", ("jpg", 1, "mild", False), [{"p_correction": 0.3, "stamp": True}]),
    ("doc_0004", ("png", 1, "mild", False), [{"scan": {**WHITE, "upside_down": True, "grey": True}}]),
    ("doc_0005", ("jpg", 1, "hard", False), [{"stamp": True, "scan": {"upside_down": False, "jpeg_quality": 60}}]),
    ("doc_0006", ("png", 1, "hard", True), [{"stamp": True, "scan": {"upside_down": False}}]),
    ("doc_0007", ("jpg", 1, "mild", False), [{"font": "kiloji", "scan": {"upside_down": False}}]),
    ("doc_0008", ("jpg", 1, "mild", False), [{"violation": "class_age", "scan": {"upside_down": False,
                                                                                 "jpeg_quality": 70}}]),
    ("doc_0009", ("pdf", 2, "mild", False), [{"scan": {"upside_down": False}}, {"stamp": True, "scan": {"upside_down": False}}]),
    ("doc_0010", ("tiff", 2, "hard", True), [{"scan": {"upside_down": False}}, {"scan": {"upside_down": False}}]),
]  # fmt: skip


def other_document(path: Path) -> None:
    """A typed notice (お知らせ) on A4 at 150 dpi: a real page, but not the form."""
    dpi = 150
    ppm = dpi / 25.4
    im = Image.new("L", (round(210 * ppm), round(297 * ppm)), 255)
    d = ImageDraw.Draw(im)
    title, body = get_font(PRINTED_FONT, round(7 * ppm)), get_font(PRINTED_FONT, round(4 * ppm))
    d.text((105 * ppm, 30 * ppm), "お知らせ", font=title, fill=0, anchor="mm")
    d.text((190 * ppm, 45 * ppm), "令和8年4月1日", font=body, fill=0, anchor="rm")
    d.text((20 * ppm, 55 * ppm), "保護者の皆様", font=body, fill=0)
    lines = [
        "春暖の候、皆様にはますますご清祥のこととお喜び申し上げます。",
        "さて、下記のとおり保育園の見学会を開催いたします。",
        "ご都合のよい日時にお越しください。",
        "",
        "記",
        "",
        "1　日時　令和8年5月10日（日）午前10時から正午まで",
        "2　場所　みどり中央保育園　ホール",
        "3　持ち物　上履き、筆記用具",
        "4　申込　電話にて子ども育成課までご連絡ください。",
        "",
        "以上",
    ]
    for i, line in enumerate(lines):
        d.text(
            ((105 if line in ("記", "以上") else 20) * ppm, (75 + i * 9) * ppm),
            line,
            font=body,
            fill=0,
            anchor="ma" if line in ("記", "以上") else "la",
        )
    d.text((190 * ppm, 200 * ppm), "みどり市 子ども育成課", font=body, fill=0, anchor="ra")
    im.save(path, "PNG", dpi=(dpi, dpi), optimize=True)


def bad_inputs(out: Path, pdf: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "empty.pdf").write_bytes(b"")
    (out / "notes.jpg").write_text("これは画像ではありません。メモ: 申込書は後日提出。\n", encoding="utf-8")
    data = pdf.read_bytes()
    (out / "broken.pdf").write_bytes(data[: min(len(data) // 3, 20000)])
    other_document(out / "other_document.png")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "demo")
    a = ap.parse_args(argv)
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    opts = Options(
        seed=SEED, formats=("png", "jpg", "pdf", "tiff"), profile="mixed", fonts="train", multipage=True
    )
    template = _template(opts)
    entries = []
    for i, (name, plan, force) in enumerate(PLANS, start=1):
        # only the page that asks for one breaks a rule; demo eras stay circled
        force = [
            {
                "violation": "",
                "p_era_unmarked": 0.0,
                "p_struck_mark": 0.0,
                "p_extra_correction": 0.0,
                "p_seal": 0.0,
                "writer_variation": False,
                "p_thin_pen": 0.0,
                "p_jpeg_heavy": 0.0,
                **f,
            }
            for f in force
        ]
        entries.append(make_file(opts, i, out, template, plan=plan, force=force, name=name))
    bad_inputs(out / "bad", out / "doc_0009.pdf")
    manifest = {
        "generator": "samples.make_demo",
        "form_id": template.form_id,
        "form_version": template.version,
        "seed": SEED,
        "files": entries,
        "bad": ["bad/empty.pdf", "bad/notes.jpg", "bad/broken.pdf", "bad/other_document.png"],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"wrote {len(entries)} files, {sum(e['pages'] for e in entries)} pages, {total / 1e6:.1f} MB to {out}"
    )


if __name__ == "__main__":
    main()
