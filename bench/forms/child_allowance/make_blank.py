"""The printed 児童手当 認定請求書 of みなと市 (a fourth form, never used for tuning).

    python bench/forms/child_allowance/make_blank.py          # writes blank.png beside this file
    python bench/forms/child_allowance/make_blank.py --labels # also prints the printed labels' boxes

Drawn by us to carry layout traits that neither the nursery form nor the 現況届 has: an A4 sheet
in landscape, two columns (請求者・配偶者 on the left, 受取口座 on the right) and a full-width
table of 児童 rows below; options printed as words to circle with no square (男・女, 厚生年金・
国民年金・共済組合, 同居・別居, 銀行・信用金庫・農協・信用組合), eras printed one above the
other (昭和／平成) before three part boxes, small 4 mm 個人番号 cells for the spouse, 7 account
number cells, and a 公金受取口座 checkbox. The template beside it was written by hand for this
blank from docs/templates.md, as a city would for its own form.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from drawing import DPI, Sheet  # noqa: E402

W_MM, H_MM = 297, 210  # A4 landscape
LABEL = 3.2  # mm, printed option and era labels

LABELS: list[tuple[str, float, float, float, float]] = []  # (text, x, y, w, h) of circle-able labels


def draw_blank() -> Image.Image:
    sheet = Sheet(W_MM, H_MM, text_size=3.2, rule_mm=0.25)
    text, rect = sheet.text, sheet.rect

    def label(x: float, y: float, s: str, size: float = LABEL) -> None:
        """A word writers circle; its ink box is recorded for the template."""
        text(x, y, s, size)
        LABELS.append((s, *sheet.text_box(x, y, s, size)))

    def head(x: float, y: float, w: float, h: float, s: str, size: float = 2.9) -> None:
        sheet.head(x, y, w, h, s, size)

    def cells(x: float, y: float, n: int, w: float, h: float) -> None:
        sheet.cells(x, y, n, w, h, 0.18)

    def parts(x: float, y: float, step: float = 13.0) -> None:
        """Year, month and day boxes (7.5 × 6.5 mm), each followed by its printed unit."""
        for i, unit in enumerate("年月日"):
            rect(x + step * i, y, 7.5, 6.5, 0.18)
            text(x + step * i + 8.2, y + 3.25, unit, 3.0)

    def eras(x: float, y: float, top: str, bottom: str) -> None:
        """Two eras printed one above the other (the writer circles one)."""
        label(x, y - 2.1, top)
        label(x, y + 2.1, bottom)

    # Title block
    text(148.5, 11, "児 童 手 当　認 定 請 求 書", 6.0, "mm")
    text(10, 19, "（宛先）みなと市長", 3.4)
    text(10, 24, "次のとおり児童手当の受給資格について認定を請求します。", 3.0)
    text(200, 19, "請求年月日　令和", 3.2)
    parts(228, 15.8, 14.0)

    # 1 請求者 (left column)
    L0, LW, R = 10.0, 22.0, 158.0
    text(L0, 28.5, "１　請求者", 3.4)
    head(L0, 31, LW, 6, "フリガナ")
    rect(L0 + LW, 31, 110 - L0 - LW, 6)
    head(L0, 37, LW, 10, "氏　名")
    rect(L0 + LW, 37, 110 - L0 - LW, 10)
    head(110, 31, 14, 16, "性別")
    rect(124, 31, R - 124, 16)
    label(130, 39, "男")
    text(137.5, 39, "・", LABEL, "mm")
    label(142, 39, "女")
    head(L0, 47, LW, 10, "生年月日")
    rect(L0 + LW, 47, 110 - L0 - LW, 10)
    eras(34, 52, "昭和", "平成")
    parts(47, 48.75)
    head(110, 47, 14, 10, "電話\n番号")
    rect(124, 47, R - 124, 10)
    head(L0, 57, LW, 9, "個人番号")
    rect(L0 + LW, 57, R - L0 - LW, 9)
    cells(34, 58, 12, 5.5, 7)
    head(110, 57, 14, 9, "職業")
    rect(124, 57, R - 124, 9)
    head(L0, 66, LW, 17, "住　所")
    rect(L0 + LW, 66, R - L0 - LW, 17)
    text(34, 70.5, "〒", 3.2)
    cells(39, 67, 7, 5.0, 7)
    text(78, 70.5, "みなと市", 3.0)
    head(L0, 83, LW, 8, "加入年金")
    rect(L0 + LW, 83, R - L0 - LW, 8)
    label(36, 87, "厚生年金")
    text(52, 87, "・", LABEL, "mm")
    label(56, 87, "国民年金")
    text(72, 87, "・", LABEL, "mm")
    label(76, 87, "共済組合")
    text(94, 87, "（公務員の方は勤務先へ請求）", 2.6)

    # 配偶者
    text(L0, 95.5, "　配偶者", 3.4)
    head(L0, 98, LW, 10, "氏　名")
    rect(L0 + LW, 98, R - L0 - LW, 10)
    head(L0, 108, LW, 10, "生年月日")
    rect(L0 + LW, 108, 95 - L0 - LW, 10)
    eras(34, 113, "昭和", "平成")
    parts(47, 109.75)
    head(95, 108, 14, 10, "個人\n番号")
    rect(109, 108, R - 109, 10)
    cells(110, 109.5, 12, 4.0, 7)

    # 2 受取口座 (right column)
    X0, XW, XR = 164.0, 22.0, 287.0
    text(X0, 28.5, "２　受取口座（請求者名義の口座に限ります）", 3.4)
    head(X0, 31, XW, 8, "公金受取\n口座", 2.6)
    rect(X0 + XW, 31, XR - X0 - XW, 8)
    rect(189, 33.2, 3.6, 3.6, 0.2)
    text(194, 35, "公金受取口座を利用する（下欄の記入は不要です）", 2.9)
    head(X0, 39, XW, 14, "金融機関名")
    rect(X0 + XW, 39, XR - X0 - XW, 14)
    label(251, 43, "銀行")
    label(262, 43, "信用金庫")
    label(251, 49, "農協")
    label(262, 49, "信用組合")
    head(X0, 53, XW, 10, "支店名")
    rect(X0 + XW, 53, XR - X0 - XW, 10)
    label(263, 58, "本店")
    text(271, 58, "・", LABEL, "mm")
    label(274, 58, "支店")
    head(X0, 63, XW, 9, "預金種別")
    rect(X0 + XW, 63, 224 - X0 - XW, 9)
    label(191, 67.5, "普通")
    text(202, 67.5, "・", LABEL, "mm")
    label(206, 67.5, "当座")
    head(224, 63, 18, 9, "口座番号")
    rect(242, 63, XR - 242, 9)
    cells(245, 64, 7, 5.5, 7)
    head(X0, 72, XW, 11, "口座名義\n（カタカナ）", 2.6)
    rect(X0 + XW, 72, XR - X0 - XW, 11)
    text(X0, 88, "※ 請求者以外の名義の口座には振り込めません。", 2.7)
    text(X0, 92.5, "※ ゆうちょ銀行は振込用の店名・口座番号を記入してください。", 2.7)
    rect(X0, 98, XR - X0, 20)
    text(X0 + 2, 101.5, "受付欄", 2.8)

    # 3 児童 (full-width table)
    text(L0, 125.5, "３　支給要件に該当する児童（18歳到達後最初の3月31日までの児童）", 3.4)
    T = 128.0
    cols = [(L0, 8, "No"), (18, 80, "フリガナ\n氏　名"), (98, 80, "生年月日"), (178, 30, "続柄"),
            (208, 40, "同居・別居"), (248, XR - 248, "備　考")]  # fmt: skip
    for x, w, s in cols:
        head(x, T, w, 8, s, 2.8)
    for i in range(3):
        y = T + 8 + 14 * i
        rect(L0, y, 8, 14)
        text(L0 + 4, y + 7, str(i + 1), 3.0, "mm")
        rect(18, y, 80, 5)
        rect(18, y + 5, 80, 9)
        rect(98, y, 80, 14)
        eras(101, y + 7, "平成", "令和")
        parts(114, y + 3.75)
        rect(178, y, 30, 14)
        rect(208, y, 40, 14)
        label(214, y + 7, "同居")
        text(226, y + 7, "・", LABEL, "mm")
        label(230, y + 7, "別居")
        rect(248, y, XR - 248, 14)

    notes = [
        "記入上の注意　１ 黒のボールペンで記入してください。　２ 該当するものを○で囲んでください。",
        "３ 個人番号は一マスに一字ずつ記入してください。　４ 別居の児童がいる場合は別居監護申立書を添えてください。",
    ]
    for i, line in enumerate(notes):
        text(L0, 189 + 5 * i, line, 2.8)
    text(XR, 203, "みなと市 子育て支援課", 3.0, "rm")
    return sheet.img


if __name__ == "__main__":
    draw_blank().save(HERE / "blank.png", dpi=(DPI, DPI), optimize=True)
    if "--labels" in sys.argv:
        for s, x, y, w, h in LABELS:
            print(f"{s}: [{x:.2f}, {y:.2f}, {w:.2f}, {h:.2f}]")
