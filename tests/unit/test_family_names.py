"""People's names and their kana checked against the rest of the page and against themselves
(passes.family_from_names, passes.mixed_script)."""

from __future__ import annotations

import numpy as np

from pipeline.fields import passes
from pipeline.fields.furigana import family_name
from pipeline.fields.plan import RawField
from pipeline.forms.template import FieldSpec
from pipeline.result import Char, Reading
from tests.unit.ctc_frames import ctc_matrix

LABELS = ("", *"小川翔美穂悠人田中佐木")
BOX = (0.0, 0.0, 60.0, 8.0)


def _probs(frames: list[dict[str, float]]) -> np.ndarray:
    return ctc_matrix(LABELS, frames)


def _sure(text: str) -> list[dict[str, float]]:
    return [{c: 0.99} for c in text]


def _reading(text: str, p: float = 0.99) -> Reading:
    return Reading(text, tuple(Char(c, p) for c in text))


def _spec(name: str, label: str) -> FieldSpec:
    return FieldSpec(name=name, label=label, kind="text_ja", box=BOX)


SPECS = [_spec("claimant_name", "請求者 氏名"), _spec("spouse_name", "配偶者 氏名")]


def _run(
    read: dict[str, tuple[str, list[dict[str, float]]]], specs: list[FieldSpec] = SPECS, p: float = 0.99
) -> tuple[passes.Readings, passes.Flags]:
    kept = {}
    by_field: passes.Readings = {}
    for name, (text, frames) in read.items():
        reading = _reading(text, p) if name == "claimant_name" else _reading(text)
        by_field[name] = {"text": [reading]}
        kept[name] = passes.Kept("text_ja", _probs(frames), reading, None, True)
    flags = passes.new_flags()
    passes.family_from_names(specs, kept, by_field, LABELS, flags)
    return by_field, flags


def test_family_name_is_the_longest_known_start() -> None:
    assert family_name("小川 美穂") == "小川"
    assert family_name("佐々木悠人") == "佐々木"
    assert family_name("ＡＢＣ") is None


def test_a_lost_character_of_the_family_name_is_put_back_for_review() -> None:
    # 川 squeezed between 小 and 翔: the recogniser's frame for it is mostly blank, so it reads 小翔.
    spouse = [{"小": 0.99}, {"川": 0.3}, {"翔": 0.99}]
    by_field, flags = _run(
        {"claimant_name": ("小川美穂", _sure("小川美穂")), "spouse_name": ("小翔", spouse)}
    )
    fixed = by_field["spouse_name"]["text"][0]
    assert fixed.text == "小川翔"
    assert flags["family_from_page"] == {"spouse_name"}
    # What was read as written stays as sure; what the page lent is as sure as the writing made it.
    assert fixed.chars[0].prob == 0.99 and fixed.chars[1].prob < 0.9
    rf = passes.apply_flags(_raw(SPECS[1]), flags)
    assert any(i.code == "family_from_page" for i in rf.issues)
    assert rf.confidence <= passes.DISAGREE_CONFIDENCE


def _raw(spec: FieldSpec) -> RawField:
    rf = RawField(spec)
    rf.confidence = 0.99
    return rf


def test_another_family_name_written_plainly_stays() -> None:
    by_field, flags = _run(
        {"claimant_name": ("小川美穂", _sure("小川美穂")), "spouse_name": ("田中翔", _sure("田中翔"))}
    )
    assert by_field["spouse_name"]["text"][0].text == "田中翔"
    assert not flags["family_from_page"]


def test_names_that_share_their_family_name_are_left_alone() -> None:
    by_field, flags = _run(
        {"claimant_name": ("小川美穂", _sure("小川美穂")), "spouse_name": ("小川翔", _sure("小川翔"))}
    )
    assert [by_field[n]["text"][0].text for n in ("claimant_name", "spouse_name")] == ["小川美穂", "小川翔"]
    assert not flags["family_from_page"]


