"""Numbers written partly out of their box: the strokes are followed, the box's border is not."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.result import Reading
from tests.unit.synthetic import Sheet, form

SHEET = Sheet(200)
px = SHEET.px
FORM = form(
    60,
    30,
    """
- {name: hours, label: 時間, kind: number, box: [20, 10, 10, 8]}
- {name: other, label: 他, kind: text_ja, box: [20, 10, 10, 8]}
""",
)


def page_with(draw) -> tuple[np.ndarray, np.ndarray]:
    blank = SHEET.blank(60, 30)
    cv2.rectangle(blank, (px(20), px(10)), (px(30), px(18)), 0, 2)
    page = blank.copy()
    draw(page)
    return page, blank


def three_over_the_top(page: np.ndarray) -> None:
    """A stroke from 2 mm above the box down into it, and a body inside it."""
    cv2.line(page, (px(24), px(8)), (px(26), px(8)), 20, 2)
    cv2.line(page, (px(26), px(8)), (px(25), px(13)), 20, 2)
    cv2.line(page, (px(25), px(13)), (px(24), px(16.5)), 20, 2)


def plan(page: np.ndarray, blank: np.ndarray, index: int):
    return SHEET.reader(page, blank).plan(FORM.fields[index])


def test_a_number_running_over_its_box_is_read_whole_and_text_is_not_followed() -> None:
    page, blank = page_with(three_over_the_top)
    _, jobs = plan(page, blank, 0)
    assert len(jobs) == 1
    # The stroke is followed OVERFLOW_MM (1.5 mm) above the box's 0.6 mm inset, across the gap
    # dropout cut where it crosses the printed border: 7.4 mm of ink where a crop cut at the box
    # (as text is) holds 5.9 mm.
    assert height(jobs[0].ink) >= px(7)
    _, text_jobs = plan(page, blank, 1)
    assert height(text_jobs[0].ink) < px(6.5)


def height(ink: np.ndarray) -> int:
    rows = np.flatnonzero(ink.any(axis=1))
    return int(rows[-1] - rows[0] + 1)


def test_a_neighbours_writing_reaching_into_the_margin_stays_out() -> None:
    def draw(page: np.ndarray) -> None:
        cv2.line(page, (px(24), px(11.5)), (px(24), px(16.5)), 20, 2)  # a 1 inside
        cv2.line(page, (px(31), px(4)), (px(31), px(17)), 20, 2)  # someone else's stroke beside

    page, blank = page_with(draw)
    _, jobs = plan(page, blank, 0)
    ink = jobs[0].ink
    assert ink.any(axis=0).sum() <= px(1)  # only the 1's columns


def test_a_digit_written_half_over_the_box_edge_keeps_its_part_in_the_box() -> None:
    def draw(page: np.ndarray) -> None:
        cv2.line(page, (px(20.8), px(11.5)), (px(19.2), px(17)), 20, 2)  # a 1 over the left edge
        cv2.line(page, (px(25), px(11.5)), (px(24), px(16.5)), 20, 2)  # a 1 inside

    page, blank = page_with(draw)
    _, jobs = plan(page, blank, 0)
    ink = jobs[0].ink
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols[-1] - cols[0] >= px(3)  # both 1s are there


def test_a_number_box_with_writing_read_as_nothing_is_no_sure_blank() -> None:
    def draw(page: np.ndarray) -> None:  # a faint 1, broken by the scan into two short pieces
        cv2.line(page, (px(24), px(12)), (px(24), px(13.2)), 20, 1)
        cv2.line(page, (px(24), px(14.5)), (px(24), px(15.5)), 20, 1)

    page, blank = page_with(draw)
    reader = SHEET.reader(page, blank)
    rf, jobs = reader.plan(FORM.fields[0])
    assert len(jobs) == 1  # little ink, but the height of writing: read, not skipped
    read_nothing = reader.finish(rf, {"text": [Reading("", ())]})
    assert read_nothing.raw == "" and read_nothing.confidence < 0.5
    empty, none = plan(blank.copy(), blank, 0)
    assert none == [] and reader.finish(empty, {}).confidence == 1.0
