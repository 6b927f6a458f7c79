"""A date's year, month and day parts are found on the blank when the template leaves them out
(pipeline/forms/dateparts.py). The print here is drawn as blocks whose width says which glyph
they stand for, and the stand-in recogniser reads them by that width, so these tests need no
model; tests/integration/test_fields_model.py finds the parts on real blanks with the real one."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.forms.dateparts import PAD_MM, find_parts, with_found_parts
from tests.unit.synthetic import form

DPI = 300
K = DPI / 25.4
PAD = max(2, round(PAD_MM * K))
# Each stand-in glyph is a block 3.4 mm tall whose width (px) names it.
WIDTHS = {"年": 36, "月": 30, "日": 26, "令": 40, "和": 44, "昭": 48, "平": 52, "成": 56, "提": 60, "出": 64}
GLYPH_H = 40


def px(mm: float) -> int:
    return round(mm * K)


def glyph(img: np.ndarray, ch: str, x_mm: float, y_mm: float) -> tuple[int, int, int, int]:
    """A solid stand-in for `ch` with its top left at (x_mm, y_mm); its pixel box."""
    x, y, w = px(x_mm), px(y_mm), WIDTHS[ch]
    img[y : y + GLYPH_H, x : x + w] = 0
    return x, y, w, GLYPH_H


def square(img: np.ndarray, x_mm: float, y_mm: float, w_mm: float, h_mm: float) -> tuple[int, int, int, int]:
    """A printed box outline; its pixel box."""
    x, y, w, h = px(x_mm), px(y_mm), px(w_mm), px(h_mm)
    cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), 0, 3)
    return x, y, w, h


def read(crops: Sequence[np.ndarray]) -> list[str]:
    """The stand-in recogniser: a crop's ink width names its glyph; anything else reads as □."""
    by_width = {w: ch for ch, w in WIDTHS.items()}
    out = []
    for c in crops:
        ink = c < 128
        cols, rows = np.flatnonzero(ink.any(axis=0)), np.flatnonzero(ink.any(axis=1))
        if not cols.size:
            out.append("")
            continue
        block = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        out.append(by_width.get(block.shape[1], "□") if block.mean() > 0.9 else "□")
    return out


def page(w_mm: float = 120, h_mm: float = 40) -> np.ndarray:
    return np.full((px(h_mm), px(w_mm)), 255, np.uint8)


def test_boxes_before_each_unit_are_the_parts() -> None:
    # 令和 [□]年 [□]月 [□]日
    img = page()
    glyph(img, "令", 2, 11)
    glyph(img, "和", 6, 11)
    boxes = []
    x = 14.0
    for unit in "年月日":
        boxes.append(square(img, x, 9, 8, 7))
        glyph(img, unit, x + 8.5, 11)
        x += 13
    crop = img[px(6) : px(20), :]
    parts = find_parts(crop, K, read)
    assert parts is not None
    for (fx, fy, fw, fh), (bx, by, bw, bh) in zip(parts, boxes, strict=True):
        # (a 3 px outline stands a pixel or two outside its nominal box)
        assert abs(fx - bx) <= 2 and abs(fx + fw - (bx + bw)) <= 2
        assert abs(fy + px(6) - by) <= 2 and abs(fh - bh) <= 4


def test_on_a_plain_line_a_part_is_the_paper_before_its_unit_clear_of_the_eras() -> None:
    # 昭和・平成 ＿＿ 年 ＿＿ 月 ＿＿ 日
    img = page()
    for ch, x in (("昭", 2), ("和", 6.5), ("平", 12), ("成", 17)):
        glyph(img, ch, x, 11)
    era_right = px(17) + WIDTHS["成"]
    units = [glyph(img, u, x, 11) for u, x in (("年", 34), ("月", 48), ("日", 62))]
    parts = find_parts(img, K, read)
    assert parts is not None
    (yx, _, yw, _), (mx, _, mw, _), (dx, _, dw, _) = parts
    assert yx >= era_right + 0.4 * GLYPH_H  # a ring round 平成 is not the year's
    assert yx + yw == units[0][0]
    assert units[0][0] + units[0][2] < mx < units[0][0] + units[0][2] + 0.3 * GLYPH_H
    assert mx + mw == units[1][0] and dx + dw == units[2][0]
    for _, y, _, h in parts:  # room above and below the unit for writing taller than print
        assert y < units[0][1] and y + h > units[0][1] + GLYPH_H


def test_a_labels_own_day_is_not_the_dates() -> None:
    # 提出日  令和 ＿＿ 年 ＿＿ 月 ＿＿ 日: the tightest 年 月 日 wins
    img = page(140)
    glyph(img, "提", 2, 11)
    glyph(img, "出", 8, 11)
    label_day = glyph(img, "日", 14, 11)
    glyph(img, "令", 30, 11)
    glyph(img, "和", 34, 11)
    glyph(img, "年", 52, 11)
    glyph(img, "月", 66, 11)
    day = glyph(img, "日", 80, 11)
    parts = find_parts(img, K, read)
    assert parts is not None
    assert parts[2][0] + parts[2][2] == day[0] != label_day[0]


