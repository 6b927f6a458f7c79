"""A `number` field's grammar follows what it may hold: three digits for hours, a class or a
count; as many as its `max` has, or as its box holds when it gives none (an amount in yen)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.fields.plan import number_constraint
from pipeline.forms.template import FieldSpec
from pipeline.ocr.decode import decode

LABELS = ("", *"0123456789")


def _probs(text: str) -> np.ndarray:
    """A CTC matrix that reads `text` clearly, blanks between the digits."""
    rows = []
    for ch in text:
        row = np.full(len(LABELS), 1e-4)
        row[LABELS.index(ch)] = 0.98
        rows += [row / row.sum(), np.eye(len(LABELS))[0] * 0.999 + 1e-4]
    return np.array(rows, np.float32)


def _number(box: tuple[float, float, float, float], **kw: float) -> FieldSpec:
    return FieldSpec(name="amount", label="金額", kind="number", box=box, **kw)


@pytest.mark.parametrize(
    "box,kw,most",
    [
        ((52.0, 117.5, 16.0, 7.0), {"min": 0, "max": 80}, 3),  # dev set A's 週の就労時間
        ((121.8, 152.5, 9.0, 7.0), {"min": 0, "max": 5}, 3),  # its 歳児クラス
        ((20.0, 40.0, 16.0, 7.0), {}, 3),  # a count's box, no bounds
        ((20.0, 40.0, 60.0, 8.0), {}, 12),  # a wide box, no bounds
        ((20.0, 40.0, 60.0, 8.0), {"max": 9_999_999}, 7),  # the max says how many
    ],
)
def test_a_number_reads_as_many_digits_as_it_may_hold(
    box: tuple[float, float, float, float], kw: dict[str, float], most: int
) -> None:
    assert number_constraint(_number(box, **kw)).pattern == f"D{{1,{most}}}"


def test_an_amount_in_a_wide_box_is_read_whole() -> None:
    """Read as three digits at most, 3500000 came out 350 (or any three of its digits)."""
    probs = _probs("3500000")
    narrow = number_constraint(_number((20.0, 40.0, 16.0, 7.0)))
    wide = number_constraint(_number((20.0, 40.0, 60.0, 8.0)))
    assert len(decode(probs, LABELS, narrow).text) == 3
    assert decode(probs, LABELS, wide).text == "3500000"
