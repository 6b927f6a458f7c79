"""Text-field repairs for forms never seen (issue 12): variant kanji, the number/building join in
addresses, facility-name endings, (han)dakuten in フリガナ. Matrices are built by hand."""

from __future__ import annotations

import numpy as np

from pipeline.fields import ink as inkmod
from pipeline.fields import passes
from pipeline.fields.furigana import fix_voicing, name_logprob, read_with_name
from pipeline.fields.plan import Job
from pipeline.fields.read import read_once
from pipeline.jp.address import (
    broken_number_block,
    choon_suspects,
    close_building_gap,
    fold_address_digits,
    join_suspects,
    same_spelling,
    snap_address_prefix,
    split_city,
)
from pipeline.jp.kana import small_after_vu
from pipeline.jp.text import fold_variants
from pipeline.ocr.charsets import KANA_LOOKALIKE_SOURCES, KANA_LOOKALIKES, MERGES, allowed_chars
from pipeline.ocr.ctc import log_likelihoods
from pipeline.ocr.decode import Constraint, decode
from pipeline.ocr.lexicon import (
    composed_facility_name,
    ending_of,
    match_place,
    match_suffix,
    match_words,
    place_words,
)
from pipeline.result import Char, Reading


def _matrix(labels: tuple[str, ...], frames: list[dict[str, float]]) -> np.ndarray:
    """A CTC matrix: one timestep per dict (its odds, the rest blank), a blank between."""
    rows = []
    for f in frames:
        row = np.full(len(labels), 1e-5)
        for ch, p in f.items():
            row[labels.index(ch)] = p
        row[0] = max(1e-5, 1 - sum(f.values()))
        rows += [row / row.sum(), np.eye(len(labels))[0] * 0.999 + 1e-5]
    return np.array(rows, np.float32)


def _reading(probs: np.ndarray, labels: tuple[str, ...], charset: str) -> Reading:
    return decode(probs, labels, Constraint(charset))


# --------------------------------------------------------------------------- variants


def test_variant_kanji_fold_to_common_forms_but_name_forms_stay() -> None:
    assert fold_variants("佐久穗町甲德兵衛豐川鶴來") == "佐久穂町甲徳兵衛豊川鶴来"
    assert fold_variants("髙橋﨑澤邊齋") == "髙橋﨑澤邊齋"  # forms family names really use
    # old forms met in given names and place names on the child-allowance form (譲, 武蔵小杉, 渋谷);
    # not 團 or 圈, which a handwritten 園 is read as (保育園 must not become 保育団)
    assert fold_variants("千葉讓 武藏小杉 澁谷 保育團") == "千葉譲 武蔵小杉 渋谷 保育團"


def test_variant_probability_goes_to_the_common_form_when_decoding() -> None:
    labels = ("", "穗", "穂", "町")
    assert MERGES["address"]["穗"] == "穂" and MERGES["name"]["穗"] == "穂"
    assert "穗" not in allowed_chars("name", labels)
    probs = _matrix(labels, [{"穗": 0.6, "穂": 0.3}, {"町": 0.99}])
    assert _reading(probs, labels, "name").text == "穂町"
    assert _reading(probs, labels, "free").text == "穂町"


# --------------------------------------------------------------------------- addresses


def test_join_suspects_find_letters_and_doubtful_kana_at_the_number() -> None:
    assert join_suspects("加須市下高柳37コーポL04") == [(11, True)]
    assert join_suspects("角石谷U5ハイツ") == [(3, True)]
    assert join_suspects("瀬戸町38ノレジデンス") == [(5, False)]
    assert join_suspects("中畑945ヴィラ60>") == [(10, True)]
    assert join_suspects("東平2071-2パーク101") == [(10, False)]  # a real ク: the recogniser decides
    # No room number starts with 0: ク before 08 is the room's first digit (7), whatever it thinks.
    assert join_suspects("1796番地サンハイツつつク08号室") == [(13, True)]
    assert join_suspects("瀬戸町380レジデンス瀬ク02") == [(6, False), (12, True)]
    assert join_suspects("東平2071-2A棟101") == []  # a building's letter before 棟
    assert join_suspects("本町3-S") == []  # S is folded to 5 by normalisation
    assert broken_number_block("東平2071-21-クハイム608") and not broken_number_block(
        "東平2071-2パークハイム608"
    )


