"""A date's number started on the free paper before its box is read whole; a ring round the era
printed before the box is not taken for a digit."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields import ink as inkmod
from tests.unit.synthetic import Sheet, form, ink_columns

SHEET = Sheet(200)
px = SHEET.px
# 昭和・平成 [year] 年: two era labels (printed blocks) at 4-10 and 12-18 mm, the year's box at
# 20-28.5 mm with nothing printed round it (as dev set A's form prints it), 年 at 30 mm.
FORM = form(
    60,
    30,
    """
- name: birth
  label: 生年月日
  kind: date_wareki
  box: [2, 8, 50, 10]
  era_options:
    options:
    - {value: 昭和, label: [4, 11, 6, 3.4]}
    - {value: 平成, label: [12, 11, 6, 3.4]}
  parts:
    year: [20, 9, 8.5, 8]
    month: [34, 9, 6, 8]
    day: [44, 9, 6, 8]
""",
)


def blank_page() -> np.ndarray:
    blank = SHEET.blank(60, 30)
    for x0, x1 in ((4, 10), (12, 18), (30, 32.5), (41, 43.5), (51, 53.5)):  # eras, 年, 月, 日
        cv2.rectangle(blank, (px(x0), px(11)), (px(x1), px(14.4)), 0, -1)
    return blank


def one_at(page: np.ndarray, x: float) -> None:
    cv2.line(page, (px(x + 0.4), px(10)), (px(x), px(15.5)), 20, 2)


def year_job(page: np.ndarray, blank: np.ndarray):
    _, jobs = SHEET.reader(page, blank).plan(FORM.fields[0])
    return next(j for j in jobs if j.slot == "year")


def test_a_first_digit_written_before_the_box_is_read_with_the_rest() -> None:
    blank = blank_page()
    page = blank.copy()
    one_at(page, 19.0)  # the 1 of 12, on the free paper between 平成 and the box
    one_at(page, 23.0)
    job = year_job(page, blank)
    assert ink_columns(job) >= px(3.5)  # both strokes, 4 mm apart


def test_a_ring_round_the_era_before_the_box_stays_out() -> None:
    blank = blank_page()
    page = blank.copy()
    cv2.ellipse(page, (px(15), px(12.7)), (px(4.2), px(2.6)), 0, 0, 360, 20, 2)  # 平成 ringed
    one_at(page, 23.0)
    job = year_job(page, blank)
    assert ink_columns(job) <= px(1)  # the 1 alone


def test_without_free_paper_before_the_box_nothing_changes() -> None:
    blank = blank_page()
    cv2.rectangle(blank, (px(19.6), px(9)), (px(28.5), px(17)), 0, 2)  # the box printed round it
    page = blank.copy()
    one_at(page, 23.0)
    reader = SHEET.reader(page, blank)
    assert reader.free_before(reader.px(FORM.fields[0].parts.year)) == 0


def test_written_before_keeps_a_tall_piece_and_drops_what_reaches_the_outer_edge() -> None:
    mask = np.zeros((40, 60), bool)
    mask[5:35, 6:8] = True  # a digit in the lead, clear of its outer edge
    mask[20:22, 0:5] = True  # a ring's arc from the print's side
    mask[30:32, 8:9] = False
    mask[3:5, 1:3] = True  # a speck: short, in the lead alone
    out = inkmod.written_before(mask, 12)
    assert out[5:35, 6:8].all()
    assert not out[20:22, 0:5].any()
    assert not out[3:5, 1:3].any()


def test_what_dropout_left_of_a_printed_unit_before_the_box_is_not_a_digit() -> None:
    mask = np.zeros((40, 60), bool)
    mask[5:35, 4:6] = True  # a printed 月's right stroke, a pixel off the blank
    printed = np.zeros_like(mask)
    printed[3:37, 2:7] = True
    assert not inkmod.written_before(mask, 12, printed)[:, :12].any()
    assert inkmod.written_before(mask, 12)[5:35, 4:6].all()  # the same stroke on free paper stays
