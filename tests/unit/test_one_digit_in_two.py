"""A 6 whose stem curls at its foot into a loop drawn beside it (samples/stroke_digits.py's
"curled" 6) is one piece of ink that the line recogniser reads as 10; `digits.one_digit_written`
tells it from a written 10 and reads it as the 6 it is, and `passes.one_digit` holds the field for
review (`digits_uncertain`) instead of accepting 10."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.fields import passes
from pipeline.fields.plan import DATE_PART, Job
from pipeline.ocr import digits
from pipeline.result import Char, Reading
from samples import stroke_digits


def _drawn(digit: int, variant: str, seed: int, height: float = 30.0) -> np.ndarray:
    style = stroke_digits.writer(np.random.default_rng([91, seed]))
    style.variants[digit] = variant
    return stroke_digits.draw(digit, style, height, 3.0, np.random.default_rng([92, seed])) > 100


def _side_by_side(a: np.ndarray, b: np.ndarray, gap: int) -> np.ndarray:
    """Two digits' ink on one line, `gap` px apart (negative: overlapping columns)."""
    h = max(a.shape[0], b.shape[0])
    out = np.zeros((h + 4, a.shape[1] + b.shape[1] + max(gap, 0) + 4), bool)
    out[2 : 2 + a.shape[0], 2 : 2 + a.shape[1]] |= a
    x = 2 + a.shape[1] + gap
    out[2 : 2 + b.shape[0], x : x + b.shape[1]] |= b
    return out


@pytest.mark.parametrize("seed", range(6))
def test_a_curled_six_read_as_ten_is_one_digit(seed: int) -> None:
    six = np.pad(_drawn(6, "curled", seed), 2)
    one = digits.one_digit_written(six, "10")
    assert one is not None and one.text == "6" and one.chars[0].prob >= digits.ONE_SURE
    # Read with a 6 in it, the reading already has the classifier's digit: nothing to doubt.
    assert digits.one_digit_written(six, "16") is None
    assert digits.one_digit_written(six, "6") is None


@pytest.mark.parametrize("seed", range(6))
def test_a_written_ten_is_two_digits(seed: int) -> None:
    one, zero = _drawn(1, "plain", seed), _drawn(0, "oval", seed)
    assert digits.one_digit_written(_side_by_side(one, zero, 3), "10") is None
    # Touching, a full-height 0 beside a 1 is wider than any one digit.
    assert digits.one_digit_written(_side_by_side(one, zero, -1), "10") is None


def test_a_lifted_six_is_two_pieces_and_left_to_the_readers() -> None:
    # Its loop stands apart from its stem: two stroke groups, which this check does not judge.
    lifted = np.pad(_drawn(6, "lifted", 0), 2)
    assert len(digits.stroke_groups(lifted)) == 2
    assert digits.one_digit_written(lifted, "10") is None


def _job(ink: np.ndarray, words: tuple[str, ...] | None) -> Job:
    return Job(
        "birth", "year", np.zeros((4, 4), np.uint8), DATE_PART, words=words, ink=ink, kind="date_wareki"
    )


def test_the_pass_reads_the_six_for_review_where_the_list_allows_it() -> None:
    six = np.pad(_drawn(6, "curled", 1), 2)
    ten = Reading("10", (Char("1", 0.99), Char("0", 0.99)))
    flags = passes.new_flags()
    read = passes.one_digit(_job(six, tuple(str(n) for n in range(1, 32))), ten, flags)
    assert read.text == "6" and read.chars[0].prob <= passes.DISAGREE_CONFIDENCE
    assert "birth" in flags["digits_uncertain"]
    # A list without 6 (a month read 10 where only 10-12 fit): the reading stays, still held.
    flags = passes.new_flags()
    assert passes.one_digit(_job(six, ("10", "11", "12")), ten, flags).text == "10"
    assert "birth" in flags["digits_uncertain"]
    # Ink written as two digits is left as read and not held by this pass.
    one, zero = _drawn(1, "plain", 1), _drawn(0, "oval", 1)
    flags = passes.new_flags()
    assert passes.one_digit(_job(_side_by_side(one, zero, 3), None), ten, flags) is ten
    assert not flags["digits_uncertain"]