def test_building_gap_is_closed_and_postal_spelling_taken() -> None:
    assert close_building_gap("下高柳37\u3000コーポ604") == "下高柳37コーポ604"
    assert close_building_gap("1796番地 サンハイツ708号室") == "1796番地サンハイツ708号室"
    assert close_building_gap("東京都\u3000新宿区") == "東京都\u3000新宿区"  # only after a number
    assert same_spelling("箱根ヶ崎", "箱根ケ崎") and same_spelling("佐久穗町", "佐久穂町")
    # 〒190-1221: 東京都西多摩郡瑞穂町 箱根ケ崎. ヶ and 穗 give way to the record's spelling.
    fixed, issue = snap_address_prefix("1901221", "西多摩郡瑞穗町箱根ヶ崎2473")
    assert fixed == "西多摩郡瑞穂町箱根ケ崎2473" and issue is None


def test_vu_takes_its_small_vowel_in_an_address() -> None:
    assert small_after_vu("堺市南区別所2473-4カーサヴイラ404") == "堺市南区別所2473-4カーサヴィラ404"
    assert small_after_vu("ヴアンヴエールヴオーグ") == "ヴァンヴェールヴォーグ"
    assert small_after_vu("シャトーヴィラ505") == "シャトーヴィラ505"  # already small
    assert small_after_vu("ハイツウイング") == "ハイツウイング"  # only after ヴ
    # In an address, the katakana runs (the building) get it with the other small-kana rules.
    assert fold_address_digits("別所2473-4カーサヴイラ404") == "別所2473-4カーサヴィラ404"


def _address_job() -> Job:
    return Job("address", "text", np.zeros((1, 1)), Constraint("address"), kind="text_ja")


def _address_joined(
    labels: tuple[str, ...], frames: list[dict[str, float]], read_as: str
) -> tuple[Reading, set[str]]:
    """address_join on the reading of `frames` (which the recogniser reads as `read_as`): what it
    makes of it, and the fields it flags."""
    probs = _matrix(labels, frames)
    reading = _reading(probs, labels, "address")
    assert reading.text == read_as
    flags = passes.new_flags()
    return passes.address_join(_address_job(), probs, labels, reading, None, flags), flags["address_join"]


def test_a_letter_at_the_room_number_becomes_the_digit_and_the_field_goes_to_review() -> None:
    labels = ("", "コ", "ー", "ポ", "L", "6", "0", "4", "1")
    frames = [{"コ": 0.99}, {"ー": 0.99}, {"ポ": 0.99}, {"L": 0.6, "6": 0.3}, {"0": 0.99}, {"4": 0.99}]
    fixed, flagged = _address_joined(labels, frames, "コーポL04")
    assert fixed.text == "コーポ604" and flagged == {"address"}
    assert fixed.confidence <= passes.DISAGREE_CONFIDENCE


def test_a_real_kana_before_a_room_number_is_left_alone() -> None:
    labels = ("", "パ", "ー", "ク", "1", "0", "7")
    frames = [{"パ": 0.99}, {"ー": 0.99}, {"ク": 0.98, "7": 0.01}, {"1": 0.99}, {"0": 0.99}, {"1": 0.99}]
    probs = _matrix(labels, frames)
    reading = _reading(probs, labels, "address")
    flags = passes.new_flags()
    assert passes.address_join(_address_job(), probs, labels, reading, None, flags) is reading
    assert flags["address_join"] == set()
    # ...but a ク the recogniser half read as 7 is the 7 (708 → ク08).
    frames[2] = {"ク": 0.5, "7": 0.4}
    probs = _matrix(labels, frames)
    fixed = passes.address_join(
        _address_job(), probs, labels, _reading(probs, labels, "address"), None, flags
    )
    assert fixed.text == "パー7101" and flags["address_join"] == {"address"}


# --------------------------------------------------------------------------- facility names


