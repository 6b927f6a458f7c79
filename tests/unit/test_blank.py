"""A template's blank may be a PDF, rendered at the template's `blank_dpi`; a blank that cannot be
read is a template error naming the file (pipeline/forms/blank.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.errors import TemplateError
from pipeline.forms.blank import read_blank, read_blank_as_stored, size_note
from pipeline.forms.template import load_template

TEMPLATE = """\
form_id: f
version: '1'
title: t
page: {{width_mm: 100, height_mm: 50}}
blank: {blank}
blank_dpi: 200
fields:
- {{name: a, label: a, kind: text_ja, box: [10, 10, 30, 10]}}
"""


def _folder(tmp_path: Path, blank: str) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(blank=blank), encoding="utf-8")
    return tmp_path


def test_a_pdf_blank_is_rendered_at_the_templates_dpi(tmp_path: Path) -> None:
    # A 100 × 50 mm page with a black bar 20–40 mm across, saved as a PDF at 100 dpi.
    img = Image.new("L", (394, 197), 255)
    ImageDraw.Draw(img).rectangle((79, 79, 157, 118), fill=0)
    img.save(tmp_path / "blank.pdf", "PDF", resolution=100)
    gray = read_blank(load_template(_folder(tmp_path, "blank.pdf")))
    assert abs(gray.shape[1] - 787) <= 2 and abs(gray.shape[0] - 394) <= 2  # 100 × 50 mm at 200 dpi
    assert gray[236, 236] < 60 and gray[40, 40] > 200  # the bar is where it was drawn, in pixels at 200 dpi
    assert not gray.flags.writeable  # shared: nobody may draw on it


def test_a_blank_that_cannot_be_read_says_which(tmp_path: Path) -> None:
    (tmp_path / "blank.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(TemplateError, match="blank.pdf: the blank form is not an image or PDF"):
        read_blank(load_template(_folder(tmp_path, "blank.pdf")))
    (tmp_path / "blank.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(TemplateError, match="blank.png: the blank form is not an image"):
        read_blank(load_template(_folder(tmp_path, "blank.png")))


def test_an_edited_blank_is_read_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "blank.png")
    Image.new("L", (787, 394), 255).save(tmp_path / "blank.png")
    assert read_blank(load_template(folder)).min() == 255
    Image.new("L", (787, 394), 0).save(tmp_path / "blank.png")
    os.utime(tmp_path / "blank.png", ns=(1, 10**18))
    assert np.all(read_blank(load_template(folder)) == 0)


def test_a_blank_of_another_resolution_is_resampled_to_blank_dpi_and_said(tmp_path: Path) -> None:
    # The template says 200 dpi; the blank was saved at 100 dpi (394 × 197 px for 100 × 50 mm).
    folder = _folder(tmp_path, "blank.png")
    img = Image.new("L", (394, 197), 255)
    ImageDraw.Draw(img).rectangle((79, 79, 157, 118), fill=0)  # 20–40 mm across, 20–30 mm down
    img.save(tmp_path / "blank.png")
    tpl = load_template(folder)
    gray = read_blank(tpl)
    assert gray.shape == (394, 787)  # the page at 200 dpi, where the template's mm are measured
    assert gray[200, 236] < 60 and gray[100, 100] > 200
    note = size_note(tpl, read_blank_as_stored(tpl))
    assert note is not None and "about 100 dpi" in note and "blank_dpi: 100" in note
    Image.new("L", (787, 394), 255).save(tmp_path / "blank.png")
    os.utime(tmp_path / "blank.png", ns=(1, 2 * 10**18))
    assert size_note(tpl, read_blank_as_stored(tpl)) is None and read_blank(tpl).shape == (394, 787)
