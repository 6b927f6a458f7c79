"""A digit struck in its cell of a digit box, the new one written small over the cell on the
box's top border (dev set A's 〒 and 個人番号): the new digit takes the struck one's place and the
field is held as a correction."""

from __future__ import annotations

import cv2
import numpy as np

from tests.unit.synthetic import Sheet, form

SHEET = Sheet(150)
px = SHEET.px

FIELDS = """
- name: postal
  label: 郵便番号
  kind: postal_code
  box: [10, 20, 49, 7]
  cells: {count: 7, groups: [3, 4], separator: '-'}
"""
CELL = 7.0  # mm


def page_with(strike: bool, over: bool) -> tuple[np.ndarray, np.ndarray]:
    blank = SHEET.blank(80, 40)
    for i in range(8):
        cv2.line(blank, (px(10 + i * CELL), px(20)), (px(10 + i * CELL), px(27)), 0, 1)
    for y in (20, 27):
        cv2.line(blank, (px(10), px(y)), (px(59), px(y)), 0, 2)
    page = blank.copy()
    for i, d in enumerate("9863303"):
        cv2.putText(
            page, d, (px(11.6 + i * CELL), px(26.2)), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 30, 2, cv2.LINE_AA
        )
    if strike:  # 二重線 through the fourth digit, within its cell
        for y in (23.3, 24.5):
            cv2.line(page, (px(11 + 3 * CELL), px(y)), (px(16 + 3 * CELL), px(y)), 30, 2)
    if over:  # the new digit, small, over the fourth cell
        cv2.putText(
            page, "1", (px(12.5 + 3 * CELL), px(19.6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 30, 2, cv2.LINE_AA
        )
    return page, blank


def plan(page: np.ndarray, blank: np.ndarray):
    return SHEET.reader(page, blank).plan(form(80, 40, FIELDS).fields[0])


def ink_in_fourth_cell(job) -> np.ndarray:
    """The job's ink in the fourth cell's columns (the crop starts a little before the first)."""
    cols = np.flatnonzero(job.ink.any(axis=0))
    x0 = cols[0] + px(3 * CELL) - px(1.5)
    return job.ink[:, x0 : x0 + px(CELL)]


def test_the_digit_over_a_struck_cell_takes_its_place() -> None:
    rf, (job,) = plan(*page_with(strike=True, over=True))
    assert [i.code for i in rf.issues] == ["correction"]
    ink = ink_in_fourth_cell(job)
    # The struck 3 and its two lines are gone: no level run half a cell long is left there.
    rows = [np.flatnonzero(r) for r in ink]
    assert max((r[-1] - r[0] + 1 for r in rows if r.size), default=0) < px(CELL) // 2
    assert ink.any()  # the new digit stands there


def test_a_struck_cell_with_nothing_over_it_is_read_as_it_stands() -> None:
    rf, _ = plan(*page_with(strike=True, over=False))
    assert not rf.issues


def test_writing_over_a_cell_that_is_not_struck_changes_nothing() -> None:
    rf, _ = plan(*page_with(strike=False, over=True))
    assert not rf.issues


def test_cells_are_the_box_cut_evenly_unless_listed() -> None:
    cells = form(80, 40, FIELDS).fields[0].cell_boxes()
    assert len(cells) == 7 and cells[3] == (10 + 3 * CELL, 20, CELL, 7)