def test_facility_ending_is_read_against_the_built_in_endings() -> None:
    labels = ("", *"あさひ保育所園こどとも")
    # 育 was written faintly and lost: あさひ保所.
    probs = _matrix(labels, [{c: 0.99} for c in "あさひ保"] + [{"育": 0.2}, {"所": 0.99}])
    free = _reading(probs, labels, "name")
    assert free.text == "あさひ保所"
    fixed = match_suffix(probs, labels, free)
    assert fixed is not None and fixed.text == "あさひ保育所"
    assert fixed.chars[4].prob < 0.9  # the repaired characters carry their own doubt
    # Writing that plainly says something else is left alone.
    probs = _matrix(labels, [{c: 0.99} for c in "あさひ"])
    assert match_suffix(probs, labels, _reading(probs, labels, "name")) is None
    job = Job("facility_1", "text", np.zeros((1, 1)), Constraint("name"), kind="text_ja")
    assert passes.is_facility_job(job) and not passes.is_facility_job(_address_job())


def test_a_kana_ending_written_like_kanji_is_read_through_its_look_alikes() -> None:
    labels = ("", *"坂保育儿一人ルーム")
    # 保育ルーム written so that ル reads 儿 (0.94 to 0.056), ー reads 一 (0.98 to 0.002) and ム
    # reads 人 (0.44 to 0.30): counted alone, ルーム is 9 nats behind, beyond any bonus.
    frames = [{"坂": 0.99}, {"保": 0.99}, {"育": 0.99}, {"儿": 0.94, "ル": 0.056}]
    frames += [{"一": 0.98, "ー": 0.002}, {"人": 0.44, "ム": 0.30}]
    probs = _matrix(labels, frames)
    free = _reading(probs, labels, "name")
    assert free.text == "坂保育儿一人"
    own = log_likelihoods(probs, labels, ["坂保育儿一人", "坂保育ルーム"])
    merged = log_likelihoods(probs, labels, ["坂保育儿一人", "坂保育ルーム"], {"ル": "儿", "ー": "一"})
    assert own[1] < own[0] - 8 and merged[1] > merged[0] - 1 and merged[0] == own[0]
    fixed = match_suffix(probs, labels, free)
    assert fixed is not None and fixed.text == "坂保育ルーム"
    # The recogniser did not itself favour ルーム: the repaired characters go to a person.
    assert fixed.chars[0] == free.chars[0] and max(c.prob for c in fixed.chars[3:]) < 0.01


def test_a_doubtful_dakuten_in_a_facility_word_is_read_against_common_words() -> None:
    labels = ("", *"市立あさひびかりる保育園所")
    # あさび: び 0.7 to ひ 0.27. あさひ is a common name word: read so, but only for review.
    probs = _matrix(labels, [{c: 0.99} for c in "あさ"] + [{"び": 0.7, "ひ": 0.27}, {"保": 0.99}])
    free = _reading(probs, labels, "name")
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "あさひ保"
    assert fixed.chars[:2] == free.chars[:2] and fixed.chars[3] == free.chars[3]
    assert fixed.chars[2].prob < 0.5
    # Plainly written, the other kana stands: ひかる is not ひかり.
    probs = _matrix(labels, [{"ひ": 0.99}, {"か": 0.99}, {"る": 0.98, "り": 0.001}, {"保": 0.99}])
    assert match_words(probs, labels, _reading(probs, labels, "name")) is None
    # Only the start of a hiragana run is a word's place, and a known word there is left alone.
    probs = _matrix(labels, [{c: 0.99} for c in "市立ひかりあさび"])
    assert match_words(probs, labels, _reading(probs, labels, "name")) is None
    # A facility field reads its words and then its ending.
    job = Job("facility_1", "text", np.zeros((1, 1)), Constraint("name"), kind="text_ja")
    rows = [{"び": 0.7, "ひ": 0.27}, {"か": 0.99}, {"り": 0.99}, {"保": 0.99}, {"育": 0.2}, {"園": 0.99}]
    probs = _matrix(labels, rows)
    free = _reading(probs, labels, "name")
    assert free.text == "びかり保園"
    out = passes.facility_suffix(job, probs, labels, free, None, passes.new_flags())
    assert out.text == "ひかり保育園" and out.chars[0].prob < 0.5


