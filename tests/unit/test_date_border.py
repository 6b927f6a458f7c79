"""A date part printed as a box: a number whose first stroke stands against the outside of the
box's left border (a 1 of 10) is read whole and sent to review; a number written inside the box
is read as before."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields import ink as inkmod
from tests.unit.synthetic import Sheet, form, ink_columns

SHEET = Sheet(200)
px = SHEET.px
# 令和 [year] 年 [month] 月 [day] 日, each part a printed box as on a claim form's date row.
FORM = form(
    60,
    30,
    """
- name: birth
  label: 生年月日
  kind: date_wareki
  box: [2, 8, 56, 10]
  era: 令和
  parts:
    year: [20, 9, 8.5, 8]
    month: [34, 9, 6, 8]
    day: [45, 9, 6, 8]
""",
)


def blank_page() -> np.ndarray:
    blank = SHEET.blank(60, 30)
    for x0, x1 in ((10, 17), (29, 31.5), (40.5, 42.5), (52, 54.5)):  # 令和, 年, 月, 日
        cv2.rectangle(blank, (px(x0), px(11)), (px(x1), px(14.4)), 0, -1)
    for x0, w in ((20, 8.5), (34, 6), (45, 6)):  # the parts' boxes
        cv2.rectangle(blank, (px(x0), px(9)), (px(x0 + w), px(17)), 0, 2)
    return blank


def one_at(page: np.ndarray, x: float) -> None:
    cv2.line(page, (px(x + 0.2), px(10)), (px(x), px(16)), 20, 2)


def zero_at(page: np.ndarray, x: float) -> None:
    cv2.ellipse(page, (px(x), px(13)), (px(1.2), px(2.6)), 0, 0, 360, 20, 2)


def month(page: np.ndarray, blank: np.ndarray):
    rf, jobs = SHEET.reader(page, blank).plan(FORM.fields[0])
    return rf, next(j for j in jobs if j.slot == "month")


def test_a_one_against_the_outside_of_the_border_is_read_with_the_rest_for_review() -> None:
    blank = blank_page()
    page = blank.copy()
    one_at(page, 33.6)  # the 1 of 10, on the paper just left of the month's box
    zero_at(page, 37.5)
    rf, job = month(page, blank)
    assert ink_columns(job) >= px(4.6)  # the 1 and the 0, 5 mm from end to end, both kept
    assert "written_over_border" in [i.code for i in rf.issues]
    one_at(page, 44.4)  # the day too (10): the date is sent to review once, not per part
    zero_at(page, 48.5)
    rf, _ = month(page, blank)
    assert [i.code for i in rf.issues].count("written_over_border") == 1


def test_a_number_inside_its_box_is_read_as_before() -> None:
    blank = blank_page()
    page = blank.copy()
    one_at(page, 35.6)
    zero_at(page, 38.0)
    rf, job = month(page, blank)
    assert ink_columns(job) <= px(4.2)  # nothing before the box taken in
    assert "written_over_border" not in [i.code for i in rf.issues]


def test_the_print_before_the_box_is_not_taken_for_a_stroke() -> None:
    blank = blank_page()
    page = blank.copy()
    cv2.rectangle(page, (px(29) + 2, px(11)), (px(31.5) + 2, px(14.4)), 0, -1)  # 年 2 px off
    zero_at(page, 37.0)
    rf, job = month(page, blank)
    assert "written_over_border" not in [i.code for i in rf.issues]


def test_border_before_finds_a_thin_full_height_rule_with_paper_past_it() -> None:
    printed = np.zeros((40, 80), bool)
    printed[:, 40:45] = True  # the box's border, grown
    box = (47, 5, 20, 30)  # the box, inset 2 px inside it
    assert inkmod.border_before(printed, box, gap=4, rule=8, reach=20) == (7, 20)
    printed[:, 30:33] = True  # a printed 年 before it: paper only between
    assert inkmod.border_before(printed, box, gap=4, rule=8, reach=20) == (7, 7)
    printed[:, 33:40] = True  # no paper at all past the border: a shared wall or print
    assert inkmod.border_before(printed, box, gap=4, rule=8, reach=20) == (0, 0)


def test_border_before_ignores_a_label_and_a_thick_block() -> None:
    printed = np.zeros((40, 80), bool)
    printed[10:20, 40:45] = True  # a label's stroke: a quarter of the rows
    box = (47, 5, 20, 30)
    assert inkmod.border_before(printed, box, gap=4, rule=8, reach=20) == (0, 0)
    printed[:, 30:45] = True  # printed solid: no thin border
    assert inkmod.border_before(printed, box, gap=4, rule=8, reach=20) == (0, 0)


def test_bridge_band_joins_a_stroke_the_border_cut_and_nothing_else() -> None:
    mask = np.zeros((30, 40), bool)
    mask[10:13, 5:16] = True  # a 4's arm, left of a border dropped out at columns 16-21
    mask[12:15, 22:30] = True  # ... going on inside the box, two rows lower
    mask[25:27, 8:15] = True  # a dash before the border with nothing beyond it
    out = inkmod.bridge_band(mask, 16, 22)
    n, _ = cv2.connectedComponents(out.astype(np.uint8))
    assert n - 1 == 2  # the arm is one piece; the dash stays apart
    assert not out[25:27, 16:22].any()


def test_bridge_band_joins_a_slanted_stroke_where_its_ends_come_nearest() -> None:
    mask = np.zeros((30, 40), bool)
    for i in range(8):  # a 1 slanted at 45°: its foot left of the border, its top inside
        mask[19 + i, 15 - i] = mask[19 + i, 14 - i] = True
        mask[13 - i, 22 + i] = mask[13 - i, 23 + i] = True
    out = inkmod.bridge_band(mask, 16, 22)
    n, _ = cv2.connectedComponents(out.astype(np.uint8))
    assert n - 1 == 1
    far = np.zeros_like(mask)
    far[25:29, 10:16] = True  # a foot too far below the top's nearest ink (11 rows > 6)
    far[5:14, 22:24] = True
    n, _ = cv2.connectedComponents(inkmod.bridge_band(far, 16, 22).astype(np.uint8))
    assert n - 1 == 2
