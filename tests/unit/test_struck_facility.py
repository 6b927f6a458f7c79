"""A facility name "struck" so that only its ending is left beside the strike (子安台's bars in a
row, a crease through ひまわり) is read as written: nobody corrects a name to 保育ルーム alone."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.fields.read import read_page
from pipeline.ocr.fake import DEFAULT_LABELS, FakeRecognizer
from tests.unit.synthetic import Sheet, form

SHEET = Sheet(150)
px = SHEET.px

FIELDS = """
- {name: facility_1, label: 第1希望, kind: text_ja, box: [10, 20, 100, 9]}
- {name: employer, label: 勤務先, kind: text_ja, box: [10, 20, 100, 9]}
"""
LABELS = DEFAULT_LABELS + "ひまわりあおば保育園ルーム"


def struck_page() -> tuple[np.ndarray, np.ndarray]:
    """Writing with the customary two lines through its first part, more writing after it."""
    blank = SHEET.blank(120, 40)
    cv2.rectangle(blank, (px(10), px(20)), (px(110), px(29)), 0, 2)
    page = blank.copy()
    for x, text in ((12, "HHHH"), (45, "NNNN")):
        cv2.putText(page, text, (px(x), px(27)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 30, 2, cv2.LINE_AA)
    for y in (23.6, 24.6):
        cv2.line(page, (px(11), px(y)), (px(38), px(y)), 30, 2)
    return page, blank


def read(field: int, beside: str) -> tuple[str, list[str]]:
    page, blank = struck_page()
    reader = SHEET.reader(page, blank)
    spec = form(120, 40, FIELDS).fields[field]
    wide = px(30)  # the crop with the struck part in it is wider than what is beside the strike
    fake = FakeRecognizer(lambda crop: "ひまわり保育ルーム" if crop.shape[1] > wide else beside, LABELS)
    (rf,) = read_page(reader, [spec], fake)
    return rf.raw, [i.code for i in rf.issues]


def test_a_strike_that_leaves_only_the_ending_is_no_correction() -> None:
    raw, issues = read(0, "保育ルーム")
    assert raw == "ひまわり保育ルーム" and "correction" not in issues


def test_a_name_corrected_to_another_name_stays_a_correction() -> None:
    assert read(0, "あおば保育園") == ("あおば保育園", ["correction"])


def test_only_facility_names_are_read_both_ways() -> None:
    raw, issues = read(1, "保育ルーム")
    assert raw == "保育ルーム" and issues == ["correction"]
