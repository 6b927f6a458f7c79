"""Japanese phone numbers: valid per the numbering plan, shaped like a domestic number at all, and
the numbers one written digit away (pipeline/jp/phone.py)."""

from __future__ import annotations

from pipeline.jp import phone


def test_valid_numbers_by_the_plan() -> None:
    assert phone.is_valid("090-4791-0897")
    assert phone.is_valid("0997712048")
    assert phone.is_valid("0422-45-1151")
    assert not phone.is_valid("0907910897")  # a mobile one digit short
    assert not phone.is_valid("0052940804")


def test_shape_is_length_by_prefix_and_no_00() -> None:
    assert phone.well_formed("0717049026")  # ten digits: a landline, whatever its area code
    assert phone.well_formed("09047910897")
    assert not phone.well_formed("0907910897")
    assert not phone.well_formed("0052940804")
    assert not phone.well_formed("042245115")


def test_one_edit_changes_adds_or_drops_one_digit_and_keeps_hyphens() -> None:
    edits = phone.one_edit("090-12")
    assert "090-13" in edits and "090-712" in edits and "090-1" in edits
    assert "090-12" not in edits
    assert all(e.count("-") == 1 for e in edits)
