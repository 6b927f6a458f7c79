"""The printed 保育の必要性に関する現況届 of ふたば市 (a third form, G6 in docs/devset-a-findings.md).

    python bench/forms/childcare_status/make_blank.py     # writes blank.png beside this file

Drawn by us to carry layout traits that the nursery form lacks and other cities' forms have:
small 3.6 mm option squares, each with a printed label that writers may circle instead; printed
eras to circle (昭和・平成, 平成・令和) before a date written in three part boxes; a 〒 of 3 + 4
cells with a printed gap and "－"; 12 個人番号 cells; text fields of several widths. The template
beside it was written by hand for this blank, as a city would for its own form.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from drawing import DPI, Sheet  # noqa: E402

SQUARE = 3.6  # mm, the option squares
LABEL = 3.3  # mm, printed option and era labels


def draw_blank() -> Image.Image:
    """The printed 現況届: two ruled sections (保護者, 児童), the reasons, the signature, notes."""
    sheet = Sheet(210, 297, text_size=3.4, rule_mm=0.3)
    text, rect = sheet.text, sheet.rect

    def option(x: float, y: float, label: str) -> None:
        """A 3.6 mm □ with its label 1 mm to the right; (x, y) is the square's top-left."""
        rect(x, y, SQUARE, SQUARE, 0.2)
        text(x + SQUARE + 1.0, y + SQUARE / 2, label, LABEL)

    def parts(x: float, y: float) -> None:
        """Year, month and day boxes (8.5 × 7 mm) with their printed units."""
        for i, unit in enumerate("年月日"):
            rect(x + 15 * i, y, 8.5, 7, 0.2)
            text(x + 15 * i + 9.3, y + 3.5, unit, LABEL)

    text(105, 15, "保育の必要性に関する現況届", 7.0, "mm")
    text(15, 24, "（宛先）ふたば市長", 3.6)
    text(195, 24, "ふたば市 こども未来課", 3.2, "rm")
    text(110, 32, "提出日　令和", 3.4)
    parts(132, 28.5)

    def label_cell(y: float, h: float, s: str, x: float = 15, w: float = 25) -> None:
        rect(x, y, w, h)
        text(x + w / 2, y + h / 2, s, 3.0, "mm")

    # 保護者 (section 1)
    text(15, 38, "１　保護者", 3.6)
    rows = [(40, 7, "フリガナ"), (47, 11, "氏　名")]
    for y, h, s in rows:
        label_cell(y, h, s)
        rect(40, y, 90, h)
    label_cell(40, 7, "続柄", 130, 14)
    rect(130, 47, 67, 11)
    rect(144, 40, 53, 7)
    for x, s in ((134, "父"), (152, "母"), (170, "その他")):
        option(x, 50.7, s)
    label_cell(58, 9, "生年月日")
    rect(40, 58, 70, 9)
    text(43, 62.5, "昭和・平成", LABEL)
    parts(62, 59)
    label_cell(58, 9, "電話番号", 110, 20)
    rect(130, 58, 67, 9)
    label_cell(67, 9, "個人番号")
    rect(40, 67, 157, 9)
    for i in range(12):
        rect(42 + 6 * i, 68, 6, 7, 0.2)
    text(118, 71.5, "（12桁）", 3.0)
    label_cell(76, 22, "住　所")
    rect(40, 76, 157, 22)
    text(42, 80.5, "〒", LABEL)
    for i in range(3):
        rect(47 + 5.5 * i, 77, 5.5, 7, 0.2)
    text(66.75, 80.5, "－", 3.0, "mm")
    for i in range(4):
        rect(69 + 5.5 * i, 77, 5.5, 7, 0.2)

    # 児童 (section 2)
    text(15, 102, "２　児童", 3.6)
    label_cell(104, 7, "フリガナ")
    rect(40, 104, 75, 7)
    label_cell(111, 11, "氏　名")
    rect(40, 111, 75, 11)
    label_cell(104, 18, "性別", 115, 14)
    rect(129, 104, 68, 18)
    for x, s in ((134, "男"), (150, "女")):
        option(x, 111.2, s)
    label_cell(122, 9, "生年月日")
    rect(40, 122, 157, 9)
    text(43, 126.5, "平成・令和", LABEL)
    parts(62, 123)
    label_cell(131, 9, "利用中の施設")
    rect(40, 131, 157, 9)

    # 保育を必要とする事由 (section 3)
    text(15, 144, "３　保育を必要とする事由（あてはまるものすべて）", 3.6)
    label_cell(146, 16, "事　由")
    rect(40, 146, 157, 16)
    for x, s in ((43, "就労"), (68, "妊娠・出産"), (98, "疾病・障害"), (128, "介護・看護")):
        option(x, 148.2, s)
    for x, s in ((43, "求職活動"), (68, "就学"), (98, "その他")):
        option(x, 155.7, s)
    label_cell(162, 9, "勤務先")
    rect(40, 162, 90, 9)
    label_cell(162, 9, "就労時間", 130, 18)
    rect(148, 162, 49, 9)
    text(150, 166.5, "週", LABEL)
    rect(155, 163, 14, 7, 0.2)
    text(170.5, 166.5, "時間", LABEL)
    label_cell(171, 9, "雇用形態")
    rect(40, 171, 90, 9)
    for x, s in ((43, "常勤"), (63, "パート"), (86, "自営")):
        option(x, 173.7, s)
    label_cell(171, 9, "兄弟姉妹", 130, 18)
    rect(148, 171, 49, 9)
    for x, s in ((152, "有"), (168, "無")):
        option(x, 173.7, s)
    rect(40, 180, 157, 9)
    label_cell(180, 9, "同　意")
    option(43, 182.7, "市が税情報等を確認することに同意します")
    label_cell(189, 15, "署　名")
    rect(40, 189, 90, 15)

    notes = [
        "記入上の注意",
        "１　黒または青のボールペンで記入してください。□はレ点、または文字を○で囲んでください。",
        "２　生年月日は元号を○で囲み、年・月・日を枠に記入してください。",
        "３　個人番号は一マスに一字ずつ記入してください。",
        "４　就労の場合は、勤務先の就労証明書を添えてください。",
    ]
    for i, line in enumerate(notes):
        text(15, 212 + 6.5 * i, line, 3.2 if i else 3.6)
    rect(148, 250, 50, 36)
    text(173, 255, "受付欄", 3.0, "mm")
    return sheet.img


if __name__ == "__main__":
    draw_blank().save(HERE / "blank.png", dpi=(DPI, DPI), optimize=True)
