"""A date's number struck in its box, the new one written over the row above it (the dev set's
writers: 28 struck in the day box, 27 written on the row's border): the new one is read from
there, and the field is held as a correction."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields.read import STRUCK_ABOVE_MM
from tests.unit.synthetic import Sheet, form

SHEET = Sheet(150)
px = SHEET.px

FIELDS = """
- name: born
  label: 生年月日
  kind: date_wareki
  box: [10, 20, 60, 9]
  era: 令和
  parts:
    year: [20, 20.8, 9, 7]
    month: [34, 20.8, 9, 7]
    day: [48, 20.8, 9, 7]
"""


def write(page: np.ndarray, text: str, x_mm: float, base_mm: float) -> None:
    cv2.putText(page, text, (px(x_mm), px(base_mm)), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 30, 2, cv2.LINE_AA)


def page_with(above: str | None = None, tall_above: bool = False) -> tuple[np.ndarray, np.ndarray]:
    blank = SHEET.blank(80, 40)
    for y in (20, 29):  # the row's borders
        cv2.line(blank, (px(5), px(y)), (px(75), px(y)), 0, 2)
    page = blank.copy()
    write(page, "5", 22, 26.5)
    write(page, "4", 36, 26.5)
    write(page, "28", 49, 26.5)
    for y in (24.2, 25.0):  # 二重線 through the day
        cv2.line(page, (px(48.9), px(y)), (px(55.9), px(y)), 30, 1)
    if above:
        write(page, above, 49.5, 20.2)
    if tall_above:  # the row above's own writing, reaching down near the border
        cv2.line(page, (px(51), px(10)), (px(52), px(19)), 30, 2)
    return page, blank


def plan(page: np.ndarray, blank: np.ndarray):
    rf, jobs = SHEET.reader(page, blank).plan(form(80, 40, FIELDS).fields[0])
    return rf, {j.slot: j for j in jobs}


def test_the_new_number_over_the_row_is_read_and_held_as_a_correction() -> None:
    rf, jobs = plan(*page_with(above="27"))
    assert [i.code for i in rf.issues] == ["correction"]
    day = jobs["day"]
    # The strip over the day box, print kept (the border runs through the new number's foot).
    assert abs(day.crop.shape[0] - px(STRUCK_ABOVE_MM)) <= 2
    assert day.ink is None
    assert day.words  # still read against the valid days
    assert jobs["year"].crop.shape[0] < px(7) and jobs["month"].crop.shape[0] < px(7)


def test_a_struck_number_with_nothing_over_it_is_read_in_its_box() -> None:
    rf, jobs = plan(*page_with())
    assert not rf.issues
    assert jobs["day"].crop.shape[0] < px(7)


def test_the_row_aboves_own_writing_is_no_new_number() -> None:
    rf, jobs = plan(*page_with(tall_above=True))
    assert not rf.issues
    assert jobs["day"].crop.shape[0] < px(7)
