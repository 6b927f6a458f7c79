"""Synthetic pages for the reader's unit tests: a one-page form given by its fields, a blank drawn
at a test's resolution, and the `PageReader` over a page written on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.fields.read import PageReader
from pipeline.forms.template import Template, parse_template
from pipeline.imaging.dropout import print_mask


def form(width_mm: float, height_mm: float, fields: str) -> Template:
    """A template of one `width_mm` × `height_mm` page holding `fields` (YAML list items)."""
    head = f"form_id: f\nversion: '1'\ntitle: t\npage: {{width_mm: {width_mm}, height_mm: {height_mm}}}\n"
    return parse_template(head + "fields:\n" + fields.strip("\n") + "\n")


@dataclass(frozen=True)
class Sheet:
    """Millimetres to pixels at `dpi`, a white blank of a page's size, and a reader over a page."""

    dpi: int

    def px(self, mm: float) -> int:
        return round(mm * self.dpi / 25.4)

    def blank(self, width_mm: float, height_mm: float) -> np.ndarray:
        return np.full((self.px(height_mm), self.px(width_mm)), 255, np.uint8)

    def reader(self, page: np.ndarray, blank: np.ndarray) -> PageReader:
        return PageReader(page, blank, print_mask(blank), self.dpi)


def ink_columns(job) -> int:
    """How many columns a job's ink spans, first to last."""
    cols = np.flatnonzero(job.ink.any(axis=0))
    return int(cols[-1] - cols[0] + 1)
