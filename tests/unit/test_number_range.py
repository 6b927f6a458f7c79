"""A number field with a small min..max is read against the numbers it allows."""

from __future__ import annotations

import cv2

from pipeline.fields.read import number_words
from tests.unit.synthetic import Sheet, form

SHEET = Sheet(150)
px = SHEET.px

FIELDS = """
- {name: age_class, label: 歳児クラス, kind: number, box: [20, 10, 10, 8], min: 0, max: 5}
- {name: amount, label: 金額, kind: number, box: [20, 10, 10, 8], min: 0, max: 99999}
- {name: count, label: 人数, kind: number, box: [20, 10, 10, 8]}
"""


def test_a_small_range_is_a_closed_list_and_a_wide_or_open_one_is_not() -> None:
    blank = SHEET.blank(60, 30)
    cv2.rectangle(blank, (px(20), px(10)), (px(30), px(18)), 0, 2)
    page = blank.copy()
    cv2.circle(page, (px(25), px(14)), px(2), 20, 2)  # a 0 written in the box
    reader = SHEET.reader(page, blank)
    specs = form(60, 30, FIELDS).fields
    words = [[j.words for j in reader.plan(s)[1]] for s in specs]
    assert words == [[("0", "1", "2", "3", "4", "5")], [None], [None]]
    assert number_words(specs[0]) == ("0", "1", "2", "3", "4", "5")
