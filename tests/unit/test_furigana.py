"""フリガナ read with the help of the name it spells (IPAdic's name readings, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.fields.furigana import candidates, name_readings, read_with_name
from pipeline.result import Char, Reading
from tests.unit.ctc_frames import ctc_matrix

LABELS = ("", *"タカダアヤヒロコユウ", *"たかだあやすずき")


def _probs(frames: list[dict[str, float]]) -> np.ndarray:
    return ctc_matrix(LABELS, frames)


def _free(text: str) -> Reading:
    return Reading(text, tuple(Char(c, 0.99) for c in text))


def test_name_readings_come_from_the_dictionary() -> None:
    readings = name_readings("高田 彩香")
    assert readings[0] == "タカダアヤカ" and "タカダ" in readings  # likeliest first, then family alone
    assert name_readings("西村") == ("ニシムラ",)
    assert name_readings("") == () and name_readings("ＡＢＣ") == ()
    assert candidates("タカアヤカ", ("タカダ",))[:2] == ["タカダ", "タカダタカアヤカ"]
    assert "タカダアヤカ" in candidates("タカアヤカ", ("タカダ",))


def test_a_faint_kana_is_restored_from_the_name_and_sent_to_review() -> None:
    # ダ was written faintly: the free reading drops it.
    probs = _probs([{"タ": 0.99}, {"カ": 0.99}, {"ダ": 0.3}, {"ア": 0.99}, {"ヤ": 0.99}, {"カ": 0.99}])
    helped = read_with_name(probs, LABELS, _free("タカアヤカ"), "高田彩香")
    assert helped is not None and helped.text == "タカダアヤカ"
    # The writing alone did not say so: the changed reading must not pass unseen.
    assert min(c.prob for c in helped.chars) < 0.9
    # Only the supplied kana is doubtful; what was read stays as sure as it was.
    assert [c.prob < 0.9 for c in helped.chars] == [False, False, True, False, False, False]


def test_clear_writing_beats_the_dictionary() -> None:
    # 裕子 is ユウコ in the dictionary, but this parent plainly wrote ヒロコ.
    probs = _probs([{"ヒ": 0.99}, {"ロ": 0.99}, {"コ": 0.99}])
    assert read_with_name(probs, LABELS, _free("ヒロコ"), "裕子") is None
    # An unreadable or missing name gives no help.
    assert read_with_name(probs, LABELS, _free("ヒロコ"), "") is None


def test_kana_the_name_reading_spells_are_vouched_for_except_where_it_has_two_spellings() -> None:
    from pipeline.fields.furigana import vouched

    assert vouched("スズキヨウイチ", "鈴木 陽一") == (True,) * 7
    assert vouched("すずきようこ", "鈴木陽一") == (True,) * 3 + (False,) * 3  # given name differs
    assert vouched("タナカヨウイチ", "鈴木陽一") == (False,) * 7
    # 松沢: マツザワ and マツサワ both; the ザ is the writing's to decide.
    assert vouched("マツザワ", "松沢") == (True, True, False, True)


def test_agreement_with_the_name_raises_the_kana_confidence() -> None:
    from pipeline.fields.furigana import AGREE_ODDS, with_agreement

    free = Reading("スズキヨウイチ", tuple(Char(c, 0.6 if c == "ウ" else 0.99) for c in "スズキヨウイチ"))
    r = with_agreement(free, "鈴木陽一")
    assert r.text == free.text
    assert r.confidence == pytest.approx(AGREE_ODDS * 1.5 / (1 + AGREE_ODDS * 1.5))
    other = Reading("スズキヨウコ", tuple(Char(c, 0.6) for c in "スズキヨウコ"))
    assert with_agreement(other, "鈴木陽一").confidence == pytest.approx(0.6)


def test_a_given_name_cannot_start_with_a_small_kana() -> None:
    from pipeline.fields.furigana import with_agreement

    # ハヤシ|ュウスケ: the family reading agrees, but no name starts with ュ: it is the large ユ,
    # and still for review, not accepted.
    free = Reading("ハヤシュウスケ", tuple(Char(c, 0.99) for c in "ハヤシュウスケ"))
    r = with_agreement(free, "林祐介")
    assert r.text == "ハヤシユウスケ"
    assert r.chars[3] == Char("ユ", 0.5)
    assert r.chars[0].prob == 0.99
    hira = Reading("はやしゅうすけ", tuple(Char(c, 0.99) for c in "はやしゅうすけ"))
    assert with_agreement(hira, "林祐介").text == "はやしゆうすけ"
    # ン has no large kana: kept as read, for review.
    n = Reading("ハヤシンゴ", tuple(Char(c, 0.99) for c in "ハヤシンゴ"))
    r = with_agreement(n, "林慎吾")
    assert r.text == "ハヤシンゴ" and r.chars[3].prob == 0.5


def test_the_name_never_offers_a_given_name_starting_with_a_small_kana() -> None:
    # オオムラ ショウタ (大村翔大, a given name the table does not know) read オオムラショタ with a
    # faint シ: the family reading followed by the rest from just after シ would be オオムラョタ,
    # which the dictionary's bonus made win over what was written.
    assert "オオムラョタ" not in candidates("オオムラショタ", ("オオムラ",))
    assert "オオムラショタ" not in candidates("オオムラショタ", ("オオムラ",))  # the free one itself
    assert "オオムラタ" in candidates("オオムラショタ", ("オオムラ",))
    assert not [c for c in candidates("はやしゅうすけ", ("はやし",)) if c.startswith("はやしゅ")]
    assert "タカダアヤカ" in candidates("タカアヤカ", ("タカダ",))  # a cut before a large kana stays
    labels = ("", *"オムラショウタ")
    rows = []
    for ch, p in zip("オオムラショタ", (0.99, 0.99, 0.99, 0.99, 0.6, 0.99, 0.99), strict=True):
        row = np.full(len(labels), 1e-4)
        row[labels.index(ch)] = p
        row[0] = 1 - p
        rows += [row / row.sum(), np.eye(len(labels))[0] * 0.999 + 1e-4]
    probs = np.array(rows, np.float32)
    free = Reading("オオムラショタ", tuple(Char(c, 0.99) for c in "オオムラショタ"))
    helped = read_with_name(probs, labels, free, "大村翔大")
    assert helped is None or not helped.text.startswith("オオムラョ")


def test_a_furigana_one_kana_short_of_the_names_reading_is_noticed() -> None:
    from pipeline.fields.furigana import dropped_kana

    # the given name's reading with a kana lost (ユウコ → ウコ)
    assert dropped_kana("ヤマダウコ", "山田優子") == 3
    # a vowel left short is a reading names have (ユウコ → ユコ); a family name the writing does
    # not start with may be a reading the table lacks (川原: カワラ beside カワハラ)
    assert dropped_kana("ヤマダユコ", "山田優子") is None
    assert dropped_kana("カワラトモミ", "川原朋見") is None
    assert dropped_kana("ささきゆうこ", "佐々木優子") is None  # hiragana, whole
    # whole readings, another reading the table knows, a name it does not know: nothing said
    assert dropped_kana("ヤマダユウコ", "山田優子") is None
    assert dropped_kana("ヤマダヨシミ", "山田由美") is None
    assert dropped_kana("ヤマダユミ", "山田由美") is None
    assert dropped_kana("ホゲ", "鐚鐚") is None


def test_furigana_written_in_hiragana_get_the_same_help() -> None:
    from pipeline.fields.furigana import fix_voicing

    # ふりがな in hiragana: ダ written faintly is restored as だ, in the writing's own script.
    probs = _probs([{"た": 0.99}, {"か": 0.99}, {"だ": 0.3}, {"あ": 0.99}, {"や": 0.99}, {"か": 0.99}])
    helped = read_with_name(probs, LABELS, _free("たかあやか"), "高田彩香")
    assert helped is not None and helped.text == "たかだあやか"
    # a doubtful す of すずき is tried with its mark, as ス is
    probs = _probs([{"す": 0.99}, {"す": 0.55, "ず": 0.4}, {"き": 0.99}])
    free = Reading("すすき", (Char("す", 0.99), Char("す", 0.55), Char("き", 0.99)))
    fixed = fix_voicing(probs, LABELS, free)
    assert fixed is not None and fixed.text == "すずき" and fixed.chars[1].prob < 0.9


def test_a_furigana_several_kana_short_or_shorter_than_its_kanji_is_noticed() -> None:
    from pipeline.fields.furigana import dropped_kana

    assert dropped_kana("マエダル", "前田千鶴") == 3  # チヅル, two kana lost
    # a given name the table does not know: fewer kana than its kanji
    assert dropped_kana("ホッタア", "堀田朝陽") == 3
    assert dropped_kana("ホッタアサヒ", "堀田朝陽") is None


def _plainly(text: str, name: str) -> Reading | None:
    """`read_with_name` on furigana whose every kana the recogniser read at 0.99."""
    return read_with_name(_probs([{ch: 0.99} for ch in text]), LABELS, _free(text), name)


def test_a_dakuten_the_name_reading_disputes_is_held_however_plainly_read() -> None:
    # 鈴木 is only スズキ in the dictionary; the writing reads すすき at 0.99 each. A dakuten is
    # what a hand and a font draw least alike: the writing stands, but its す goes to review.
    held = _plainly("すすき", "鈴木")
    assert held is not None and held.text == "すすき"
    assert [c.prob < 0.9 for c in held.chars] == [False, True, False]
    # 高田 is read タカダ and タカタ: a plainly written タカタ is one of them and passes.
    assert _plainly("タカタ", "高田") is None


def test_a_small_kana_where_the_name_reading_has_its_voiced_large_one_is_held() -> None:
    # 葉月 is ハヅキ: a ヅ drawn small with its dakuten lost reads ッ, plainly (hibari doc 40,
    # ハッキ accepted at 0.97). Small and voiced at once is still a sibling: held at that kana.
    labels = ("", *"ナカノハッキヅツ")
    probs = ctc_matrix(labels, [{ch: 0.99} for ch in "ナカノハッキ"])
    held = read_with_name(probs, labels, _free("ナカノハッキ"), "中野 葉月")
    assert held is not None and held.text == "ナカノハッキ"
    assert [c.prob < 0.9 for c in held.chars] == [False, False, False, False, True, False]


def test_a_kana_replaced_by_another_in_a_known_family_name_is_held() -> None:
    """A given name is not disputed so: the table knows too few of its readings."""
    # 高田 is タカダ or タカタ; a sure タヤダ (カ read ヤ) is one kana off タカダ: held as
    # written, at that kana.
    held = _plainly("タヤダ", "高田")
    assert held is not None and held.text == "タヤダ"
    assert [c.prob < 0.9 for c in held.chars] == [False, True, False]
    # Written as the name's other reading, it stands unheld (河野: コウノ and カワノ alike).
    assert _plainly("タカダ", "高田") is None


def test_a_given_name_the_table_files_only_as_a_family_name_is_read_as_it_reads_there() -> None:
    """IPAdic files 青空 (アオゾラ) among family names only; as a given name it reads the same, so
    秋元 青空's furigana read アオソラ (its dakuten lost, dev set scan 31) has アオゾラ to weigh."""
    assert "アキモトアオゾラ" in name_readings("秋元 青空")
    assert name_readings("秋元 青空")[-1] == "アキモト"  # the family name alone still offered
    assert name_readings("西村 ＡＢ") == ("ニシムラ",)  # a given name no table knows: none