def test_a_facility_word_read_as_a_look_alike_kanji_gets_the_larger_bonus() -> None:
    from pipeline.ocr import lexicon

    labels = ("", *"二とこばひかりい乳児保育園")

    def probs_for(kana: float) -> np.ndarray:
        # こば written so that the recogniser reads one 二; こ and ば keep a little probability
        frames = [{"二": 0.8, "こ": kana}, {"ば": kana * 2}, {"と": 0.99}]
        return _matrix(labels, frames + [{c: 0.99} for c in "乳児保育園"])

    probs = probs_for(0.03)  # こばと is 6 nats less likely than 二と: past a word's 4-nat bonus
    free = _reading(probs, labels, "name")
    assert free.text == "二と乳児保育園"
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "こばと乳児保育園"
    assert min(c.prob for c in fixed.chars[:2]) < 0.5  # supplied by the word: for review
    assert fixed.chars[2:] == free.chars[1:]
    # no reading so far off is taken: 8 nats is past the larger bonus too
    far = probs_for(0.01)
    assert match_words(far, labels, _reading(far, labels, "name")) is None
    # the larger bonus is what takes it back
    assert lexicon.WORD_BONUS_NATS < 6 < lexicon.MISREAD_BONUS_NATS


# --------------------------------------------------------------------------- kana


def test_a_kana_dropped_from_a_facility_word_is_put_back_for_review() -> None:
    labels = ("", *"もみじ保育")
    # もみじ read もじ: み is a faint blip the best path skips. The word with it is likelier with
    # the bonus; what was put back carries how sure the writing alone is of it.
    rows = [{"も": 0.99}, {"み": 0.3}, {"じ": 0.99}, {"保": 0.99}, {"育": 0.99}]
    probs = _matrix(labels, rows)
    free = _reading(probs, labels, "name")
    assert free.text == "もじ保育"
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "もみじ保育" and len(fixed.chars) == 5
    assert fixed.chars[0] == free.chars[0] and fixed.chars[2:] == free.chars[1:]
    assert fixed.chars[1].prob < 0.5
    # A stray mark read between a word's kana (なかよ比し): the word without it, for review.
    labels = ("", *"なかよし比保育")
    rows = [{c: 0.99} for c in "なかよ"] + [{"比": 0.6}] + [{c: 0.99} for c in "し保育"]
    probs = _matrix(labels, rows)
    free = _reading(probs, labels, "name")
    assert free.text == "なかよ比し保育"
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "なかよし保育" and fixed.chars[3].prob < 0.9
    labels = ("", *"もみじ保育")
    # With no trace of み at all, the reading stands.
    probs = _matrix(labels, [{"も": 0.99}, {"じ": 0.99}, {"保": 0.99}, {"育": 0.99}])
    assert match_words(probs, labels, _reading(probs, labels, "name")) is None


def test_a_name_word_misread_as_kanji_or_digits_is_read_against_the_words() -> None:
    # こばと written so that こば reads as 二 (0.6, こ 0.2, ば 0.15): the word the name begins with
    # is two edits from the reading, beyond the hiragana-run repairs, and is put back for review.
    labels = ("", *"二こばと乳児保育園市立さく51ら")
    rows = [{"二": 0.6, "こ": 0.2}, {"ば": 0.15}, {"と": 0.99}] + [{c: 0.99} for c in "乳児保育園"]
    probs = _matrix(labels, rows)
    free = _reading(probs, labels, "name")
    assert free.text == "二と乳児保育園"
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "こばと乳児保育園"
    assert fixed.chars[-5:] == free.chars[-5:] and min(c.prob for c in fixed.chars[:2]) < 0.5
    # After an owner prefix: ひかり read ひい (か faint, り read い), two edits away.
    labels = ("", *"市立ひかりい乳児保育園")
    rows = [{c: 0.99} for c in "市立ひ"] + [{"か": 0.3}, {"い": 0.6, "り": 0.3}]
    probs = _matrix(labels, rows + [{c: 0.99} for c in "保育園"])
    free = _reading(probs, labels, "name")
    assert free.text == "市立ひい保育園"
    fixed = match_words(probs, labels, free)
    assert fixed is not None and fixed.text == "市立ひかり保育園"
    labels = ("", *"二こばと乳児保育園")
    # Plainly written, another name stands: 二と is not こばと without any trace of こ or ば.
    probs = _matrix(labels, [{"二": 0.99}, {"と": 0.99}] + [{c: 0.99} for c in "乳児保育園"])
    assert match_words(probs, labels, _reading(probs, labels, "name")) is None