def test_no_parts_without_all_three_units() -> None:
    img = page()
    glyph(img, "令", 2, 11)
    glyph(img, "和", 6, 11)
    glyph(img, "年", 30, 11)
    glyph(img, "月", 50, 11)
    assert find_parts(img, K, read) is None
    assert find_parts(page(), K, read) is None  # nothing printed: a date written in full


FIELDS = """
- {name: filed, label: 申込日, kind: date_wareki, box: [0, 6, 120, 14], era: 令和}
- {name: given, label: 生年月日, kind: date_wareki, box: [0, 6, 120, 14], era: 令和,
   parts: {year: [1, 7, 5, 5], month: [10, 7, 5, 5], day: [20, 7, 5, 5]}}
- {name: free, label: 記入日, kind: date_wareki, box: [0, 6, 120, 14]}
"""


def test_found_parts_are_added_and_listed_and_what_the_template_says_is_kept() -> None:
    img = page(120, 40)
    glyph(img, "令", 2, 11)
    glyph(img, "和", 6, 11)
    for unit, x in (("年", 30), ("月", 50), ("日", 70)):
        glyph(img, unit, x, 11)
    tpl = form(120, 40, FIELDS)
    out = with_found_parts(tpl, img, read)
    filed = out.field("filed").parts
    assert filed is not None
    assert filed.year[0] < 30 <= filed.year[0] + filed.year[2] + 0.1  # ends at 年
    assert 6 <= filed.year[1] < 11 and filed.year[1] + filed.year[3] <= 20
    assert out.field("given").parts == tpl.field("given").parts  # written parts win
    # No era given: the one printed before the year is the field's `era`.
    assert out.field("free").era == "令和" and out.field("free").parts == filed
    assert out.inferred[: len(tpl.inferred)] == tpl.inferred
    assert [line.split(":")[0] for line in out.inferred[len(tpl.inferred) :]] == ["filed", "free", "free"]
    assert all(line.endswith("(found on the blank)") for line in out.inferred[len(tpl.inferred) :])
    assert tpl.field("filed").parts is None  # the loaded template itself is not changed


def test_eras_printed_to_circle_become_era_options_with_their_labels() -> None:
    # 昭和・平成 ＿＿ 年 ＿＿ 月 ＿＿ 日, the template saying neither `era` nor `era_options`
    img = page(120, 40)
    showa = [glyph(img, "昭", 2, 11), glyph(img, "和", 6.5, 11)]
    heisei = [glyph(img, "平", 12, 11), glyph(img, "成", 17, 11)]
    for unit, x in (("年", 34), ("月", 48), ("日", 62)):
        glyph(img, unit, x, 11)
    tpl = form(120, 40, "- {name: born, label: 生年月日, kind: date_wareki, box: [0, 6, 120, 14]}")
    born = with_found_parts(tpl, img, read).field("born")
    assert born.era is None and born.parts is not None and born.infer_when_unmarked
    assert [o.value for o in born.era_options or []] == ["昭和", "平成"]
    for option, (first, second) in zip(born.era_options or [], (showa, heisei), strict=True):
        x, y, w, h = option.label or (0, 0, 0, 0)
        assert abs(x * K - first[0]) <= 1 and abs((x + w) * K - (second[0] + second[2])) <= 1
        assert abs(y * K - first[1]) <= 1 and abs(h * K - GLYPH_H) <= 1


def test_no_era_given_or_printed_leaves_the_date_a_written_string() -> None:
    img = page(120, 40)
    for unit, x in (("年", 30), ("月", 50), ("日", 70)):
        glyph(img, unit, x, 11)
    tpl = form(120, 40, "- {name: born, label: 生年月日, kind: date_wareki, box: [0, 6, 120, 14]}")
    assert with_found_parts(tpl, img, read) is tpl


def test_a_template_with_nothing_to_find_is_returned_as_it_is() -> None:
    tpl = form(120, 40, FIELDS)
    assert with_found_parts(tpl, page(120, 40), read) is tpl


def test_a_date_with_eras_printed_in_its_box_is_read_as_a_wareki_date() -> None:
    # A template that calls it `date` (as a generator's field list does), on 令和 ＿年＿月＿日.
    img = page(120, 40)
    glyph(img, "令", 2, 11)
    glyph(img, "和", 6, 11)
    for unit, x in (("年", 30), ("月", 50), ("日", 70)):
        glyph(img, unit, x, 11)
    tpl = form(120, 40, "- {name: filed, label: 申込日, kind: date, box: [0, 6, 120, 14]}")
    filed = with_found_parts(tpl, img, read).field("filed")
    assert (filed.kind, filed.era) == ("date_wareki", "令和") and filed.parts is not None
    # ＿年＿月＿日 with no era printed: a western date, left as the template says.
    bare = page(120, 40)
    for unit, x in (("年", 30), ("月", 50), ("日", 70)):
        glyph(bare, unit, x, 11)
    assert with_found_parts(tpl, bare, read) is tpl