def test_an_unsure_name_lends_no_family_name() -> None:
    spouse = [{"小": 0.99}, {"川": 0.3}, {"翔": 0.99}]
    by_field, flags = _run(
        {"claimant_name": ("小川美穂", _sure("小川美穂")), "spouse_name": ("小翔", spouse)}, p=0.3
    )
    assert by_field["spouse_name"]["text"][0].text == "小翔"
    assert not flags["family_from_page"]


def test_only_people_s_names_take_part() -> None:
    furigana_of = {"child_name"}
    assert passes.is_person_name(_spec("child_name", "児童"), furigana_of)
    assert passes.is_person_name(_spec("spouse_name", "配偶者 氏名"), furigana_of)
    assert not passes.is_person_name(_spec("sibling_info", "在園児氏名・施設名"), furigana_of)
    assert not passes.is_person_name(_spec("facility_1", "希望施設 氏名"), furigana_of)
    assert not passes.is_person_name(_spec("employer_name", "勤務先名称"), furigana_of)
    # A facility-like field on the page does not lend its first characters to a name.
    specs = [*SPECS, _spec("employer_name", "勤務先名称")]
    by_field, flags = _run(
        {
            "employer_name": ("小川美穂", _sure("小川美穂")),
            "spouse_name": ("小翔", [{"小": 0.99}, {"川": 0.3}, {"翔": 0.99}]),
        },
        specs,
    )
    assert by_field["spouse_name"]["text"][0].text == "小翔"


def test_kana_read_in_both_scripts_goes_to_review() -> None:
    from pipeline.fields.plan import Job

    job = Job("child_kana", "text", np.zeros((4, 4), np.uint8), None, kind="kana")  # type: ignore[arg-type]
    flags = passes.new_flags()
    mixed = _reading("オかヒロト")
    assert passes.mixed_script(job, np.zeros((1, 1)), LABELS, mixed, None, flags) is mixed
    assert flags["kana_mixed_script"] == {"child_kana"}
    flags = passes.new_flags()
    for plain in ("オガワヒロト", "おがわひろと", "オーノ"):
        passes.mixed_script(job, np.zeros((1, 1)), LABELS, _reading(plain), None, flags)
    assert not flags["kana_mixed_script"]


def test_digits_and_marks_read_at_a_names_ends_are_dropped_for_review() -> None:
    specs = [*SPECS, _spec("employer", "勤務先 名称")]
    by_field: passes.Readings = {
        "claimant_name": {"text": [_reading("中島大和27")]},  # a neighbour's 27 taken in
        "spouse_name": {"text": [_reading("(佐々木 悠人")]},
        "employer": {"text": [_reading("株式会社ABC")]},  # not a person's name: left alone
    }
    flags = passes.new_flags()
    passes.name_stray_marks(specs, by_field, flags)
    assert by_field["claimant_name"]["text"][0].text == "中島大和"
    assert by_field["spouse_name"]["text"][0].text == "佐々木 悠人"
    assert by_field["employer"]["text"][0].text == "株式会社ABC"
    assert flags["name_stray_marks"] == {"claimant_name", "spouse_name"}
    rf = passes.apply_flags(_raw(SPECS[0]), flags)
    assert rf.confidence <= passes.DISAGREE_CONFIDENCE


def test_a_mark_inside_a_name_or_a_name_of_marks_only_is_held_as_read() -> None:
    by_field: passes.Readings = {
        "claimant_name": {"text": [_reading("小川1美穂")]},
        "spouse_name": {"text": [_reading("-F")]},
    }
    flags = passes.new_flags()
    passes.name_stray_marks(SPECS, by_field, flags)
    assert by_field["claimant_name"]["text"][0].text == "小川1美穂"
    assert by_field["spouse_name"]["text"][0].text == "-F"
    assert flags["name_stray_marks"] == {"claimant_name", "spouse_name"}
    # a name of kanji, kana, 々, ー and ・ is no matter for it
    by_field = {"claimant_name": {"text": [_reading("佐々木 マリア・ルー")]}}
    flags = passes.new_flags()
    passes.name_stray_marks(SPECS, by_field, flags)
    assert not flags["name_stray_marks"]