def test_a_doubtful_dakuten_is_chosen_by_the_crop_and_the_name_model() -> None:
    labels = ("", *"スズキサチエ")
    # ズ read as ス, with ズ close behind: names spell スズ far more often than スス.
    probs = _matrix(labels, [{"ス": 0.99}, {"ス": 0.5, "ズ": 0.45}, {"キ": 0.99}])
    free = _reading(probs, labels, "furigana")
    assert free.text == "ススキ"
    fixed = fix_voicing(probs, labels, free)
    assert fixed is not None and fixed.text == "スズキ" and fixed.chars[1].prob < 0.6
    assert name_logprob("スズキ") > name_logprob("ススキ")
    # A confident kana is never varied.
    probs = _matrix(labels, [{"ス": 0.99}, {"ス": 0.99}, {"キ": 0.99}])
    assert fix_voicing(probs, labels, _reading(probs, labels, "furigana")) is None


def test_a_free_reading_that_is_a_dictionary_reading_keeps_its_support() -> None:
    # 松沢 reads マツザワ or マツサワ: the writing (ザ) decides, the dictionary's order does not.
    labels = ("", *"マツザサワ")
    probs = _matrix(labels, [{"マ": 0.99}, {"ツ": 0.99}, {"ザ": 0.9, "サ": 0.08}, {"ワ": 0.99}])
    free = Reading("マツザワ", tuple(Char(c, 0.9) for c in "マツザワ"))
    assert read_with_name(probs, labels, free, "松沢") is None


def test_text_ja_brackets_rules_and_facility_slips() -> None:
    from pipeline.forms.template import FieldSpec
    from pipeline.normalize.text import text_ja

    spec = FieldSpec(name="sibling_info", label="兄弟", kind="text_ja", box=(0.0, 0.0, 1.0, 1.0))
    assert text_ja(spec, "清一(市立みどり保育園)").value == "清一（市立みどり保育園）"
    assert text_ja(spec, "年宏（山宮保育團）").value == "年宏（山宮保育園）"
    assert text_ja(spec, "船引町こども園------____").value == "船引町こども園"
    assert text_ja(spec, "サービスセンター").value == "サービスセンター"  # one ー is a long vowel


def test_no_before_a_number_is_a_digit_and_addresses_end_without_a_full_stop() -> None:
    from pipeline.forms.template import FieldSpec
    from pipeline.normalize.text import text_ja

    assert join_suspects("鹿1406番地18ハイムノ003") == [(12, True)]
    assert join_suspects("湯船1407-ノ6") == [(7, True)]
    assert join_suspects("丸山ノ内善之丞組679") == []
    spec = FieldSpec(name="address", label="住所", kind="text_ja", box=(0.0, 0.0, 1.0, 1.0))
    assert text_ja(spec, "真栄三条1194-6緑ハウス101。").value == "真栄三条1194-6緑ハウス101"


def test_a_dakuten_the_dictionary_alone_knows_still_gets_its_bonus() -> None:
    # 千鶴 is read チヅル only: a faint ヅ read as ツ is restored, for review.
    labels = ("", *"クドウチツヅル")
    frames = [{"ク": 0.99}, {"ド": 0.99}, {"ウ": 0.99}, {"チ": 0.99}, {"ツ": 0.8, "ヅ": 0.15}, {"ル": 0.99}]
    probs = _matrix(labels, frames)
    free = Reading("クドウチツル", tuple(Char(c, 0.8) for c in "クドウチツル"))
    helped = read_with_name(probs, labels, free, "工藤千鶴")
    assert helped is not None and helped.text == "クドウチヅル" and helped.chars[4].prob < 0.5


def test_voicing_never_takes_a_mark_away() -> None:
    labels = ("", *"ダタイゴコ")
    # ダ read with some doubt: the name model might prefer タ, but a dakuten is not taken away.
    probs = _matrix(labels, [{"ダ": 0.6, "タ": 0.35}, {"イ": 0.99}, {"ゴ": 0.99}])
    assert fix_voicing(probs, labels, _reading(probs, labels, "furigana")) is None


