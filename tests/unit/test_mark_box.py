"""Issue 12: a single small checkbox filled solid, under a blob or a heavy cross reads as marked
(its paper level comes from the ring round it); a box in a blacked-out region stays unreadable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.fields.marks import read_mark_box
from tests.unit.synthetic import Sheet, form

SHEET = Sheet(300)
px = SHEET.px
PAPER = 232  # a grey scan's paper
BRIGHT = 240


def surround(draw=None, ground: int = PAPER) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A dropped-out crop: the 3.6 mm box (inset 0.5 mm) with 2.5 mm of paper round it."""
    side, ring = px(2.6), px(2.5)
    g = np.full((side + 2 * ring, side + 2 * ring), ground, np.uint8)
    box = (ring, ring, side, side)
    if draw is not None:
        draw(g, box)
    return g, box


def fill(g, box):
    x, y, w, h = box
    g[y : y + h, x : x + w] = 90  # dense hatching scans as a dark grey


def blob(g, box):
    x, y, w, h = box
    cv2.circle(g, (x + w // 2, y + h // 2), round(w * 0.8), 40, -1)


def cross(g, box):
    x, y, w, h = box
    t = max(3, w // 5)
    cv2.line(g, (x - 4, y - 4), (x + w + 4, y + h + 4), 30, t)
    cv2.line(g, (x + w + 4, y - 4), (x - 4, y + h + 4), 30, t)


@pytest.mark.parametrize("draw", [fill, blob, cross], ids=["fill", "blob", "cross"])
def test_a_filled_small_square_on_paper_reads_as_marked(draw) -> None:
    g, box = surround(draw)
    r = read_mark_box(g, box, BRIGHT, 4)
    assert not r.unreadable
    assert r.reading.marked == (True,) and r.reading.confidence == 1.0


def test_an_empty_small_square_reads_as_empty_and_sure() -> None:
    g, box = surround()
    g[np.random.default_rng(1).random(g.shape) < 0.01] = 200  # scanner noise, no ink
    r = read_mark_box(g, box, BRIGHT, 4)
    assert not r.unreadable
    assert r.reading.marked == (False,) and r.reading.confidence == 1.0


@pytest.mark.parametrize("draw", [None, fill], ids=["empty", "filled"])
def test_a_square_in_a_blacked_out_region_is_unreadable(draw) -> None:
    g, box = surround(draw, ground=25)
    r = read_mark_box(g, box, BRIGHT, 4)
    assert r.unreadable and r.reading.confidence == 0.0


def test_a_square_on_the_edge_of_a_black_band_is_unreadable() -> None:
    def half_black(g, box):
        g[: box[1] + box[3] + 2] = 25  # the band covers the box and most of the ring above it

    g, box = surround(half_black)
    assert read_mark_box(g, box, BRIGHT, 4).unreadable


# -- through the page reader -------------------------------------------------------------------

FORM = form(60, 30, "- {name: ok, label: 同意, kind: checkbox, box: [10, 10, 3.6, 3.6]}")


def page_with(marks) -> tuple[np.ndarray, np.ndarray]:
    blank = SHEET.blank(60, 30)
    cv2.rectangle(blank, (px(10), px(10)), (px(13.6), px(13.6)), 0, 2)
    cv2.putText(blank, "OK", (px(15), px(13.4)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    page = (blank.astype(np.float32) * 0.85 + 15).astype(np.uint8)  # paper 232, print 15
    marks(page)
    return page, blank


def read_checkbox(marks):
    page, blank = page_with(marks)
    reader = SHEET.reader(page, blank)
    rf, jobs = reader.plan(FORM.fields[0])
    assert jobs == []
    return reader.finish(rf, {})


def test_a_checkbox_filled_solid_reads_as_marked_not_unreadable() -> None:
    rf = read_checkbox(lambda p: cv2.rectangle(p, (px(10), px(10)), (px(13.6), px(13.6)), 70, -1))
    assert rf.raw is True and rf.confidence == 1.0 and not rf.issues


def test_an_empty_checkbox_reads_as_empty() -> None:
    rf = read_checkbox(lambda p: None)
    assert rf.raw is False and rf.confidence == 1.0 and not rf.issues


def test_a_checkbox_in_a_blacked_out_band_is_never_accepted_as_empty() -> None:
    rf = read_checkbox(lambda p: cv2.rectangle(p, (0, px(5)), (p.shape[1] - 1, px(20)), 25, -1))
    assert rf.raw is None and rf.confidence == 0.0
    assert [i.code for i in rf.issues] == ["unreadable_region"]


def test_a_filled_square_in_a_box_of_paper_on_a_black_corner_reads_as_marked() -> None:
    """A fax's black corner round a box whose printed frame was dropped out to paper white: the
    ring is no paper, so the box's own paper counts."""

    def framed_fill(g, box):
        x, y, w, h = box
        g[:] = 0
        g[y - 4 : y + h + 4, x - 4 : x + w + 4] = 255
        i = w // 5  # the fill stops short of the dropped-out frame: 40% of the box
        g[y + i : y + h - i, x + i : x + w - i] = 0

    g, box = surround(framed_fill, ground=255)
    r = read_mark_box(g, box, 255, 4)
    assert not r.unreadable and r.reading.marked == (True,)
