"""A number field with a small min..max is read against the numbers it allows."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields.read import PageReader, number_words
from pipeline.forms.template import parse_template
from pipeline.imaging.dropout import print_mask

DPI = 150
MM = DPI / 25.4

TEMPLATE = """
form_id: f
version: '1'
title: t
page: {width_mm: 60, height_mm: 30}
fields:
- {name: age_class, label: 歳児クラス, kind: number, box: [20, 10, 10, 8], min: 0, max: 5}
- {name: amount, label: 金額, kind: number, box: [20, 10, 10, 8], min: 0, max: 99999}
- {name: count, label: 人数, kind: number, box: [20, 10, 10, 8]}
"""


def px(v: float) -> int:
    return round(v * MM)


def test_a_small_range_is_a_closed_list_and_a_wide_or_open_one_is_not() -> None:
    blank = np.full((px(30), px(60)), 255, np.uint8)
    cv2.rectangle(blank, (px(20), px(10)), (px(30), px(18)), 0, 2)
    page = blank.copy()
    cv2.circle(page, (px(25), px(14)), px(2), 20, 2)  # a 0 written in the box
    reader = PageReader(page, blank, print_mask(blank), DPI)
    specs = parse_template(TEMPLATE).fields
    words = [[j.words for j in reader.plan(s)[1]] for s in specs]
    assert words == [[("0", "1", "2", "3", "4", "5")], [None], [None]]
    assert number_words(specs[0]) == ("0", "1", "2", "3", "4", "5")
