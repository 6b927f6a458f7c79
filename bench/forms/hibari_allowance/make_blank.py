"""The printed 児童手当 認定請求書 of ひばり市 (a fifth form, never used for tuning or calibration).

    python bench/forms/hibari_allowance/make_blank.py          # writes blank.png beside this file
    python bench/forms/hibari_allowance/make_blank.py --labels # also prints the printed labels' boxes

Drawn by us as another city prints the same claim as みなと市's `child_allowance`, with the traits
neither that form nor the nursery forms have: A4 portrait; a 請求年月日 of 令和□□年□□月□□日
with one printed cell per digit; three eras printed in a row (昭和・平成・令和) before a date
written on an underline with no boxes; option squares printed AFTER their word (男 □　女 □); a
seal box (印) beside the name; a 〒 with a printed "－" between its cells; a table of four children
whose birth dates are eras in a row above digit cells; an account of 7 digit cells. The template
beside it was written by hand from docs/templates.md, as a city's IT person would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from drawing import DPI, Sheet  # noqa: E402

W_MM, H_MM = 210, 297  # A4 portrait
LABEL = 3.2  # mm, printed option and era labels
SQUARE = 3.4  # mm, option squares

LABELS: list[tuple[str, float, float, float, float]] = []  # (text, x, y, w, h) of printed labels


def draw_blank() -> Image.Image:
    sheet = Sheet(W_MM, H_MM, text_size=3.2, rule_mm=0.3)
    text, rect = sheet.text, sheet.rect

    def label(x: float, y: float, s: str, size: float = LABEL) -> None:
        """A printed word writers circle or tick; its ink box is recorded for the template."""
        text(x, y, s, size)
        LABELS.append((s, *sheet.text_box(x, y, s, size)))

    def square(x: float, y: float, name: str) -> None:
        """An option square, (x, y) its top-left; recorded as `name □`."""
        rect(x, y, SQUARE, SQUARE, 0.2)
        LABELS.append((f"{name} □", x, y, SQUARE, SQUARE))

    def word_then_square(x: float, y: float, s: str) -> float:
        """`男 □`: the word, then its square 1 mm after; returns the x after the square."""
        label(x, y, s)
        x1 = LABELS[-1][1] + LABELS[-1][3] + 1.0
        square(x1, y - SQUARE / 2, s)
        return x1 + SQUARE

    def square_then_word(x: float, y: float, s: str) -> float:
        square(x, y - SQUARE / 2, s)
        label(x + SQUARE + 1.0, y, s)
        return LABELS[-1][1] + LABELS[-1][3]

    def head(x: float, y: float, w: float, h: float, s: str, size: float = 3.0) -> None:
        sheet.head(x, y, w, h, s, size)

    def cells(x: float, y: float, n: int, w: float, h: float) -> None:
        sheet.cells(x, y, n, w, h, 0.2)

    def digit_date(x: float, y: float, w: float, h: float, size: float = 3.0) -> None:
        """□□年□□月□□日: two cells per part, the unit printed after each pair."""
        for i, unit in enumerate("年月日"):
            x0 = x + i * (2 * w + 4.5)
            cells(x0, y, 2, w, h)
            text(x0 + 2 * w + 0.6, y + h / 2, unit, size)

    def line_date(x: float, y: float, step: float) -> None:
        """＿年＿月＿日 on an underline at y: each number is written on the line before its unit."""
        px = DPI / 25.4
        sheet.d.line([(x * px, y * px), ((x + 16 + 2 * step) * px, y * px)], fill=0, width=2)
        for i, unit in enumerate("年月日"):
            text(x + 11 + i * step, y - 2.8, unit, 3.2)

    def eras_row(x: float, y: float, names: list[str]) -> None:
        for i, s in enumerate(names):
            label(x + i * 10.0, y, s)
            if i < len(names) - 1:
                text(x + i * 10.0 + 7.6, y, "・", LABEL, "mm")

    # Title block
    text(105, 13, "児 童 手 当　認 定 請 求 書", 6.2, "mm")
    text(12, 22, "ひばり市長　様", 3.4)
    text(118, 22, "令和", 3.4)
    digit_date(127, 18.5, 5.0, 7.0)
    text(12, 29, "児童手当の受給資格について、次のとおり認定を請求します。", 3.0)

    # 1 請求者
    L, LW, R = 12.0, 24.0, 198.0
    text(L, 35, "１　請求者", 3.4)
    head(L, 38, LW, 6, "フリガナ", 2.8)
    rect(L + LW, 38, 172 - L - LW, 6)
    head(L, 44, LW, 11, "氏　名")
    rect(L + LW, 44, 172 - L - LW, 11)
    rect(172, 38, R - 172, 17)  # the seal box
    text(R - 2, 41, "印", 2.6, "rm")
    head(L, 55, LW, 11, "生年月日")
    rect(L + LW, 55, 120 - L - LW, 11)
    eras_row(38, 58.5, ["昭和", "平成", "令和"])
    line_date(67, 64, 17)
    head(120, 55, 16, 11, "性別")
    rect(136, 55, R - 136, 11)
    word_then_square(146, 60.5, "男")
    word_then_square(166, 60.5, "女")
    head(L, 66, LW, 10, "個人番号")
    rect(L + LW, 66, 114 - L - LW, 10)
    cells(38, 67.5, 12, 6.0, 7.0)
    head(114, 66, 22, 10, "電話番号")
    rect(136, 66, R - 136, 10)
    head(L, 76, LW, 19, "住　所")
    rect(L + LW, 76, R - L - LW, 19)
    text(38, 80.5, "〒", 3.2)
    cells(43, 77, 3, 5.5, 7.0)
    text(61.5, 80.5, "－", 3.2)
    cells(66, 77, 4, 5.5, 7.0)
    text(96, 80.5, "ひばり市", 3.0)
    head(L, 95, LW, 9, "加入年金")
    rect(L + LW, 95, R - L - LW, 9)
    x = 40.0
    for s in ("厚生年金", "国民年金", "共済組合"):
        x = square_then_word(x, 99.5, s) + 8.0
    text(x, 99.5, "（公務員は勤務先へ）", 2.6)
    head(L, 104, LW, 9, "職　業")
    rect(L + LW, 104, 110 - L - LW, 9)

    # 2 配偶者
    text(L, 118, "２　配偶者", 3.4)
    head(L, 121, LW, 10, "氏　名")
    rect(L + LW, 121, 110 - L - LW, 10)
    head(110, 121, 18, 10, "生年月日")
    rect(128, 121, R - 128, 10)
    eras_row(130, 124, ["昭和", "平成"])
    line_date(148, 129.5, 15)
    head(L, 131, LW, 9, "個人番号")
    rect(L + LW, 131, R - L - LW, 9)
    cells(38, 132, 12, 5.0, 7.0)

    # 3 児童 (table of four rows)
    text(L, 145, "３　児童（18歳到達後最初の3月31日までの児童）", 3.4)
    T = 148.0
    cols = [(L, 8, "No"), (20, 62, "フリガナ\n氏　名"), (82, 58, "生年月日"), (140, 22, "続柄"),
            (162, R - 162, "同居・別居")]  # fmt: skip
    for cx, cw, s in cols:
        head(cx, T, cw, 8, s, 2.8)
    for i in range(4):
        y = T + 8 + 13 * i
        rect(L, y, 8, 13)
        text(L + 4, y + 6.5, str(i + 1), 3.0, "mm")
        rect(20, y, 62, 4.5)
        rect(20, y + 4.5, 62, 8.5)
        rect(82, y, 58, 13)
        eras_row(85, y + 2.6, ["平成", "令和"])
        digit_date(86, y + 5.3, 4.5, 6.5, 2.8)
        rect(140, y, 22, 13)
        rect(162, y, R - 162, 13)
        label(169, y + 6.5, "同居")
        text(179, y + 6.5, "・", LABEL, "mm")
        label(183, y + 6.5, "別居")

    # 4 受取口座
    text(L, 218, "４　受取口座（請求者名義の口座に限ります）", 3.4)
    head(L, 221, LW, 8, "公金受取\n口座", 2.6)
    rect(L + LW, 221, R - L - LW, 8)
    rect(39, 223.3, SQUARE, SQUARE, 0.2)
    text(44.5, 225, "公金受取口座を利用する（以下の記入は不要です）", 2.9)
    head(L, 229, LW, 12, "金融機関")
    rect(L + LW, 229, R - L - LW, 12)
    label(150, 232.5, "銀行")
    label(162, 232.5, "信用金庫")
    label(150, 238, "農協")
    label(162, 238, "信用組合")
    head(L, 241, LW, 9, "支店名")
    rect(L + LW, 241, 120 - L - LW, 9)
    label(100, 245.5, "本店")
    text(108, 245.5, "・", LABEL, "mm")
    label(111, 245.5, "支店")
    head(120, 241, 18, 9, "預金種別")
    rect(138, 241, R - 138, 9)
    x = 142.0
    for s in ("普通", "当座"):
        x = square_then_word(x, 245.5, s) + 8.0
    head(L, 250, LW, 9, "口座番号")
    rect(L + LW, 250, 84 - L - LW, 9)
    cells(39, 251, 7, 6.0, 7.0)
    head(84, 250, 24, 9, "口座名義\n（カタカナ）", 2.5)
    rect(108, 250, R - 108, 9)

    notes = [
        "記入上の注意　１ 黒のボールペンで記入してください。　２ 該当するものを○で囲むか、□に✓を付けてください。",
        "３ 数字は一マスに一字ずつ記入してください。　４ 別居の児童がいる場合は別居監護申立書を添えてください。",
    ]
    for i, line in enumerate(notes):
        text(L, 265 + 4.5 * i, line, 2.6)
    rect(140, 276, R - 140, 12)
    text(142, 279, "受付欄", 2.6)
    text(L, 285, "ひばり市 こども家庭課", 3.0)
    return sheet.img


if __name__ == "__main__":
    draw_blank().save(HERE / "blank.png", dpi=(DPI, DPI), optimize=True)
    if "--labels" in sys.argv:
        for s, x, y, w, h in LABELS:
            print(f"{s}: [{x:.2f}, {y:.2f}, {w:.2f}, {h:.2f}]")
