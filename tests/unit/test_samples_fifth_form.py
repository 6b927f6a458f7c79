"""The fifth form (bench/forms/hibari_allowance, ひばり市's 児童手当 認定請求書) and what the
generator learnt for it: a date part holding one printed cell per digit (令和□□年) is written a
digit to a cell, right-aligned, and a word printed before its square (男 □) is ringed on its own
side of the square. Forms without these are drawn as before (checked by byte-identical pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.forms.template import load_template
from samples.render import label_ring, load_blank, part_cells, to_px

REPO = Path(__file__).resolve().parents[2]
HIBARI = REPO / "bench" / "forms" / "hibari_allowance"
NURSERY = REPO / "templates_forms" / "nursery_enrolment"


@pytest.fixture(scope="module")
def hibari():
    return load_template(HIBARI)


def _ppm(t) -> float:
    return t.blank_dpi / 25.4


def test_a_part_of_two_digit_cells_is_split_at_its_printed_divider(hibari):
    f = hibari.field("claim_date")
    blank = load_blank(str(hibari.blank_path))
    box = to_px(f.parts.year, _ppm(hibari))
    cells = part_cells(blank, box)
    assert cells is not None and len(cells) == 2
    # the divider of two 5 mm cells lies 5 mm into the part
    assert abs(cells[0][2] - 5.0 * _ppm(hibari)) < 0.4 * _ppm(hibari)
    assert abs(sum(c[2] for c in cells) - box[2]) < 1e-6


def test_a_part_on_a_line_or_in_a_plain_box_has_no_cells(hibari):
    blank = load_blank(str(hibari.blank_path))
    on_line = hibari.field("claimant_birth_date").parts
    for part in (on_line.year, on_line.month, on_line.day):
        assert part_cells(blank, to_px(part, _ppm(hibari))) is None
    nursery = load_template(NURSERY)
    nblank = load_blank(str(nursery.blank_path))
    for f in nursery.fields:
        if f.parts is not None:
            for part in (f.parts.year, f.parts.month, f.parts.day):
                assert part_cells(nblank, to_px(part, _ppm(nursery))) is None, f.name


def test_a_ring_round_a_word_stays_off_its_square_on_either_side(hibari):
    ppm = _ppm(hibari)
    for opt in hibari.field("claimant_sex").options:  # 男 □: the word before the square
        square, label = to_px(opt.box, ppm), to_px(opt.label, ppm)
        x, _, w, _ = label_ring(label, square, ppm)
        assert w > label[2] and x + w <= square[0]
    for opt in hibari.field("pension").options:  # □ 厚生年金: the word after it
        square, label = to_px(opt.box, ppm), to_px(opt.label, ppm)
        x, _, w, _ = label_ring(label, square, ppm)
        assert w > label[2] * 0.9 and x >= square[0] + square[2]
