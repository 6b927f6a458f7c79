"""The printed 住所変更届 of あおば市 (a second form for generalisation checks), drawn at 300 dpi.

    python bench/forms/change_of_address/make_blank.py     # writes blank.png beside this file

The template next to it was written by hand for this blank, as a city would for its own form.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from drawing import DPI, PX, Sheet  # noqa: E402


def draw_blank() -> Image.Image:
    """The printed 住所変更届: a ruled table with labels, cells for the postal code, □ boxes."""
    sheet = Sheet(210, 297, text_size=3.6, rule_mm=0.3)
    d, text, rect = sheet.d, sheet.text, sheet.rect

    text(105, 16, "住 所 変 更 届", 8.0, "mm")
    text(15, 28, "（宛先）あおば市長　様", 3.8)
    text(195, 28, "あおば市 市民課", 3.4, "rm")
    rows = [
        (38, 14, "届出日"),
        (52, 9.5, "フリガナ"),
        (61.5, 13, "氏　名"),
        (74.5, 13, "生年月日"),
        (87.5, 13, "新しい郵便番号"),
        (100.5, 15, "新しい住所"),
        (115.5, 13, "日中の連絡先"),
        (128.5, 13, "届出の理由"),
        (141.5, 12, "世帯全員の届出"),
    ]
    for y, h, label in rows:
        rect(15, y, 30, h)
        rect(45, y, 150, h)
        text(30, y + h / 2, label, 3.2, "mm")
    text(48, 45, "令和", 3.6)
    for x, unit in ((58, "年"), (77, "月"), (96, "日")):
        rect(x, 41, 13, 8, 0.2)
        text(x + 14, 45, unit, 3.6)
    text(47.5, 94.5, "〒", 3.6)
    rect(52, 90.5, 18, 8)
    for i in (1, 2):
        d.line([((52 + 6 * i) * PX, 90.5 * PX), ((52 + 6 * i) * PX, 98.5 * PX)], fill=0, width=2)
    text(72.5, 94.5, "－", 3.4, "mm")
    rect(75, 90.5, 24, 8)
    for i in (1, 2, 3):
        d.line([((75 + 6 * i) * PX, 90.5 * PX), ((75 + 6 * i) * PX, 98.5 * PX)], fill=0, width=2)
    text(160, 76 + 5, "（和暦で記入）", 3.0)
    for x, label in ((48, "転居"), (83, "転入"), (118, "住居表示の変更")):
        rect(x, 133, 5, 5, 0.25)
        text(x + 6.5, 135.5, label, 3.4)
    rect(48, 145, 5, 5, 0.25)
    text(54.5, 147.5, "世帯全員が同じ住所に移る", 3.4)
    notes = [
        "記入上の注意",
        "１　黒または青のボールペンで、枠の中にはっきりと記入してください。",
        "２　郵便番号は一マスに一字ずつ、算用数字で記入してください。",
        "３　本人確認書類（運転免許証、マイナンバーカード等）を窓口で提示してください。",
        "４　転入の場合は、前住所地の転出証明書を添えてください。",
    ]
    for i, line in enumerate(notes):
        text(15, 165 + 7 * i, line, 3.4 if i else 3.8)
    rect(120, 220, 75, 40)
    text(157.5, 226, "受付欄（記入しないでください）", 3.0, "mm")
    return sheet.img


if __name__ == "__main__":
    draw_blank().save(HERE / "blank.png", dpi=(DPI, DPI), optimize=True)