def test_an_address_is_parted_at_the_gap_before_its_building() -> None:
    h = 20
    mask = np.zeros((h, 400), bool)
    for x in range(0, 150, 15):  # town and number: characters 10 px wide, 5 px apart
        mask[:, x : x + 10] = True
    for x in range(170, 300, 15):  # the building, after a 15 px (0.75 height) gap
        mask[:, x : x + 10] = True
    assert inkmod.segment_gap(mask) == 145 + 25 // 2
    tight = np.zeros((h, 400), bool)
    for x in range(0, 300, 15):
        tight[:, x : x + 10] = True
    assert inkmod.segment_gap(tight) is None  # gaps between characters only
    lone = mask.copy()
    lone[:, 170:] = False
    lone[:, 170:180] = True  # one character after the gap is no segment
    assert inkmod.segment_gap(lone) is None


def test_a_digit_before_a_long_vowel_mark_is_a_misread_katakana() -> None:
    assert choon_suspects("東平2071-21ークハイム608") == [8]
    assert choon_suspects("東平2071-2パークハイム608") == []
    assert choon_suspects("本町1-2ー3") == []  # a dash between digits
    labels = ("", "1", "パ", "ハ", "ー", "ク", "6", "0", "8")
    frames = [{"1": 0.6, "パ": 0.3, "ハ": 0.05}, {"ー": 0.99}, {"ク": 0.99}, {"6": 0.99}, {"0": 0.99}]
    fixed, flagged = _address_joined(labels, frames, "1ーク60")
    assert fixed.text == "パーク60" and flagged == {"address"}
    assert fixed.confidence <= passes.DISAGREE_CONFIDENCE


def test_the_postal_record_town_gives_ascii_digits() -> None:
    # 〒518-0433 三重県名張市 つつじが丘北３番町 (Japan Post writes the 3 full width).
    fixed, issue = snap_address_prefix("5180433", "三重県名張市つつじが丘北3番町12番地")
    assert fixed == "三重県名張市つつじが丘北3番町12番地" and issue is None
    fixed, issue = snap_address_prefix("5180433", "三重県名張市つつじが丘此3番町12番地")
    assert fixed == "三重県名張市つつじが丘北3番町12番地" and issue is not None


def test_place_words_come_from_the_town_and_the_city_of_the_address() -> None:
    words = place_words("大分県日田市大鶴本町1488-20")
    assert {"大鶴", "大鶴本", "鶴本町", "日田"} <= set(words)
    assert not any(ch.isdigit() for w in words for ch in w)
    # 丁目 and the house number are not place words; a town with a numeral in its name keeps it.
    assert "一丁" not in place_words("東京都東久留米市新川町一丁目18-20")
    assert "三田" in place_words("兵庫県三田市三田町2-1")
    assert place_words("") == []


def test_kana_look_alikes_are_one_table_for_merging_and_for_endings() -> None:
    # A kana field merges every look-alike of ー; an ending credits each kana with its own.
    longs = {src for src, kana in KANA_LOOKALIKES.items() if kana == "ー"}
    assert {src for src, dst in MERGES["kana"].items() if dst == "ー"} == longs
    assert set(KANA_LOOKALIKE_SOURCES["ー"]) == longs and {"一", "－", "—"} <= longs
    assert KANA_LOOKALIKE_SOURCES["ル"] == "儿"


def test_a_facility_name_of_the_common_make_is_told_from_a_misread_one() -> None:
    places = place_words("東京都青梅市裏宿町12-3")
    for name in ("市立ひかり保育園", "なかよしの森保育園", "わかば乳児保育園", "市立ひまわり認定こども園"):
        assert composed_facility_name(name), name
    assert composed_facility_name("裏宿町第一こども園", places)
    assert not composed_facility_name("裏宿町第一こども園")  # a place only the page's address names
    # A misread word, a lost ending, joiners alone, an ending alone: none is of the make.
    for name in (
        "市立心じ（）了乳児保育園",
        "ひかり保育",
        "北保育園",
        "第一の森保育園",
        "保育園",
        "市立保育園",
        "",
    ):
        assert not composed_facility_name(name), name


