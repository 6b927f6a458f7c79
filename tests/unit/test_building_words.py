"""The kind of building in an address read against the common ones (lexicon.match_building)."""

from __future__ import annotations

import numpy as np

from pipeline.ocr.lexicon import BUILDING_KINDS, _building_candidates, match_building
from pipeline.result import Char, Reading
from tests.unit.ctc_frames import ctc_matrix

LABELS = ("", *"0123456789-グリーンパバレスハイムヴィラコポボ水中央番地万沢")


def _probs(frames: list[dict[str, float]]) -> np.ndarray:
    return ctc_matrix(LABELS, frames)


def _read(frames: list[dict[str, float]]) -> Reading:
    best = [max(f.items(), key=lambda kv: kv[1]) for f in frames]
    return Reading("".join(c for c, _ in best), tuple(Char(c, p) for c, p in best))


def test_a_misread_kana_of_the_building_kind_is_mended_for_review() -> None:
    # パ written with a faint ring: the recogniser leans to バ.
    frames = [{c: 0.99} for c in "12"] + [{c: 0.99} for c in "グリーン"]
    frames += [{"バ": 0.55, "パ": 0.4}] + [{c: 0.99} for c in "レス108"]
    free = _read(frames)
    assert free.text == "12グリーンバレス108"
    fixed = match_building(_probs(frames), LABELS, free)
    assert fixed is not None and fixed.text == "12グリーンパレス108"
    changed = [c for c, was in zip(fixed.chars, free.chars, strict=True) if c.text != was.text]
    assert [c.text for c in changed] == ["パ"] and changed[0].prob < 0.9  # a person confirms it


def test_a_kind_written_plainly_otherwise_stays() -> None:
    # バレス is no kind, but written this clearly it is what the applicant wrote.
    frames = [{c: 0.99} for c in "12グリーンバレス108"]
    assert match_building(_probs(frames), LABELS, _read(frames)) is None


def test_the_number_and_a_spelt_kind_are_never_touched() -> None:
    assert _building_candidates("万沢559-9ヴィラ万608", BUILDING_KINDS, None) == []  # its 9 is the number's
    assert _building_candidates("2071-2パークハイム608", BUILDING_KINDS, None) == []
    assert _building_candidates("コーポ1202", BUILDING_KINDS, 0) == []
    # Nothing before the house number: the town's own katakana (ケ丘, ノ宮) are no building.
    assert _building_candidates("四ノ宮ハレス町5-25", BUILDING_KINDS, None) == []
    # A kana read as a digit between letters is the kind's.
    assert "中央1番地中央パレス102" in _building_candidates("中央1番地中央1レス102", BUILDING_KINDS, None)
    assert "17ハイム604" in _building_candidates("17ハ1イム604", BUILDING_KINDS, None)
    # The building read on its own (after the gap) is looked at from its start.
    assert "コーポ1202" in _building_candidates("コーボ1202", BUILDING_KINDS, 0)
    assert _building_candidates("コーボ1202", BUILDING_KINDS, None) == []


def test_a_stray_character_taken_out_leaves_the_repair_for_a_person() -> None:
    # ハイム with a stroke of its イ read as a 1 in between: taking the 1 out spells the kind, but
    # nothing the applicant wrote is then vouched for by the free reading's certainty alone.
    frames = [{c: 0.99} for c in "17ハ"] + [{"1": 0.5, "イ": 0.45}, {"イ": 0.97}]
    frames += [{c: 0.99} for c in "ム604"]
    free = _read(frames)
    assert free.text == "17ハ1イム604"
    fixed = match_building(_probs(frames), LABELS, free)
    assert fixed is not None and fixed.text == "17ハイム604"
    assert min(c.prob for c in fixed.chars) < 0.9
