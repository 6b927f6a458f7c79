"""A kanji field whose writing the scan broke (a thin, light pen) keeps the light parts of its
strokes: only its darkest dots are sure ink, and a crop of dots is read as other characters."""

from __future__ import annotations

import numpy as np

from tests.unit.synthetic import Sheet, form

SHEET = Sheet(150)
FIELDS = "- {name: employer, label: 勤務先, kind: text_ja, box: [5, 5, 60, 12]}\n"


def _page() -> np.ndarray:
    page = SHEET.blank(70, 22)
    x0, y0 = SHEET.px(8), SHEET.px(8)
    page[y0 : y0 + 3, x0 : x0 + 40] = 120  # one stroke the pen pressed hard all along
    for k in range(4):  # light strokes, dark only where the pen pressed hardest
        y = y0 + 10 + 6 * k
        page[y : y + 2, x0 : x0 + 60] = 210
        for x in range(x0, x0 + 60, 10):
            page[y : y + 2, x : x + 2] = 120
    return page


def test_broken_writing_in_a_kanji_field_keeps_the_light_parts_of_its_strokes() -> None:
    spec = form(70, 22, FIELDS).fields[0]
    reader = SHEET.reader(_page(), SHEET.blank(70, 22))
    rf, jobs = reader.plan(spec)
    assert [i.code for i in rf.issues] == ["broken_ink"]
    assert len(jobs) == 1 and jobs[0].ink is not None
    ink = jobs[0].ink
    light_rows = [r for r in range(ink.shape[0]) if 40 <= ink[r].sum() <= 70]
    # each light stroke is ink along its whole length again, not six dots
    assert len(light_rows) >= 4