def test_place_words_take_the_city_whole_from_the_postal_list() -> None:
    # 四日市市 and 十日町市 hold 市 and 町 inside their names: cut at the first one, the city
    # word was 四日 and the town started with 市.
    words = place_words("三重県四日市市富田3-1")
    assert "四日市" in words and "富田" in words and "市富" not in words
    words = place_words("十日町市高田町5")
    assert "十日町" in words and "高田町" in words and "市高" not in words
    assert split_city("三重県四日市市富田") == ("三重県四日市市", "富田")
    # A city not in the list (misread) is cut at its first 市.
    assert split_city("架空県謎市ほげ町") is None
    assert "ほげ町" in place_words("架空県謎市ほげ町1")


def test_a_value_read_twice_is_offered_once() -> None:
    chars = tuple(Char(c, 0.9) for c in "山山田花子")
    once = read_once(Reading("山山田花子", chars))
    assert once is not None and once.text == "山田花子" and len(once.chars) == 4
    twice = read_once(Reading("青葉商事青葉商事株式会社", ()))
    assert twice is not None and twice.text == "青葉商事株式会社"
    assert read_once(Reading("すくすく保育園", ())) is None


def test_a_facility_named_after_the_district_is_read_with_the_address_words() -> None:
    labels = ("", *"東平松認定こども園市立限隈武北保育")
    # 東平認定こども園 with 平 written faintly and lost: 東認定こども園.
    probs = _matrix(labels, [{"東": 0.99}, {"平": 0.15}] + [{c: 0.99} for c in "認定こども園"])
    free = _reading(probs, labels, "name")
    assert free.text == "東認定こども園"
    fixed = match_place(probs, labels, free, place_words("埼玉県東松山市東平2071-2"))
    assert fixed is not None and fixed.text == "東平認定こども園"
    assert fixed.chars[0] == free.chars[0] and fixed.chars[1].prob < 0.9
    # 武隈 read 武限 (隈 0.3 to 限 0.6), after 市立: the district mends it.
    probs = _matrix(
        labels, [{c: 0.99} for c in "市立武"] + [{"限": 0.6, "隈": 0.3}] + [{c: 0.99} for c in "北保育園"]
    )
    free = _reading(probs, labels, "name")
    fixed = match_place(probs, labels, free, place_words("宮城県岩沼市武隈1028"))
    assert fixed is not None and fixed.text == "市立武隈北保育園"
    # A name plainly written otherwise stands, and so does one already starting with the district.
    probs = _matrix(labels, [{c: 0.99} for c in "松北保育園"])
    assert (
        match_place(probs, labels, _reading(probs, labels, "name"), place_words("埼玉県東松山市東平1"))
        is None
    )
    probs = _matrix(labels, [{c: 0.99} for c in "東平保育園"])
    assert (
        match_place(probs, labels, _reading(probs, labels, "name"), place_words("埼玉県東松山市東平1"))
        is None
    )
    # A district read only in part: its first two kanji, the third misread (台 as 乙).
    labels = ("", *"高見台乙保育園")
    probs = _matrix(
        labels, [{"高": 0.99}, {"見": 0.99}, {"乙": 0.5, "台": 0.4}] + [{c: 0.99} for c in "保育園"]
    )
    free = _reading(probs, labels, "name")
    assert free.text == "高見乙保育園"
    fixed = match_place(probs, labels, free, place_words("千葉県船橋市高見台本町3-1"))
    assert fixed is not None and fixed.text == "高見台保育園"
    # The district spelt with ヶ where the writer wrote ケ is the same name: the writer's stands.
    labels = ("", *"旭ケヶ丘保育園")
    probs = _matrix(labels, [{"旭": 0.99}, {"ケ": 0.6, "ヶ": 0.35}] + [{c: 0.99} for c in "丘保育園"])
    free = _reading(probs, labels, "name")
    assert free.text == "旭ケ丘保育園"
    assert match_place(probs, labels, free, place_words("千葉県船橋市旭ヶ丘3-1")) is None


def test_a_facility_names_ending_is_its_longest_built_in_one() -> None:
    assert ending_of("市立さくら認定こども園") == "認定こども園"  # not こども園 alone
    assert ending_of("ひかり乳児保育園") == "乳児保育園"
    assert ending_of("ひかり学園") == ""
